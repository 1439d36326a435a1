/** Flags and environment variables -> configuration, and the configuration's own checks. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseFlags, resolveConfig } from '../src/index.js';
import { parseDuration, parseSize } from '@component-sandbox/host';

const argv = (...args: string[]) => ['node', 'component-sandbox-http', ...args];
const MiB = 1024 * 1024;
const quiet = { writeOut: () => {}, writeErr: () => {} };

describe('parseFlags', () => {
  it('reads flags', () => {
    const config = resolveConfig(
      parseFlags(
        argv(
          '--port',
          '9000',
          '--host',
          '::1',
          '-k',
          'key-one-123456',
          '--api-key',
          'key-two-123456',
          '--timeout',
          '2s',
          '--max-timeout',
          '1m',
          '--memory',
          '32MiB',
          '--memory-limits',
          '32MiB,64MiB',
          '--max-sessions',
          '5',
          '--session-ttl',
          '90s',
          '--max-concurrent-runs',
          '3',
          '--max-queued-runs',
          '0',
          '--queue-timeout',
          '250ms',
          '--body-limit',
          '64KiB',
          '--max-code',
          '10KiB',
          '--pool-size',
          '0',
          '--default-language',
          'javascript',
          '--guest',
          'python=/opt/python-guest',
          '--no-warmup',
          '--log-level',
          'warn',
        ),
        {},
      ),
    );
    expect(config).toMatchObject({
      port: 9000,
      host: '::1',
      apiKeys: ['key-one-123456', 'key-two-123456'],
      defaultTimeoutMs: 2000,
      maxTimeoutMs: 60_000,
      defaultMemoryLimitBytes: 32 * MiB,
      memoryLimitsBytes: [32 * MiB, 64 * MiB],
      maxSessions: 5,
      sessionTtlMs: 90_000,
      maxConcurrentRuns: 3,
      maxQueuedRuns: 0,
      queueTimeoutMs: 250,
      bodyLimitBytes: 64 * 1024,
      maxCodeBytes: 10 * 1024,
      poolSize: 0,
      defaultLanguage: 'javascript',
      guestDirs: { python: '/opt/python-guest' },
      warmup: false,
      logLevel: 'warn',
    });
  });

  it('reads SANDBOX_HTTP_* variables; flags win over them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-keys-'));
    const keysFile = join(dir, 'keys');
    writeFileSync(keysFile, '# team keys\nfile-key-1234567\n\nfile-key-7654321\n');
    const env = {
      SANDBOX_HTTP_PORT: '7000',
      SANDBOX_HTTP_API_KEYS: 'env-key-1234567,env-key-7654321',
      SANDBOX_HTTP_API_KEYS_FILE: keysFile,
      SANDBOX_HTTP_MAX_SESSIONS: '7',
      SANDBOX_HTTP_GUEST_JAVASCRIPT: '/opt/js-guest',
    };
    const config = resolveConfig(parseFlags(argv('--max-sessions', '9'), env));
    expect(config.port).toBe(7000);
    expect(config.apiKeys).toEqual(['env-key-1234567', 'env-key-7654321', 'file-key-1234567', 'file-key-7654321']);
    expect(config.maxSessions).toBe(9);
    expect(config.guestDirs).toEqual({ javascript: '/opt/js-guest' });
  });

  it('refuses bad values with commander errors (the bin exits 2)', () => {
    for (const args of [
      ['--timeout', 'soon'],
      ['--memory', 'lots'],
      ['--port', '70000'],
      ['--default-language', 'cobol'],
      ['--guest', 'ruby=/x'],
      ['--max-sessions', '0'],
      ['--unknown-flag'],
    ]) {
      expect(() => parseFlags(argv(...args), {}, quiet), args.join(' ')).toThrow();
    }
  });
});

describe('resolveConfig', () => {
  it('has safe defaults: loopback, 1 MiB bodies, 5 s calls, 20 MiB memory', () => {
    const config = resolveConfig();
    expect(config).toMatchObject({
      host: '127.0.0.1',
      apiKeys: [],
      bodyLimitBytes: MiB,
      defaultTimeoutMs: 5000,
      defaultMemoryLimitBytes: 20 * MiB,
      defaultLanguage: 'python',
    });
    expect(config.maxQueuedRuns).toBeGreaterThan(0);
  });

  it('always allows the default memory limit', () => {
    expect(
      resolveConfig({ defaultMemoryLimitBytes: 48 * MiB, memoryLimitsBytes: [20 * MiB] }).memoryLimitsBytes,
    ).toEqual([20 * MiB, 48 * MiB]);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      resolveConfig({ host: '0.0.0.0', defaultTimeoutMs: 9000, maxTimeoutMs: 1000, apiKeys: [], maxSessions: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/maxSessions must be a positive integer/);
    expect(message).toMatch(/default timeout/);
    expect(message).toMatch(/without API keys/);
  });

  it('refuses short API keys', () => {
    expect(() => resolveConfig({ apiKeys: ['short'] })).toThrow(/at least 8 characters/);
  });
});

describe('units', () => {
  it('parses durations and sizes', () => {
    expect(parseDuration('1500')).toBe(1500);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseSize('20MiB')).toBe(20 * MiB);
    expect(parseSize('512 KiB')).toBe(512 * 1024);
    expect(parseSize('1000')).toBe(1000);
    expect(() => parseDuration('-1s')).toThrow();
    expect(() => parseSize('1XB')).toThrow();
  });
});

/**
 * The settings table end to end: every flag and every variable reaches the resolved config, a
 * flag wins over its variable, bad values make the bin exit 2 with a message, `--help` and the
 * README say what the table says.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import prettier from 'prettier';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFlags, resolveConfig, SETTINGS, type ServerConfig, type SettingKey } from '../src/index.js';
import { envName } from '../src/settings.js';
import { replaceSettingsSection } from '../src/settings-doc.js';
import { runBin, startBin } from './bin.js';

const argv = (...args: string[]) => ['node', 'component-sandbox-http', ...args];
const MiB = 1024 * 1024;
const KEY = 'a-long-key-123';

/**
 * One non-default text per setting and the value it must give. Typed over every key of the
 * table, so a new setting without a case here does not compile.
 */
const CASES: { [K in SettingKey]: { text: string; value: ServerConfig[K]; also?: Partial<ServerConfig> } } = {
  host: { text: '::1', value: '::1' },
  port: { text: '9000', value: 9000 },
  apiKeys: { text: KEY, value: [KEY] },
  apiKeysFile: { text: '/dev/null', value: '/dev/null' },
  defaultLanguage: { text: 'javascript', value: 'javascript' },
  guestDirs: { text: 'python=/opt/python-guest', value: { python: '/opt/python-guest' } },
  bodyLimitBytes: { text: '64KiB', value: 64 * 1024 },
  maxCodeBytes: { text: '10KiB', value: 10 * 1024 },
  maxStatements: { text: '5', value: 5 },
  maxOutputBytes: { text: '1MiB', value: MiB },
  maxResultBytes: { text: '2MiB', value: 2 * MiB },
  defaultTimeoutMs: { text: '2s', value: 2000 },
  maxTimeoutMs: { text: '1m', value: 60_000, also: { idleTimeoutMs: 5 * 60_000 } },
  defaultMemoryLimitBytes: { text: '32MiB', value: 32 * MiB },
  // The default memory limit (20 MiB) is always allowed as well.
  memoryLimitsBytes: { text: '32MiB,64MiB', value: [20 * MiB, 32 * MiB, 64 * MiB] },
  tmpLimitBytes: { text: '4MiB', value: 4 * MiB },
  // Checked at start-up: it must be a directory that exists.
  packagesDir: { text: tmpdir(), value: tmpdir() },
  functionsModule: { text: './tools.mjs', value: './tools.mjs' },
  maxHostCalls: { text: '50', value: 50 },
  maxSessions: { text: '5', value: 5 },
  maxSessionsPerKey: { text: '3', value: 3 },
  sessionTtlMs: { text: '90s', value: 90_000 },
  rateLimit: { text: '600', value: 600 },
  maxRunsPerKey: { text: '4', value: 4 },
  maxConcurrentRuns: { text: '3', value: 3 },
  maxQueuedRuns: { text: '0', value: 0 },
  queueTimeoutMs: { text: '250ms', value: 250 },
  requestTimeoutMs: { text: '7s', value: 7000 },
  idleTimeoutMs: { text: '3m', value: 180_000 },
  keepAliveTimeoutMs: { text: '1s', value: 1000 },
  shutdownTimeoutMs: { text: '10s', value: 10_000 },
  poolSize: { text: '0', value: 0 },
  store: { text: 'redis://cache.internal:6380/2', value: 'redis://cache.internal:6380/2' },
  storePrefix: { text: 'team-a:', value: 'team-a:' },
  storeWrite: { text: 'idle', value: 'idle' },
  replicaId: { text: 'replica-2', value: 'replica-2' },
  leaseTtlMs: { text: '3s', value: 3000 },
  leaseWaitMs: { text: '500ms', value: 500 },
  hotSessions: { text: '16', value: 16 },
  logLevel: { text: 'warn', value: 'warn' },
  warmup: { text: '1', value: false },
  processMetrics: { text: '1', value: false },
  tuneEngine: { text: '1', value: false },
};

const keys = Object.keys(SETTINGS) as SettingKey[];
const longFlag = (key: SettingKey) => /--[\w-]+/.exec(SETTINGS[key].flags)![0];
const flagArgs = (key: SettingKey, text: string) =>
  SETTINGS[key].flags.includes('<') ? [longFlag(key), text] : [longFlag(key)];
/** The variable for a case (`guestDirs` is set per language: its Python variable). */
const variable = (key: SettingKey) => envName(SETTINGS[key].env[0]!);
const envText = (key: SettingKey) => (key === 'guestDirs' ? '/opt/python-guest' : CASES[key].text);

describe('every setting', () => {
  it.each(keys)('%s: its flag reaches the config', (key) => {
    const config = resolveConfig({ ...CASES[key].also, ...parseFlags(argv(...flagArgs(key, CASES[key].text)), {}) });
    expect(config[key]).toEqual(CASES[key].value);
  });

  it.each(keys)('%s: its variable reaches the config', (key) => {
    const config = resolveConfig({ ...CASES[key].also, ...parseFlags(argv(), { [variable(key)]: envText(key) }) });
    expect(config[key]).toEqual(CASES[key].value);
  });

  it.each(keys.filter((key) => !SETTINGS[key].negatable))('%s: the flag wins over the variable', (key) => {
    const fromEnv = parseFlags(argv(), { [variable(key)]: envText(key) });
    const both = parseFlags(argv(...flagArgs(key, CASES[key].text)), { [variable(key)]: 'not a valid value' });
    expect(both[key]).toEqual(fromEnv[key]);
  });

  it('the Guest variables work per language, and API keys come from a list and a file', () => {
    const config = resolveConfig(
      parseFlags(argv(), {
        SANDBOX_HTTP_GUEST_JAVASCRIPT: '/opt/js',
        SANDBOX_HTTP_API_KEYS: 'key-one-123456, key-two-123456',
      }),
    );
    expect(config.guestDirs).toEqual({ javascript: '/opt/js' });
    expect(config.apiKeys).toEqual(['key-one-123456', 'key-two-123456']);
  });

  it('defaults come from the shared names', async () => {
    const { DEFAULT_MEMORY_LIMIT_BYTES, DEFAULT_TIMEOUT_MS } = await import('@component-sandbox/host');
    const config = resolveConfig();
    expect(config.defaultTimeoutMs).toBe(DEFAULT_TIMEOUT_MS);
    expect(config.defaultMemoryLimitBytes).toBe(DEFAULT_MEMORY_LIMIT_BYTES);
  });
});

describe('the bin', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it.each([
    [['--timeout', 'soon'], {}, /soon.*not a duration/],
    [['--port', '70000'], {}, /not a port/],
    [['--default-language', 'cobol'], {}, /cobol.*python, javascript/],
    [['--guest', 'ruby=/x'], {}, /LANGUAGE=ARTIFACT_DIR/],
    [['--max-sessions', '0'], {}, /positive whole number/],
    [['--unknown-flag'], {}, /unknown option/],
    // Limits the engine cannot honour: Node's timers overflow past 2^31-1 ms, wasm memory at 4 GiB.
    [['--max-timeout', '30d', '--idle-timeout', '40d'], {}, /maxTimeoutMs must be at most 2147483647ms/],
    [['--memory-limits', '20MiB,8GiB'], {}, /at most 4 GiB.*got 8 GiB/],
    [['--memory', '5GiB'], {}, /at most 4 GiB.*got 5 GiB/],
    [[], { SANDBOX_HTTP_MEMORY: 'lots' }, /SANDBOX_HTTP_MEMORY: "lots" is not a size/],
    [[], { SANDBOX_HTTP_NO_TUNE_ENGINE: 'maybe' }, /SANDBOX_HTTP_NO_TUNE_ENGINE/],
    [['--timeout', '1m', '--max-timeout', '10s'], {}, /default timeout.*above the maximum/],
    [['--host', '0.0.0.0'], {}, /without API keys/],
    [['--api-keys-file', '/nonexistent/keys'], {}, /cannot read the API keys file/],
    [['--store', 'http://cache:6379'], {}, /not a redis:\/\/ or rediss:\/\/ URL/],
    [['--store', 'redis://:hunter2@'], {}, /names no host|not a URL/],
    [['--store-write', 'sometimes'], {}, /sometimes.*call, idle/],
    [
      ['--packages', '/nonexistent/site-packages'],
      {},
      /packages directory.*\/nonexistent\/site-packages.*does not exist/,
    ],
    [[], { SANDBOX_HTTP_PACKAGES: '/dev/null' }, /packages directory.*\/dev\/null.*is not a directory/],
    [['--tmp-limit', '5GiB'], {}, /tmpLimitBytes must be at most 4 GiB.*got 5 GiB/],
  ])('%j %j: exit code 2 and a clear message', async (args, env, message) => {
    const { code, stderr } = await runBin(args, env);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('--help lists every flag and variable, with readable defaults', async () => {
    const { code, stdout } = await runBin(['--help']);
    expect(code).toBe(0);
    for (const key of keys) {
      expect(stdout).toContain(longFlag(key));
      for (const name of SETTINGS[key].env) expect(stdout).toContain(envName(name));
    }
    expect(stdout).toMatch(/default: 20 MiB/);
    expect(stdout).toMatch(/default: 5s/);
    expect(stdout).toMatch(/default: 5m/);
    expect(stdout).not.toMatch(/\b(5000|20971520|30000|300000)\b/);
  });

  it('applies tuneForLongRuns() unless --no-tune-engine or SANDBOX_HTTP_NO_TUNE_ENGINE', async () => {
    const args = ['--default-language', 'javascript', '--pool-size', '0', '--no-warmup'];
    const tuned = await startBin(args, children);
    expect(tuned.logs.find((l) => l.event === 'listening')).toMatchObject({ tuneEngine: true });
    const byFlag = await startBin([...args, '--no-tune-engine'], children);
    expect(byFlag.logs.find((l) => l.event === 'listening')).toMatchObject({ tuneEngine: false });
    const byEnv = await startBin(args, children, { SANDBOX_HTTP_NO_TUNE_ENGINE: '1' });
    expect(byEnv.logs.find((l) => l.event === 'listening')).toMatchObject({ tuneEngine: false });
  });
});

describe('README', () => {
  it('its settings section is the one generated from the table (pnpm settings-doc)', async () => {
    const path = fileURLToPath(new URL('../README.md', import.meta.url));
    const readme = await readFile(path, 'utf8');
    const options = (await prettier.resolveConfig(path)) ?? {};
    const expected = await prettier.format(replaceSettingsSection(readme), { ...options, filepath: path });
    expect(readme).toBe(expected);
  });
});

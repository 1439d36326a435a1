/** API keys over real HTTP, and the refusal to serve a non-loopback address without keys. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createServer, isLoopback, resolveConfig } from '../src/index.js';
import { startServer, type TestServer } from './helpers.js';

const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-9876543210';
const BIN = fileURLToPath(new URL('../bin/component-sandbox-http.js', import.meta.url));

describe('API keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ apiKeys: [ALICE, BOB], defaultLanguage: 'javascript' });
  });
  afterAll(() => server.close());

  const run = { expression: '2 + 2' };

  it('answers 401 MISSING_API_KEY without a key, with a Bearer challenge', async () => {
    const reply = await server.call('POST', '/v1/run', { body: run });
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({ error: { code: 'MISSING_API_KEY', message: expect.stringMatching(/Bearer/) } });
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers 401 INVALID_API_KEY for a wrong key, a near miss, or another scheme', async () => {
    for (const headers of [
      { authorization: 'Bearer wrong-key-000000000' },
      { authorization: `Bearer ${ALICE.slice(0, -1)}` },
      { authorization: `Bearer ${ALICE}x` },
      { authorization: `Basic ${Buffer.from(`u:${ALICE}`).toString('base64')}` },
    ]) {
      const reply = await server.call('POST', '/v1/run', { body: run, headers });
      expect(reply.status).toBe(401);
      expect(reply.body.error.code).toBe('INVALID_API_KEY');
    }
  });

  it('checks the key before looking at the body', async () => {
    const reply = await server.call('POST', '/v1/run', {
      raw: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(reply.status).toBe(401);
  });

  it('runs with a valid key (any of the configured ones)', async () => {
    for (const key of [ALICE, BOB]) {
      const reply = await server.call('POST', '/v1/run', { body: run, key });
      expect(reply.status).toBe(200);
      expect(reply.body.value).toBe(4);
    }
  });

  it('protects every /v1 route', async () => {
    for (const [method, path] of [
      ['GET', '/v1/languages'],
      ['POST', '/v1/sessions'],
      ['GET', '/v1/sessions/ses_x'],
      ['DELETE', '/v1/sessions/ses_x'],
      ['POST', '/v1/sessions/ses_x/exec'],
      ['POST', '/v1/sessions/ses_x/eval'],
      ['POST', '/v1/sessions/ses_x/reset'],
    ] as const) {
      expect((await server.call(method, path)).status, `${method} ${path}`).toBe(401);
    }
  });

  it('leaves health, readiness, metrics, the OpenAPI document and the playground public', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/']) {
      expect((await server.call('GET', path)).status, path).toBe(200);
    }
  });

  it("answers 404 for another key's session, and leaves it intact", async () => {
    const created = await server.call('POST', '/v1/sessions', { body: {}, key: ALICE });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await server.call('POST', `/v1/sessions/${id}/exec`, { body: { statements: 'var secret = 7' }, key: ALICE });

    for (const [method, path, body] of [
      ['GET', `/v1/sessions/${id}`, undefined],
      ['POST', `/v1/sessions/${id}/eval`, { expression: 'secret' }],
      ['POST', `/v1/sessions/${id}/exec`, { statements: 'secret = 0' }],
      ['POST', `/v1/sessions/${id}/reset`, undefined],
      ['DELETE', `/v1/sessions/${id}`, undefined],
    ] as const) {
      const reply = await server.call(method, path, { body, key: BOB });
      expect(reply.status, `${method} ${path}`).toBe(404);
      expect(reply.body.error.code).toBe('SESSION_NOT_FOUND');
    }
    const own = await server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: 'secret' }, key: ALICE });
    expect(own.body).toMatchObject({ status: 'ok', value: 7 });
  });
});

describe('binding without API keys', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', ''])
      expect(isLoopback(host)).toBe(false);
  });

  it('refuses a non-loopback host in the configuration', () => {
    expect(() => resolveConfig({ host: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => createServer({ host: '::', logLevel: 'silent' })).toThrow(/without API keys/);
    expect(() => resolveConfig({ host: '0.0.0.0', apiKeys: ['a-long-enough-key'] })).not.toThrow();
  });

  it('makes the bin exit 2 with a clear message', () => {
    const result = spawnSync(process.execPath, [BIN, '--host', '0.0.0.0', '--port', '0'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys/);
    expect(result.stdout).toBe('');
  });

  it('accepts a non-loopback host once a key is given (SANDBOX_HTTP_API_KEYS)', () => {
    // Every configuration problem is reported at once: this one has another problem (a default
    // timeout above the maximum) but no longer the missing keys. It exits before binding.
    const args = [BIN, '--host', '0.0.0.0', '--timeout', '5s', '--max-timeout', '1s'];
    const withKey = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH, SANDBOX_HTTP_API_KEYS: 'a-long-enough-key' },
    });
    expect(withKey.status).toBe(2);
    expect(withKey.stderr).toMatch(/default timeout/);
    expect(withKey.stderr).not.toMatch(/without API keys/);
    const without = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH },
    });
    expect(without.stderr).toMatch(/default timeout/);
    expect(without.stderr).toMatch(/without API keys/);
  });
});

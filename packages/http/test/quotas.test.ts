/** Per-key quotas in one process (no store): --rate-limit and --max-runs-per-key. */
import { afterAll, describe, expect, it } from 'vitest';
import { busyJs, sleep, startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

describe('per-key quotas without a store', () => {
  it('--rate-limit: requests past the limit in a minute get 429 RATE_LIMITED, per key', async () => {
    const keys = ['first-key-123', 'second-key-123'];
    const server = await startServer({ apiKeys: keys, rateLimit: 2, defaultLanguage: 'javascript' });
    servers.push(server);
    for (let i = 0; i < 2; i++) expect((await server.call('GET', '/v1/languages', { key: keys[0] })).status).toBe(200);
    const limited = await server.call('GET', '/v1/languages', { key: keys[0] });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 2, windowSeconds: 60 } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await server.call('GET', '/v1/languages', { key: keys[1] })).status).toBe(200); // another key
    expect((await server.call('GET', '/healthz')).status).toBe(200); // public routes are not counted
  });

  it('--max-runs-per-key: a key past its running calls gets 429 TOO_MANY_RUNS (scope key), others run', async () => {
    const keys = ['busy-key-1234', 'other-key-1234'];
    const server = await startServer({ apiKeys: keys, maxRunsPerKey: 1, defaultLanguage: 'javascript' });
    servers.push(server);
    const running = server.call('POST', '/v1/run', {
      key: keys[0],
      body: { statements: [busyJs(1000)], expression: '1' },
    });
    await sleep(300);
    const refused = await server.call('POST', '/v1/run', { key: keys[0], body: { expression: '2' } });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'TOO_MANY_RUNS', details: { scope: 'key', maximum: 1 } });
    expect((await server.call('POST', '/v1/run', { key: keys[1], body: { expression: '3' } })).body.value).toBe(3);
    expect((await running).body.value).toBe(1);
    expect((await server.call('POST', '/v1/run', { key: keys[0], body: { expression: '4' } })).body.value).toBe(4);
  });
});

/**
 * The Redis session store with a real redis-server and several servers in this process, each a
 * replica of its own name: sessions move between replicas with their globals (and /tmp), a hot
 * copy is never used once another replica wrote a newer version, leases, shared caps, quotas,
 * TTL as a Redis expiry, deletion everywhere, signals to the replica running a call, and clear
 * errors when Redis is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../src/index.js';
import { busyJs, findPythonGuest, sleep, startServer, type TestServer } from './helpers.js';
import { ensureDebianPackage, redisCli, startRedis, type RedisServer } from './redis-server.js';

const python = await findPythonGuest();
const missing = ensureDebianPackage('redis-server', 'redis-server');
if (missing) {
  if (process.env.CI) throw new Error(`the store tests need redis-server: ${missing}`);
  console.warn(`\n*** store tests SKIPPED: ${missing} ***\n`);
}

let redis: RedisServer;
let replicas = 0;
const servers: TestServer[] = [];

/** A replica of the store (its own name, its own prefix per test group). */
async function replica(prefix: string, overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  replicas += 1;
  const server = await startServer({
    store: redis.url,
    storePrefix: prefix,
    replicaId: `replica-${replicas}`,
    defaultLanguage: 'javascript',
    poolSize: 0,
    maxConcurrentRuns: 4,
    ...overrides,
  });
  servers.push(server);
  return server;
}

const create = async (server: TestServer, body: object = {}, key?: string) => {
  const reply = await server.call('POST', '/v1/sessions', { body, ...(key ? { key } : {}) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id as string;
};
const exec = (server: TestServer, id: string, statements: string, key?: string) =>
  server.call('POST', `/v1/sessions/${id}/exec`, { body: { statements }, ...(key ? { key } : {}) });
const evaluate = (server: TestServer, id: string, expression: string, key?: string) =>
  server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression }, ...(key ? { key } : {}) });

const metric = async (server: TestServer, name: string): Promise<number> => {
  const text = (await server.call('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`sandbox_http_${name}`) && !l.startsWith('#'));
  return line ? Number(line.split(' ').pop()) : 0;
};

describe.skipIf(missing !== undefined)('Redis session store', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.close()));
    await redis?.stop();
  });

  it('moves a session between replicas with its globals; A -> B -> A shows B changes on A', async () => {
    const [a, b] = [await replica('move:'), await replica('move:')];
    const id = await create(a);
    expect((await exec(a, id, 'var n = 1; var log = ["a"]')).body.status).toBe('ok');
    const onB = await exec(b, id, 'n += 10; log.push("b")');
    expect(onB.body).toMatchObject({ status: 'ok', session: { id, calls: 2 } });
    expect(onB.headers.get('x-replica')).toBe('replica-2');
    // A still holds its hot copy of version 2; B wrote version 3: A must restore, not reuse.
    const restoresBefore = await metric(a, 'store_restores_total');
    const back = await evaluate(a, id, 'JSON.stringify({ n, log })');
    expect(back.body).toMatchObject({ status: 'ok', value: '{"n":11,"log":["a","b"]}', session: { calls: 3 } });
    expect(await metric(a, 'store_restores_total')).toBe(restoresBefore + 1);
    // Nothing changed since: A answers from its hot copy (no restore).
    expect((await evaluate(a, id, 'n')).body.value).toBe(11);
    expect(await metric(a, 'store_restores_total')).toBe(restoresBefore + 1);
    expect(await metric(a, 'sessions_hot')).toBeGreaterThanOrEqual(1);
    expect((await b.call('GET', `/v1/sessions/${id}`)).body).toMatchObject({ id, state: 'ready', calls: 4 });
  });

  it('a replica started again with the same store serves the sessions made before', async () => {
    const first = await replica('restart:');
    const id = await create(first);
    await exec(first, id, 'var greeting = "still here"');
    await first.close();
    const second = await replica('restart:');
    expect((await evaluate(second, id, 'greeting')).body).toMatchObject({ status: 'ok', value: 'still here' });
  });

  it.skipIf(!python.dir)('Python: globals and /tmp files travel with the session', async () => {
    const overrides = { guestDirs: { python: python.dir! }, defaultLanguage: 'python' as const };
    const [a, b] = [await replica('python:', overrides), await replica('python:', overrides)];
    const id = await create(a);
    await exec(a, id, 'import json\ncount = 41\nwith open("/tmp/notes.txt", "w") as f:\n    f.write("written on A")');
    expect((await exec(b, id, 'count += 1\nopen("/tmp/notes.txt", "a").write(", then B")')).body.status).toBe('ok');
    const back = await evaluate(a, id, 'json.dumps([count, open("/tmp/notes.txt").read()])');
    expect(back.body).toMatchObject({ status: 'ok', value: '[42, "written on A, then B"]' });
    // Files put through the API are saved like calls: put on B, read on A (and the reverse).
    const put = await fetch(`${b.url}/v1/sessions/${id}/files/data/in.csv`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'a,b\n1,2\n',
    });
    expect(put.status).toBe(200);
    expect((await evaluate(a, id, 'open("/tmp/data/in.csv").read()')).body.value).toBe('a,b\n1,2\n');
    const fetched = await fetch(`${b.url}/v1/sessions/${id}/files/notes.txt`);
    expect(await fetched.text()).toBe('written on A, then B');
  });

  it('one call at a time across replicas: 409 SESSION_BUSY, or a bounded wait (--lease-wait)', async () => {
    const a = await replica('lease:');
    const b = await replica('lease:');
    const c = await replica('lease:', { leaseWaitMs: 5000 });
    const id = await create(a);
    await exec(a, id, 'var calls = 0');
    const running = exec(a, id, `${busyJs(1500)}; calls += 1`);
    await sleep(300);
    expect((await a.call('GET', `/v1/sessions/${id}`)).body.busy).toBe(true);
    const conflictsBefore = await metric(b, 'lease_conflicts_total');
    const refused = await exec(b, id, 'calls += 100');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SESSION_BUSY');
    expect(await metric(b, 'lease_conflicts_total')).toBe(conflictsBefore + 1);
    const waited = await exec(c, id, 'calls += 1000'); // waits for A's call, then runs on its result
    expect(waited.status).toBe(200);
    expect((await running).status).toBe(200);
    expect((await evaluate(b, id, 'calls')).body.value).toBe(1001);
  });

  it('a write from a call whose lease was taken over is refused (409 SESSION_MOVED), never kept', async () => {
    const a = await replica('moved:', { leaseTtlMs: 60_000 });
    const id = await create(a);
    await exec(a, id, 'var x = "before"');
    const running = exec(a, id, `${busyJs(800)}; x = "lost call"`);
    await sleep(300);
    // Another holder takes the lease (as after an expiry) and writes a newer version.
    redisCli(redis.port, 'SET', `moved:lease:${id}`, 'elsewhere token');
    redisCli(redis.port, 'HINCRBY', `moved:session:${id}`, 'version', '1');
    const answer = await running;
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('SESSION_MOVED');
    redisCli(redis.port, 'DEL', `moved:lease:${id}`);
    const b = await replica('moved:');
    expect((await evaluate(b, id, 'x')).body.value).toBe('before');
  });

  it('session caps are shared: per key and for all keys together', async () => {
    const keys = ['key-one-123456', 'key-two-123456'];
    const config = { apiKeys: keys, maxSessions: 3, maxSessionsPerKey: 2 };
    const [a, b] = [await replica('caps:', config), await replica('caps:', config)];
    await create(a, {}, keys[0]);
    await create(b, {}, keys[0]);
    const perKey = await a.call('POST', '/v1/sessions', { key: keys[0] });
    expect(perKey.status).toBe(429);
    expect(perKey.body.error).toMatchObject({ code: 'TOO_MANY_SESSIONS', details: { scope: 'key', maximum: 2 } });
    expect(Number(perKey.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const third = await create(a, {}, keys[1]);
    const all = await b.call('POST', '/v1/sessions', { key: keys[1] });
    expect(all.status).toBe(429);
    expect(all.body.error.details).toMatchObject({ scope: 'server', maximum: 3 });
    expect(await metric(a, 'sessions_live')).toBe(3);
    // Deleting one on A frees a place for B.
    expect((await a.call('DELETE', `/v1/sessions/${third}`, { key: keys[1] })).status).toBe(204);
    await create(b, {}, keys[1]);
  });

  it('the TTL is a Redis expiry; an expired session is gone on every replica', async () => {
    const [a, b] = [await replica('ttl:', { sessionTtlMs: 1500 }), await replica('ttl:', { sessionTtlMs: 1500 })];
    const id = await create(a);
    await exec(a, id, 'var kept = 1');
    const ttl = Number(redisCli(redis.port, 'PTTL', `ttl:session:${id}`));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1500);
    await sleep(2500);
    expect(redisCli(redis.port, 'EXISTS', `ttl:session:${id}`)).toBe('0');
    for (const server of [a, b]) {
      const gone = await evaluate(server, id, 'kept');
      expect(gone.status).toBe(404);
      expect(gone.body.error.code).toBe('SESSION_NOT_FOUND');
    }
    expect((await metric(a, 'sessions_expired_total')) + (await metric(b, 'sessions_expired_total'))).toBe(1);
    expect(await metric(a, 'sessions_live')).toBe(0);
  });

  it('a session deleted on one replica is gone on all, and other keys never see it', async () => {
    const keys = ['owner-key-123', 'other-key-123'];
    const [a, b] = [await replica('delete:', { apiKeys: keys }), await replica('delete:', { apiKeys: keys })];
    const id = await create(a, {}, keys[0]);
    await exec(b, id, 'var x = 1', keys[0]); // B now holds a hot copy too
    expect((await evaluate(a, id, 'x', keys[1])).status).toBe(404);
    expect((await b.call('DELETE', `/v1/sessions/${id}`, { key: keys[1] })).status).toBe(404);
    const hotOnA = await metric(a, 'sessions_hot');
    expect((await b.call('DELETE', `/v1/sessions/${id}`, { key: keys[0] })).status).toBe(204);
    for (const server of [a, b]) expect((await evaluate(server, id, 'x', keys[0])).status).toBe(404);
    await sleep(200); // the broadcast reaches A
    expect(await metric(a, 'sessions_hot')).toBe(hotOnA - 1);
  });

  it('a dead session is dead on every replica until a reset on any of them', async () => {
    const [a, b] = [await replica('dead:'), await replica('dead:')];
    const id = await create(a, { timeoutMs: 300 });
    await exec(a, id, 'var before = "x"');
    expect((await exec(a, id, 'while (true) {}')).body).toMatchObject({ status: 'timeout', sandbox: 'dead' });
    const refused = await evaluate(b, id, 'before');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SESSION_DEAD');
    const reset = await b.call('POST', `/v1/sessions/${id}/reset`);
    expect(reset.body).toMatchObject({ state: 'ready' });
    const after = await evaluate(a, id, 'typeof before');
    expect(after.body, JSON.stringify(after.body)).toMatchObject({ status: 'ok', value: 'undefined' });
  });

  it('rate limits and run slots per key are shared by the replicas', async () => {
    const key = 'quota-key-123';
    const config = { apiKeys: [key], rateLimit: 4, maxRunsPerKey: 1 };
    const [a, b] = [await replica('quota:', config), await replica('quota:', config)];
    const id = await create(a, {}, key); // request 1
    const running = exec(a, id, busyJs(1000), key); // request 2
    await sleep(300);
    const run = await b.call('POST', '/v1/run', { key, body: { expression: '1' } }); // request 3
    expect(run.status).toBe(429);
    expect(run.body.error).toMatchObject({ code: 'TOO_MANY_RUNS', details: { scope: 'key', maximum: 1 } });
    expect((await running).status).toBe(200);
    expect((await b.call('GET', '/v1/languages', { key })).status).toBe(200); // request 4
    const limited = await a.call('GET', '/v1/languages', { key }); // request 5
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('write-when-idle: the answer comes first, the next call anywhere sees the write', async () => {
    const config = { storeWrite: 'idle' as const, leaseWaitMs: 5000 };
    const [a, b] = [await replica('idle:', config), await replica('idle:', config)];
    const id = await create(a);
    for (let i = 0; i < 5; i++) expect((await exec(a, id, i === 0 ? 'var n = 1' : 'n *= 2')).status).toBe(200);
    expect((await evaluate(b, id, 'n')).body).toMatchObject({ value: 16, session: { calls: 6 } });
    expect((await evaluate(a, id, 'n')).body.value).toBe(16);
  });

  it('signals reach the replica running the call, whichever replica sends them', async () => {
    const [a, b] = [await replica('signal:'), await replica('signal:')];
    const received: string[] = [];
    a.app.sandboxContext.sessions.onSignal((sessionId, kind) => received.push(`${kind} ${sessionId}`));
    const id = await create(a);
    const session = await b.app.sandboxContext.sessions.get(id, 'anonymous');
    expect(await b.app.sandboxContext.sessions.signal(session, 'cancel')).toBe(false); // nothing runs
    const running = exec(a, id, busyJs(800));
    await sleep(300);
    expect(await b.app.sandboxContext.sessions.signal(session, 'cancel')).toBe(true);
    await sleep(100);
    expect(received).toEqual([`cancel ${id}`]);
    await running;
  });

  it('POST /v1/sessions/{id}/cancel on another replica stops the call where it runs; streaming works on any', async () => {
    const [a, b] = [await replica('cancel:'), await replica('cancel:')];
    const id = await create(a);
    await exec(a, id, 'var kept = "yes"');
    const running = exec(a, id, busyJs(20_000));
    await sleep(500);
    expect((await b.call('POST', `/v1/sessions/${id}/cancel`)).status).toBe(204);
    const stopped = await running;
    expect(stopped.status).toBe(200);
    expect(stopped.body.status).toBe('cancelled');
    expect(stopped.body.durationMs).toBeLessThan(10_000);
    // Nothing runs: a cancel is a no-op (204), on either replica.
    expect((await a.call('POST', `/v1/sessions/${id}/cancel`)).status).toBe(204);
    const revived = stopped.body.sandbox === 'dead' ? await b.call('POST', `/v1/sessions/${id}/reset`) : undefined;
    expect(revived === undefined || revived.status === 200).toBe(true);
    // The streaming form of a call, on the replica that did not make the session.
    const streamed = await fetch(`${b.url}/v1/sessions/${id}/exec`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ statements: 'console.log("line one"); console.log("line two")' }),
    });
    const lines = (await streamed.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; status?: string });
    expect(lines.filter((l) => l.type === 'stdout').length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ type: 'result', status: 'ok' });
  });

  it('without Redis: 503 STORE_UNAVAILABLE with Retry-After, no stack trace; back when Redis is', async () => {
    const a = await replica('down:');
    const id = await create(a);
    await redis.stop();
    const down = await evaluate(a, id, '1 + 1');
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('STORE_UNAVAILABLE');
    expect(down.headers.get('retry-after')).toBe('1');
    expect(down.text).not.toMatch(/\n\s+at /);
    const created = await a.call('POST', '/v1/sessions');
    expect(created.status).toBe(503);
    const ready = await a.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({ code: 'NOT_READY', message: 'the session store cannot be reached' });
    // Redis back (empty: it kept nothing): the replica reconnects by itself.
    redis = await startRedis(redis.port);
    let again = await a.call('POST', '/v1/sessions');
    for (let tries = 0; again.status === 503 && tries < 50; tries++) {
      await sleep(100);
      again = await a.call('POST', '/v1/sessions');
    }
    expect(again.status).toBe(201);
    expect((await a.call('GET', '/readyz')).status).toBe(200);
    expect((await evaluate(a, id, '1')).status).toBe(404); // that Redis kept nothing
  });
});

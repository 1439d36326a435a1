/** Sessions over real HTTP: persistence, death and reset, expiry, busy, isolation between sessions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyJs, findPythonGuest, sleep, startServer, type TestServer } from './helpers.js';

const python = await findPythonGuest();
if (!python.dir) console.warn(`\n*** python session tests ${python.reason} ***\n`);

describe('sessions, javascript', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultLanguage: 'javascript', maxConcurrentRuns: 4 });
  });
  afterAll(() => server.close());

  const create = async (body: object = {}) => {
    const reply = await server.call('POST', '/v1/sessions', { body: { language: 'javascript', ...body } });
    expect(reply.status).toBe(201);
    return reply.body.id as string;
  };
  const exec = (id: string, statements: string) =>
    server.call('POST', `/v1/sessions/${id}/exec`, { body: { statements } });
  const evaluate = (id: string, expression: string) =>
    server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression } });

  it('creates a session with its limits and expiry', async () => {
    const before = Date.now();
    const { status, body } = await server.call('POST', '/v1/sessions', {
      body: { language: 'javascript', timeoutMs: 2000 },
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      language: 'javascript',
      state: 'ready',
      busy: false,
      calls: 0,
      limits: { timeoutMs: 2000, memoryLimitBytes: 20 * 1024 * 1024 },
    });
    expect(body.id).toMatch(/^ses_[\w-]{20,}$/);
    expect(Date.parse(body.expiresAt)).toBeGreaterThanOrEqual(before + 5 * 60_000 - 1000);
  });

  it('accepts a request without a body (defaults)', async () => {
    const { status, body } = await server.call('POST', '/v1/sessions');
    expect(status).toBe(201);
    expect(body.language).toBe('javascript');
  });

  it('keeps globals: exec defines a function, eval calls it', async () => {
    const id = await create();
    const defined = await exec(id, 'function foo() { return 42 } console.log("defined")');
    expect(defined.status).toBe(200);
    expect(defined.body).toMatchObject({
      status: 'ok',
      stdout: 'defined\n',
      session: { id, state: 'ready', calls: 1 },
    });
    expect(defined.body).not.toHaveProperty('value');
    const called = await evaluate(id, 'foo()');
    expect(called.body).toMatchObject({ status: 'ok', value: 42, json: '42', session: { calls: 2 } });
  });

  it('reports guest errors as results and keeps the session usable', async () => {
    const id = await create();
    const error = await evaluate(id, 'missing');
    expect(error.status).toBe(200);
    expect(error.body).toMatchObject({ status: 'eval_error', error: { type: 'ReferenceError' } });
    const thrown = await exec(id, 'throw new RangeError("nope")');
    expect(thrown.body).toMatchObject({
      status: 'exec_error',
      error: { type: 'RangeError', message: 'RangeError: nope' },
    });
    expect((await evaluate(id, '1 + 1')).body.value).toBe(2);
  });

  it('marks a session dead after a timeout, says why, refuses calls, and revives it on reset', async () => {
    const id = await create({ timeoutMs: 500 });
    await exec(id, 'var kept = 1');
    const timedOut = await exec(id, 'while (true) {}');
    expect(timedOut.body).toMatchObject({
      status: 'timeout',
      error: { type: 'Timeout' },
      session: { state: 'dead', deadReason: { status: 'timeout' } },
    });
    const described = await server.call('GET', `/v1/sessions/${id}`);
    expect(described.body).toMatchObject({ state: 'dead', deadReason: { status: 'timeout' } });
    expect(described.body.deadReason.message).toMatch(/500 ms/);

    const refused = await evaluate(id, '1');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SESSION_DEAD');
    expect(refused.body.error.message).toMatch(/reset/);

    const reset = await server.call('POST', `/v1/sessions/${id}/reset`);
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ id, state: 'ready' });
    expect(reset.body).not.toHaveProperty('deadReason');
    expect((await evaluate(id, 'typeof kept')).body).toMatchObject({ status: 'ok', value: 'undefined' });
  });

  it('keeps a session alive after an out-of-memory error in the guest', async () => {
    const id = await create();
    const oom = await exec(id, 'var foo = new Uint8Array(100 * 1024 * 1024)');
    expect(oom.body.status).toBe('exec_error');
    expect(oom.body.error.message).toMatch(/out of memory/);
    expect((await evaluate(id, '40 + 2')).body.value).toBe(42);
  });

  it('answers 409 SESSION_BUSY to a second call while one runs', async () => {
    const id = await create();
    const slow = exec(id, busyJs(800));
    await sleep(200);
    const second = await evaluate(id, '1');
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('SESSION_BUSY');
    expect((await slow).body.status).toBe('ok');
  });

  it('runs other sessions normally while one times out (isolation)', async () => {
    const victim = await create({ timeoutMs: 1500 });
    const others = [await create(), await create()];
    await Promise.all(others.map((id, i) => exec(id, `var n = ${i * 100}`)));
    const runaway = exec(victim, 'for (;;) {}');
    const started = performance.now();
    const results = await Promise.all(
      others.map(async (id) => {
        const values: unknown[] = [];
        for (let k = 0; k < 5; k++) values.push((await evaluate(id, `n + ${k}`)).body.value);
        return values;
      }),
    );
    // All ten calls finished while the runaway was still running.
    expect(performance.now() - started).toBeLessThan(1500);
    expect(results).toEqual([
      [0, 1, 2, 3, 4],
      [100, 101, 102, 103, 104],
    ]);
    expect((await runaway).body.status).toBe('timeout');
    for (const id of others) expect((await evaluate(id, 'n >= 0')).body.value).toBe(true);
  });

  it('deletes a session; later calls get 404', async () => {
    const id = await create();
    const deleted = await server.call('DELETE', `/v1/sessions/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    for (const reply of [
      await server.call('GET', `/v1/sessions/${id}`),
      await evaluate(id, '1'),
      await server.call('DELETE', `/v1/sessions/${id}`),
    ]) {
      expect(reply.status).toBe(404);
      expect(reply.body.error.code).toBe('SESSION_NOT_FOUND');
    }
  });
});

describe('session expiry', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultLanguage: 'javascript', sessionTtlMs: 400 });
  });
  afterAll(() => server.close());

  it('closes idle sessions after the TTL, and counts them', async () => {
    const { body } = await server.call('POST', '/v1/sessions', { body: {} });
    expect((await server.call('GET', `/v1/sessions/${body.id}`)).status).toBe(200);
    await sleep(1000);
    const gone = await server.call('GET', `/v1/sessions/${body.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('SESSION_NOT_FOUND');
    const metrics = await server.call('GET', '/metrics');
    expect(metrics.text).toMatch(/^sandbox_http_sessions_expired_total 1$/m);
    expect(metrics.text).toMatch(/^sandbox_http_sessions_live 0$/m);
  });

  it('does not expire a session while a call runs on it', async () => {
    const { body } = await server.call('POST', '/v1/sessions', { body: {} });
    const call = await server.call('POST', `/v1/sessions/${body.id}/exec`, { body: { statements: busyJs(900) } });
    expect(call.status).toBe(200);
    expect(call.body.status).toBe('ok');
  });
});

describe.skipIf(!python.dir)(`sessions, python (${python.reason})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ guestDirs: { python: python.dir! } });
  });
  afterAll(() => server?.close());

  it('keeps globals: exec defines foo, eval foo() is 42', async () => {
    const created = await server.call('POST', '/v1/sessions', { body: {} });
    expect(created.body.language).toBe('python');
    const id = created.body.id as string;
    const defined = await server.call('POST', `/v1/sessions/${id}/exec`, {
      body: { statements: 'global foo\ndef foo(): return 42' },
    });
    expect(defined.body.status).toBe('ok');
    const called = await server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: 'foo()' } });
    expect(called.body).toMatchObject({ status: 'ok', value: 42 });
  });

  it('reports MemoryError as exec_error and keeps the session usable', async () => {
    const { body } = await server.call('POST', '/v1/sessions', { body: {} });
    const oom = await server.call('POST', `/v1/sessions/${body.id}/exec`, {
      body: { statements: 'global foo\nfoo = bytes(100 * 1024 * 1024)' },
    });
    expect(oom.body).toMatchObject({ status: 'exec_error', error: { type: 'MemoryError' } });
    const next = await server.call('POST', `/v1/sessions/${body.id}/eval`, { body: { expression: '2 + 2' } });
    expect(next.body.value).toBe(4);
  });

  it('keeps its globals through an interrupted timeout (state ready), and a C-level runaway dies until reset', async () => {
    const { body } = await server.call('POST', '/v1/sessions', { body: { timeoutMs: 500 } });
    await server.call('POST', `/v1/sessions/${body.id}/exec`, { body: { statements: 'x = 41' } });
    const loop = await server.call('POST', `/v1/sessions/${body.id}/exec`, {
      body: { statements: 'while True: pass' },
    });
    expect(loop.body).toMatchObject({ status: 'timeout', sandbox: 'ready', session: { state: 'ready' } });
    const kept = await server.call('POST', `/v1/sessions/${body.id}/eval`, { body: { expression: 'x + 1' } });
    expect(kept.body.value).toBe(42);
    const runaway = await server.call('POST', `/v1/sessions/${body.id}/exec`, {
      body: { statements: 'sum(range(10**12))' },
    });
    expect(runaway.body).toMatchObject({ status: 'timeout', sandbox: 'dead', session: { state: 'dead' } });
    expect((await server.call('POST', `/v1/sessions/${body.id}/reset`)).body.state).toBe('ready');
    const after = await server.call('POST', `/v1/sessions/${body.id}/eval`, { body: { expression: '2 + 2' } });
    expect(after.body.value).toBe(4);
  });

  it('forks, snapshots and restores sessions, owned by the API key like every session route', async () => {
    const { body: parent } = await server.call('POST', '/v1/sessions', { body: {} });
    await server.call('POST', `/v1/sessions/${parent.id}/exec`, { body: { statements: 'items = ["a"]' } });
    const fork = await server.call('POST', `/v1/sessions/${parent.id}/fork`);
    expect(fork.status).toBe(201);
    await server.call('POST', `/v1/sessions/${fork.body.id}/exec`, { body: { statements: 'items.append("fork")' } });
    const parentItems = await server.call('POST', `/v1/sessions/${parent.id}/eval`, { body: { expression: 'items' } });
    expect(parentItems.body.value).toEqual(['a']);

    const snapshot = await fetch(`${server.url}/v1/sessions/${fork.body.id}/snapshot`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers.get('content-type')).toBe('application/octet-stream');
    const bytes = new Uint8Array(await snapshot.arrayBuffer());
    const restored = await fetch(`${server.url}/v1/sessions/restore`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(restored.status).toBe(201);
    const { id } = (await restored.json()) as { id: string };
    const items = await server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: 'items' } });
    expect(items.body.value).toEqual(['a', 'fork']);

    const garbage = await fetch(`${server.url}/v1/sessions/restore`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { code: string } }).error.code).toBe('INVALID_SNAPSHOT');
    const javascript = await fetch(`${server.url}/v1/sessions/restore?language=javascript`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(javascript.status).toBe(400);
  });
});

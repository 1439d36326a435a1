/**
 * Hardening over real HTTP against real guests: deep values come back intact, large values are
 * capped, one request cannot hold a run slot past its budget, one API key cannot take every
 * session, and slow clients are disconnected.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyJs, findPythonGuest, startServer, type TestServer } from './helpers.js';

const python = await findPythonGuest();
if (!python.dir) console.warn(`\n*** deep Python values ${python.reason} ***\n`);

/** Depth of `[[[...]]]` without recursion (the value may be deeper than the stack allows). */
function depth(value: unknown): number {
  let levels = 0;
  let node = value;
  while (Array.isArray(node)) {
    levels += 1;
    node = node[0];
  }
  return levels;
}

describe('values', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      defaultLanguage: 'javascript',
      ...(python.dir ? { guestDirs: { python: python.dir } } : {}),
    });
  });
  afterAll(() => server.close());

  it.skipIf(!python.dir)('a Python value nested 20,000 deep comes back intact', async () => {
    const statements = ['import sys\nsys.setrecursionlimit(100000)\nglobal x\nx = []\nfor _ in range(20000): x = [x]'];
    const reply = await server.call('POST', '/v1/run', { body: { language: 'python', statements, expression: 'x' } });
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('ok');
    expect(depth(reply.body.value)).toBe(20_001);
    expect(reply.body.json).toBe(`${'['.repeat(20_001)}${']'.repeat(20_001)}`);
    // The server goes on serving.
    expect((await server.call('POST', '/v1/run', { body: { expression: '1 + 1' } })).body.value).toBe(2);
  });

  it('a JavaScript value nested deep comes back intact from a session', async () => {
    const created = await server.call('POST', '/v1/sessions', { body: {} });
    const id = created.body.id as string;
    await server.call('POST', `/v1/sessions/${id}/exec`, {
      body: { statements: 'var x = []; for (let i = 0; i < 300; i++) x = [x];' },
    });
    const reply = await server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: 'x' } });
    expect(reply.body.status).toBe('ok');
    expect(depth(reply.body.value)).toBe(301);
    expect(reply.body.session.calls).toBe(2);
  });

  it('a value above --max-result is an eval_error ResultTooLarge; the session stays usable', async () => {
    const small = await startServer({ defaultLanguage: 'javascript', maxResultBytes: 64 * 1024 });
    try {
      const created = await small.call('POST', '/v1/sessions', { body: {} });
      const id = created.body.id as string;
      const big = await small.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: "'x'.repeat(100000)" } });
      expect(big.status).toBe(200);
      expect(big.body).toMatchObject({ status: 'eval_error', error: { type: 'ResultTooLarge' } });
      expect(big.body.error.message).toMatch(/100002 bytes.*65536.*--max-result/);
      expect(big.body).not.toHaveProperty('value');
      expect(big.body.session.state).toBe('ready');
      const after = await small.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: "'x'.repeat(10)" } });
      expect(after.body).toMatchObject({ status: 'ok', value: 'xxxxxxxxxx' });
      const run = await small.call('POST', '/v1/run', { body: { expression: "'y'.repeat(70000)" } });
      expect(run.body).toMatchObject({ status: 'eval_error', error: { type: 'ResultTooLarge' } });
    } finally {
      await small.close();
    }
  });
});

describe('the time budget of one request', () => {
  it('many statements, each under its limit, cannot hold a run slot past --max-timeout', async () => {
    const server = await startServer({ defaultLanguage: 'javascript', maxTimeoutMs: 1000, defaultTimeoutMs: 1000 });
    try {
      const statements = Array.from({ length: 6 }, () => busyJs(400));
      const reply = await server.call('POST', '/v1/run', { body: { statements, expression: '"done"' } });
      expect(reply.status).toBe(200);
      expect(reply.body.status).toBe('timeout');
      expect(reply.body.error.message).toMatch(/time budget of 1000 ms/);
      expect(reply.body.failedStatement).toBeLessThan(6);
      // Within the budget, a run is untouched.
      const ok = await server.call('POST', '/v1/run', { body: { statements: [busyJs(100)], expression: '"done"' } });
      expect(ok.body).toMatchObject({ status: 'ok', value: 'done' });
    } finally {
      await server.close();
    }
  });
});

describe('sessions per API key', () => {
  it('key A at its cap does not stop key B; the server cap still holds', async () => {
    const [a, b] = ['key-a-1234567890', 'key-b-1234567890'];
    const server = await startServer({
      defaultLanguage: 'javascript',
      apiKeys: [a, b],
      maxSessionsPerKey: 2,
      maxSessions: 3,
    });
    try {
      const create = (key: string) => server.call('POST', '/v1/sessions', { key, body: {} });
      expect((await create(a)).status).toBe(201);
      expect((await create(a)).status).toBe(201);
      const refused = await create(a);
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: 'TOO_MANY_SESSIONS', details: { scope: 'key', maximum: 2 } });
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await create(b)).status).toBe(201);
      const full = await create(b);
      expect(full.status).toBe(429);
      expect(full.body.error.details).toMatchObject({ scope: 'server', maximum: 3 });
    } finally {
      await server.close();
    }
  });
});

describe('slow clients', () => {
  it('a client that trickles its body is disconnected after --request-timeout', async () => {
    const server = await startServer({ defaultLanguage: 'javascript', requestTimeoutMs: 1000 });
    try {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1');
      const body = JSON.stringify({ expression: `${'1 + '.repeat(50)}1` });
      socket.write(
        `POST /v1/run HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      let sent = 0;
      const trickle = setInterval(() => {
        if (sent < body.length && !socket.destroyed) socket.write(body[sent++]!);
      }, 100);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      await new Promise<void>((resolve) => socket.on('close', () => resolve()));
      clearInterval(trickle);
      expect(sent).toBeLessThan(body.length);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      // Other clients are served as before.
      expect((await server.call('POST', '/v1/run', { body: { expression: '2 + 2' } })).body.value).toBe(4);
    } finally {
      await server.close();
    }
  }, 30_000);
});

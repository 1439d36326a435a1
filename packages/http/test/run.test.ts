/** POST /v1/run over real HTTP: the reference examples, in JavaScript now and Python when built. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyJs, findPythonGuest, startServer, type TestServer } from './helpers.js';

const python = await findPythonGuest();
if (!python.dir) console.warn(`\n*** python run tests ${python.reason} ***\n`);

describe('POST /v1/run, javascript', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultLanguage: 'javascript' });
  });
  afterAll(() => server.close());
  const run = (body: object) => server.call('POST', '/v1/run', { body: { language: 'javascript', ...body } });

  it('evaluates 2 + 2 to 4', async () => {
    const { status, body } = await run({ expression: '2 + 2' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', value: 4, json: '4', stdout: '', stderr: '', language: 'javascript' });
    expect(body.durationMs).toBeGreaterThan(0);
    expect(body.elapsedMs).toBeGreaterThanOrEqual(body.durationMs);
    expect(body.memoryBytes).toBeGreaterThanOrEqual(9 * 1024 * 1024);
    expect(body.memoryBytes).toBeLessThanOrEqual(20 * 1024 * 1024);
  });

  it('uses the default language when none is named', async () => {
    const { body } = await server.call('POST', '/v1/run', { body: { expression: '6 * 7' } });
    expect(body).toMatchObject({ status: 'ok', value: 42, language: 'javascript' });
  });

  it('runs statements first: a function defined in one is called by the expression', async () => {
    const { body } = await run({ statements: ['function foo() { return 42 }'], expression: 'foo()' });
    expect(body).toMatchObject({ status: 'ok', value: 42 });
  });

  it('returns structured values and captured output', async () => {
    const { body } = await run({
      statements: ['console.log("hello"); console.error("warn")', 'var data = { a: [1, null, "x"] }'],
      expression: 'data',
    });
    expect(body).toMatchObject({ status: 'ok', value: { a: [1, null, 'x'] }, stdout: 'hello\n', stderr: 'warn\n' });
  });

  it('reports a runaway loop as timeout', async () => {
    const started = performance.now();
    const { status, body } = await run({ statements: ['while (true) {}'], expression: '1', timeoutMs: 500 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'timeout', failedStatement: 0, error: { type: 'Timeout' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('reports a 100 MiB allocation under the 20 MiB limit as exec_error (out of memory)', async () => {
    const { body } = await run({ statements: ['var foo = new Uint8Array(100 * 1024 * 1024)'], expression: 'foo[42]' });
    expect(body.status).toBe('exec_error');
    expect(body.failedStatement).toBe(0);
    expect(body.error.message).toMatch(/out of memory/);
  });

  it('allows the same allocation under a larger allowed memory limit', async () => {
    const { body } = await run({
      statements: ['var foo = new Uint8Array(100 * 1024 * 1024); foo[42] = 7'],
      expression: 'foo[42]',
      memoryLimitBytes: 128 * 1024 * 1024,
    });
    expect(body).toMatchObject({ status: 'ok', value: 7 });
  });

  it('tells exec errors from eval errors, with the guest exception type', async () => {
    const exec = await run({ statements: ['throw new TypeError("bad")'], expression: '1' });
    expect(exec.body).toMatchObject({ status: 'exec_error', error: { type: 'TypeError', message: 'TypeError: bad' } });
    const evaluation = await run({ expression: 'nope' });
    expect(evaluation.body).toMatchObject({
      status: 'eval_error',
      error: { type: 'ReferenceError', message: 'ReferenceError: nope is not defined' },
    });
  });

  it('runs each request in a fresh sandbox', async () => {
    await run({ statements: ['var leaked = 1'], expression: 'leaked' });
    const { body } = await run({ expression: 'typeof leaked' });
    expect(body).toMatchObject({ status: 'ok', value: 'undefined' });
  });

  it('answers other requests while one run times out', async () => {
    const runaway = run({ statements: ['while (true) {}'], expression: '1', timeoutMs: 1500 });
    const quick = await Promise.all([run({ expression: '1 + 1' }), run({ expression: '2 + 2' })]);
    expect(quick.map((r) => r.body.value)).toEqual([2, 4]);
    expect((await runaway).body.status).toBe('timeout');
  });

  it('closes the sandbox of every run', async () => {
    await run({ expression: '1' });
    const metrics = await server.call('GET', '/metrics');
    expect(metrics.text).toMatch(/^sandbox_http_sandboxes_alive 0$/m);
  });
});

describe.skipIf(!python.dir)(`POST /v1/run, python (${python.reason})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ guestDirs: { python: python.dir! } });
  });
  afterAll(() => server?.close());
  const run = (body: object) => server.call('POST', '/v1/run', { body });

  it('evaluates 2 + 2 to 4 (python is the default language)', async () => {
    const { body } = await run({ expression: '2 + 2' });
    expect(body).toMatchObject({ status: 'ok', value: 4, language: 'python' });
  });

  it('runs a global function definition, then calls it: 42', async () => {
    const { body } = await run({ statements: ['global foo\ndef foo(): return 42'], expression: 'foo()' });
    expect(body).toMatchObject({ status: 'ok', value: 42 });
  });

  it('reports while True: pass as timeout', async () => {
    const { body } = await run({
      language: 'python',
      statements: ['while True: pass'],
      expression: '1',
      timeoutMs: 500,
    });
    expect(body).toMatchObject({ status: 'timeout', failedStatement: 0 });
  });

  it('reports a 100 MiB bytes() as exec_error with MemoryError', async () => {
    const { body } = await run({
      statements: ['global foo\nfoo = bytes(100 * 1024 * 1024)'],
      expression: 'foo[42]',
    });
    expect(body.status).toBe('exec_error');
    expect(body.error.type).toBe('MemoryError');
    expect(body.error.message).toMatch(/^MemoryError/);
  });

  it('captures print output', async () => {
    const { body } = await run({ statements: ['print("hello")'], expression: '[1, "two", None]' });
    expect(body).toMatchObject({ status: 'ok', value: [1, 'two', null], stdout: 'hello\n' });
  });
});

describe('busyJs helper sanity', () => {
  it('is valid JavaScript', () => {
    expect(() => new Function(busyJs(1))).not.toThrow();
  });
});

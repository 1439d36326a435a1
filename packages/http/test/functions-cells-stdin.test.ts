/**
 * Host functions (`--functions`, GET /v1/functions), cells (POST /v1/sessions/{id}/run) and
 * stdin over HTTP, against a real server and real guests, and through the real bin.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, startBin } from './bin.js';
import { request, startServer, type TestServer } from './helpers.js';

const tools = fileURLToPath(new URL('./fixtures/tools.mjs', import.meta.url));
const broken = fileURLToPath(new URL('./fixtures/broken-tools.mjs', import.meta.url));

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ functionsModule: tools, maxHostCalls: 20 });
});
afterAll(async () => {
  await server?.close();
});

async function session(language: 'python' | 'javascript'): Promise<string> {
  const created = await server.call('POST', '/v1/sessions', { body: { language } });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

describe('GET /v1/functions', () => {
  it('lists the functions of --functions and where they run', async () => {
    const reply = await server.call('GET', '/v1/functions');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      functions: [
        { name: 'lookup', runsOn: 'executor' },
        { name: 'refuse', runsOn: 'executor' },
        { name: 'slowDouble', runsOn: 'caller' },
      ],
    });
  });

  it('lists none on a server without --functions', async () => {
    const plain = await startServer();
    try {
      expect((await plain.call('GET', '/v1/functions')).body).toEqual({ functions: [] });
    } finally {
      await plain.close();
    }
  });
});

describe('host functions over HTTP', () => {
  it('are called by guest code in one-shot runs and sessions, in both languages', async () => {
    const run = await server.call('POST', '/v1/run', {
      body: { statements: ['import host'], expression: '[lookup("ada"), host.slowDouble(21)]' },
    });
    expect(run.body).toMatchObject({ status: 'ok', value: [{ name: 'ada', letters: 3 }, 42] });
    const id = await session('javascript');
    const reply = await server.call('POST', `/v1/sessions/${id}/eval`, {
      body: { expression: 'slowDouble(lookup("abcd").letters)' },
    });
    expect(reply.body).toMatchObject({ status: 'ok', value: 8 });
  });

  it('raise HostError in the guest when they fail, or past --max-host-calls', async () => {
    const failed = await server.call('POST', '/v1/run', { body: { expression: 'refuse()' } });
    expect(failed.body.status).toBe('eval_error');
    expect(failed.body.error).toMatchObject({ type: 'HostError', message: 'HostError: refused by the host' });
    const flood = await server.call('POST', '/v1/run', {
      body: { statements: ['for i in range(100):\n    lookup("x")'], expression: '1' },
    });
    expect(flood.body.status).toBe('exec_error');
    expect(flood.body.error.message).toContain('maxHostCalls');
  });
});

describe('POST /v1/sessions/{id}/run', () => {
  it('runs a Python cell and returns its last expression’s value', async () => {
    const id = await session('python');
    const first = await server.call('POST', `/v1/sessions/${id}/run`, {
      body: { code: 'import math\nr = 3\nprint("area")\nround(math.pi * r * r, 2)' },
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'ok', value: 28.27, stdout: 'area\n' });
    expect(first.body.session.calls).toBe(1);
    const quiet = await server.call('POST', `/v1/sessions/${id}/run`, { body: { code: 'r = 4' } });
    expect(quiet.body.status).toBe('ok');
    expect(quiet.body).not.toHaveProperty('value');
    const failed = await server.call('POST', `/v1/sessions/${id}/run`, { body: { code: 'r / 0' } });
    expect(failed.body).toMatchObject({ status: 'exec_error', error: { type: 'ZeroDivisionError' } });
    expect((await server.call('POST', `/v1/sessions/${id}/run`, { body: { code: 'r' } })).body.value).toBe(4);
  });

  it('runs a JavaScript cell (its completion value)', async () => {
    const id = await session('javascript');
    const reply = await server.call('POST', `/v1/sessions/${id}/run`, { body: { code: 'var n = 6; n * 7;' } });
    expect(reply.body).toMatchObject({ status: 'ok', value: 42 });
  });

  it('refuses a body without code, or with unknown fields', async () => {
    const id = await session('python');
    expect((await server.call('POST', `/v1/sessions/${id}/run`, { body: {} })).body.error.code).toBe('MISSING_FIELD');
    const unknown = await server.call('POST', `/v1/sessions/${id}/run`, { body: { code: '1', expression: '1' } });
    expect(unknown.body.error.code).toBe('UNKNOWN_FIELD');
  });
});

describe('stdin over HTTP', () => {
  it('reaches input() in one-shot runs, exec, eval and cells', async () => {
    const run = await server.call('POST', '/v1/run', { body: { expression: 'input()', stdin: 'from the request\n' } });
    expect(run.body).toMatchObject({ status: 'ok', value: 'from the request' });
    const id = await session('python');
    await server.call('POST', `/v1/sessions/${id}/exec`, { body: { statements: 'name = input()', stdin: 'Ada\n' } });
    const evaluated = await server.call('POST', `/v1/sessions/${id}/eval`, {
      body: { expression: 'name + " " + input()', stdin: 'Lovelace' },
    });
    expect(evaluated.body.value).toBe('Ada Lovelace');
    const cell = await server.call('POST', `/v1/sessions/${id}/run`, {
      body: { code: 'import sys\nsys.stdin.read().split()', stdin: 'a b c' },
    });
    expect(cell.body.value).toEqual(['a', 'b', 'c']);
    const none = await server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: 'input()' } });
    expect(none.body.error.type).toBe('EOFError');
  });

  it('refuses a stdin text longer than --max-code with INPUT_TOO_LONG', async () => {
    const small = await startServer({ maxCodeBytes: 1024 });
    try {
      const reply = await small.call('POST', '/v1/run', { body: { expression: '1', stdin: 'x'.repeat(2000) } });
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('INPUT_TOO_LONG');
    } finally {
      await small.close();
    }
  });
});

describe('the bin with --functions', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('serves the module’s functions and lists them', async () => {
    const { url } = await startBin(['--functions', tools, '--no-warmup'], children);
    const listed = await request(url, 'GET', '/v1/functions');
    expect(listed.body.functions.map((f: { name: string }) => f.name)).toEqual(['lookup', 'refuse', 'slowDouble']);
    const run = await request(url, 'POST', '/v1/run', { body: { expression: 'lookup("bin")["letters"]' } });
    expect(run.body).toMatchObject({ status: 'ok', value: 3 });
  });

  it('exits 2 with a clear message when the module cannot be loaded', async () => {
    const { code, stderr } = await runBin(['--functions', broken]);
    expect(code).toBe(2);
    expect(stderr).toContain('this module is broken on purpose');
  });
});

/**
 * Live output and cancel over real HTTP with the real guests: the streaming form of session
 * exec (NDJSON) sends output before the result, and POST /v1/sessions/{id}/cancel stops a call
 * that would otherwise run until its long time limit (so no timing is assumed anywhere).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPythonGuest, startServer, type TestServer } from './helpers.js';

const python = await findPythonGuest();
const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    apiKeys: [ALICE, BOB],
    ...(python.dir ? { guestDirs: { python: python.dir } } : {}),
  });
});
afterAll(() => server.close());

async function session(language: 'python' | 'javascript'): Promise<string> {
  const reply = await server.call('POST', '/v1/sessions', { body: { language, timeoutMs: 30_000 }, key: ALICE });
  expect(reply.status).toBe(201);
  return reply.body.id as string;
}

interface Line {
  type: string;
  data?: string;
  status?: string;
  stdout?: string;
  sandbox?: string;
  error?: { code: string };
}

/** Starts a streamed call; `lines` yields each NDJSON line as it arrives. */
async function* streamed(id: string, kind: 'exec' | 'eval', body: object): AsyncGenerator<Line> {
  const response = await fetch(`${server.url}/v1/sessions/${id}/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffered.indexOf('\n')) >= 0) {
      yield JSON.parse(buffered.slice(0, cut)) as Line;
      buffered = buffered.slice(cut + 1);
    }
  }
  expect(buffered).toBe('');
}

const cancel = (id: string, key = ALICE) => server.call('POST', `/v1/sessions/${id}/cancel`, { key });

describe.each(['python', 'javascript'] as const)('streaming and cancel, %s', (language) => {
  const runaway =
    language === 'python' ? 'print("started", flush=True)\nwhile True: x = 41' : 'console.log("started"); for (;;) {}';

  it('streams output before the result; cancel stops the call', async () => {
    if (language === 'python' && !python.dir) return;
    const id = await session(language);
    await server.call('POST', `/v1/sessions/${id}/exec`, {
      body: { statements: language === 'python' ? 'x = 41' : 'var x = 41' },
      key: ALICE,
    });
    const lines: Line[] = [];
    let cancelled = false;
    for await (const line of streamed(id, 'exec', { statements: runaway })) {
      lines.push(line);
      if (line.type === 'stdout' && !cancelled) {
        // The call cannot end on its own: this line came while it ran.
        expect(lines.some((l) => l.type === 'result')).toBe(false);
        // Someone else's key does not see the session.
        expect((await cancel(id, BOB)).status).toBe(404);
        expect((await cancel(id)).status).toBe(204);
        cancelled = true;
      }
    }
    const result = lines.at(-1)!;
    expect(result.type).toBe('result');
    expect(result.status).toBe('cancelled');
    const printed = lines
      .filter((l) => l.type === 'stdout')
      .map((l) => l.data)
      .join('');
    expect(printed).toBe(result.stdout);
    expect(printed.startsWith('started')).toBe(true);
    if (language === 'python') {
      // The soft stop caught it: the session keeps its globals.
      expect(result.sandbox).toBe('ready');
      const after = await server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: 'x + 1' }, key: ALICE });
      expect(after.body.value).toBe(42);
    } else {
      expect(result.sandbox).toBe('dead');
    }
  });

  it('cancel with nothing running is a no-op (204)', async () => {
    if (language === 'python' && !python.dir) return;
    const id = await session(language);
    expect((await cancel(id)).status).toBe(204);
    const reply = await server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: '1 + 1' }, key: ALICE });
    expect(reply.body.value).toBe(2);
  });

  it('a streamed call that finishes ends with its result line', async () => {
    if (language === 'python' && !python.dir) return;
    const id = await session(language);
    const lines: Line[] = [];
    for await (const line of streamed(id, 'eval', { expression: '6 * 7' })) lines.push(line);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: 'result', status: 'ok', value: 42 });
  });
});

describe('cancel without a streamed call', () => {
  it('stops a plain call from another request (the plain answer reports cancelled)', async () => {
    const id = await session('javascript');
    const running = server.call('POST', `/v1/sessions/${id}/exec`, {
      body: { statements: 'for (;;) {}' },
      key: ALICE,
    });
    // Cancel until the call is seen running (a cancel before it starts does nothing).
    for (;;) {
      const view = await server.call('GET', `/v1/sessions/${id}`, { key: ALICE });
      if (view.body.busy) break;
    }
    expect((await cancel(id)).status).toBe(204);
    const reply = await running;
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('cancelled');
  });
});

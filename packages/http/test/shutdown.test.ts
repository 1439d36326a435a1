/** The real bin as a child process: SIGTERM during a run lets the run finish, then exits 0. */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startBin as startBinWith } from './bin.js';
import { busyJs, request, sleep } from './helpers.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The bin with a small JavaScript pool, so shutdown has sandboxes to close. */
function startBin(...args: string[]) {
  return startBinWith(['--default-language', 'javascript', '--pool-size', '1', ...args], children);
}

describe('graceful shutdown (the bin, SIGTERM)', () => {
  it('finishes the run in flight, refuses new work, closes its sandboxes and exits 0', async () => {
    const { child, url, logs, exited } = await startBin();
    const session = await request(url, 'POST', '/v1/sessions', { body: {} });
    expect(session.status).toBe(201);

    const inFlight = request(url, 'POST', '/v1/run', {
      body: { statements: [busyJs(1500)], expression: '"finished"' },
    });
    await sleep(400);
    child.kill('SIGTERM');
    await sleep(200);

    // New connections are refused (or, on a connection still open, answered 503).
    const late = await request(url, 'GET', '/healthz').catch((error: Error) => error);
    if (late instanceof Error) expect(late.message).toMatch(/fetch failed/);
    else expect(late.status).toBe(503);

    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ok', value: 'finished' });
    expect(await exited).toBe(0);
    expect(logs.some((l) => l.msg === 'shutting down: finishing in-flight requests' && l.signal === 'SIGTERM')).toBe(
      true,
    );
    expect(logs.some((l) => l.msg === 'shut down' && l.clean === true)).toBe(true);
    // Structured request logs carry the request id.
    expect(logs.some((l) => l.msg === 'run finished' && typeof l.requestId === 'string')).toBe(true);
  });

  it('exits 0 on SIGINT when idle', async () => {
    const { child, exited } = await startBin();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('stops a run that outlives --shutdown-timeout (answered as crashed) and still exits 0', async () => {
    const { child, url, logs, exited } = await startBin('--shutdown-timeout', '500ms');
    const inFlight = request(url, 'POST', '/v1/run', {
      body: { statements: [busyJs(10_000)], expression: '1', timeoutMs: 20_000 },
    });
    await sleep(400);
    const signalled = performance.now();
    child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('crashed');
    expect(await exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(5000);
    expect(logs.some((l) => l.msg === 'shut down' && l.clean === false)).toBe(true);
  });
});

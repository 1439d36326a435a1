/** Caps on concurrent runs (bounded queue, then 429 + Retry-After) and on live sessions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunLimiter } from '../src/run-limiter.js';
import { busyJs, sleep, startServer, type TestServer } from './helpers.js';

describe('run cap over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      defaultLanguage: 'javascript',
      maxConcurrentRuns: 1,
      maxQueuedRuns: 1,
      queueTimeoutMs: 1000,
    });
    await server.call('POST', '/v1/run', { body: { expression: '0' } }); // compile the guest first
  });
  afterAll(() => server.close());

  const run = (expression: string, statements: string[] = []) =>
    server.call('POST', '/v1/run', { body: { statements, expression } });

  it('queues briefly, then answers 429 TOO_MANY_RUNS with Retry-After; never loses the running call', async () => {
    const running = run('"first"', [busyJs(2500)]);
    await sleep(400); // the first run holds the only slot
    const queued = run('"second"'); // waits in the one queue place, then times out after 1 s
    await sleep(100);
    const overflow = await run('"third"'); // no queue place left: refused at once
    expect(overflow.status).toBe(429);
    expect(overflow.body).toEqual({ error: { code: 'TOO_MANY_RUNS', message: expect.stringMatching(/try again/) } });
    expect(Number(overflow.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const timedOut = await queued;
    expect(timedOut.status).toBe(429);
    expect(timedOut.body.error.code).toBe('TOO_MANY_RUNS');
    expect(timedOut.body.error.message).toMatch(/within 1000 ms/);
    expect(timedOut.headers.get('retry-after')).toBe('1');

    const first = await running;
    expect(first.status).toBe(200);
    expect(first.body.value).toBe('first');

    const metrics = (await server.call('GET', '/metrics')).text;
    expect(metrics).toMatch(/^sandbox_http_rejected_total\{reason="queue_full"\} 1$/m);
    expect(metrics).toMatch(/^sandbox_http_rejected_total\{reason="queue_timeout"\} 1$/m);
  });

  it('serves a queued run when the slot frees within the queue timeout', async () => {
    const running = run('1', [busyJs(300)]);
    await sleep(100);
    const queued = await run('2');
    expect(queued.status).toBe(200);
    expect(queued.body.value).toBe(2);
    expect((await running).body.value).toBe(1);
  });

  it('counts session calls against the same cap', async () => {
    const session = await server.call('POST', '/v1/sessions', { body: {} });
    const busy = server.call('POST', `/v1/sessions/${session.body.id}/exec`, { body: { statements: busyJs(2000) } });
    await sleep(300);
    const queued = run('1');
    await sleep(100);
    const refused = await run('2');
    expect(refused.status).toBe(429);
    expect((await queued).status).toBe(429);
    expect((await busy).body.status).toBe('ok');
  });
});

describe('session cap over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultLanguage: 'javascript', maxSessions: 2, sessionTtlMs: 60_000 });
  });
  afterAll(() => server.close());

  it('answers 429 TOO_MANY_SESSIONS with Retry-After at the cap, and accepts again after a delete', async () => {
    const first = await server.call('POST', '/v1/sessions', { body: {} });
    const second = await server.call('POST', '/v1/sessions', { body: {} });
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await server.call('POST', '/v1/sessions', { body: {} });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('TOO_MANY_SESSIONS');
    // Retry-After: until the first idle session expires (TTL 60 s).
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(Number(third.headers.get('retry-after'))).toBeLessThanOrEqual(60);

    await server.call('DELETE', `/v1/sessions/${first.body.id}`);
    expect((await server.call('POST', '/v1/sessions', { body: {} })).status).toBe(201);
    expect((await server.call('GET', '/metrics')).text).toMatch(/^sandbox_http_sessions_live 2$/m);
  });
});

describe('RunLimiter', () => {
  it('never holds more than maxQueued waiters and never runs more than maxConcurrent', async () => {
    const limiter = new RunLimiter({ maxConcurrent: 2, maxQueued: 3, queueTimeoutMs: 5000 });
    let running = 0;
    let peak = 0;
    const work = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(50);
      running -= 1;
    };
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => limiter.run(work)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(5);
    expect(peak).toBe(2);
    expect(limiter.active).toBe(0);
    expect(limiter.queued).toBe(0);
    await limiter.idle();
  });

  it('refuses work after close, but lets admitted work finish', async () => {
    const limiter = new RunLimiter({ maxConcurrent: 1, maxQueued: 1, queueTimeoutMs: 5000 });
    const first = limiter.run(() => sleep(50).then(() => 1));
    const second = limiter.run(async () => 2);
    limiter.close();
    await expect(limiter.run(async () => 3)).rejects.toMatchObject({ statusCode: 503, code: 'SHUTTING_DOWN' });
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    await limiter.idle();
  });
});

import { describe, expect, it } from 'vitest';
import { ownThreadId, threadCpuClock } from '../src/engine/thread-cpu.js';

describe.skipIf(process.platform !== 'linux')('thread CPU time (Linux)', () => {
  it('counts the time this thread runs, and not the time it waits', async () => {
    const cpuMs = threadCpuClock(ownThreadId())!;
    expect(cpuMs).toBeTypeOf('function');
    // Busy until the clock shows 40 ms: on a loaded machine that takes longer than 40 ms of wall
    // time, never less (one thread runs at most as long as the wall clock).
    const before = cpuMs()!;
    const started = performance.now();
    while (cpuMs()! - before < 40 && performance.now() - started < 10_000);
    const afterBusy = cpuMs()!;
    expect(afterBusy - before).toBeGreaterThanOrEqual(40);
    expect(afterBusy - before).toBeLessThanOrEqual(performance.now() - started + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(cpuMs()! - afterBusy).toBeLessThan(100);
  });

  it('has no clock for a thread that is not in this process', () => {
    expect(threadCpuClock(undefined)).toBeUndefined();
    expect(threadCpuClock(2 ** 30)).toBeUndefined();
  });
});

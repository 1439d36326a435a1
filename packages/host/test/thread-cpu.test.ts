import { describe, expect, it } from 'vitest';
import { ownThreadId, threadCpuClock } from '../src/engine/thread-cpu.js';

describe.skipIf(process.platform !== 'linux')('thread CPU time (Linux)', () => {
  it('counts the time this thread runs, and not the time it waits', async () => {
    const cpuMs = threadCpuClock(ownThreadId())!;
    expect(cpuMs).toBeTypeOf('function');
    const before = cpuMs()!;
    const busyUntil = performance.now() + 60;
    while (performance.now() < busyUntil);
    const afterBusy = cpuMs()!;
    expect(afterBusy - before).toBeGreaterThan(30);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(cpuMs()! - afterBusy).toBeLessThan(100);
  });

  it('has no clock for a thread that is not in this process', () => {
    expect(threadCpuClock(undefined)).toBeUndefined();
    expect(threadCpuClock(2 ** 30)).toBeUndefined();
  });
});

/**
 * The watchdog of one thread's in-process sandboxes: that thread is blocked in the guest while a
 * call runs, so this one stops it at its deadline, the way the engine stops an executor's call
 * (a soft stop, its grace counted in the caller thread's CPU time, then a hard stop). It sleeps
 * between deadlines; calls do not wake it unless their deadline is sooner than its timer's.
 */
import { parentPort } from 'node:worker_threads';
import type { InterruptInfo } from '@component-sandbox/wit';
import { afterGrace, SOFT_RESEND_MS } from '../engine/grace.js';
import { canStop, requestStop, type StopLevel } from '../engine/interrupt.js';
import { threadCpuClock } from '../engine/thread-cpu.js';
import {
  clockWord,
  msUntil,
  WATCH,
  type FromWatchdog,
  type ToWatchdog,
  type WatchdogInit,
} from './watchdog-protocol.js';

const port = parentPort!;

port.once('message', (init: WatchdogInit) => {
  const control = new Int32Array(init.control);
  const cpuMs = threadCpuClock(init.threadId);
  const sandboxes = new Map<number, { memory: WebAssembly.Memory; interrupt: InterruptInfo | undefined }>();
  let timer: NodeJS.Timeout | undefined;
  /** The call being stopped, and the timers of its stop. */
  let stopping: { seq: number; timers: NodeJS.Timeout[] } | undefined;

  port.on('message', (message: ToWatchdog) => {
    if (message.type === 'register') {
      sandboxes.set(message.id, { memory: message.memory, interrupt: message.interrupt });
      port.postMessage({ type: 'registered', id: message.id } satisfies FromWatchdog);
    } else {
      sandboxes.delete(message.id);
    }
  });

  /** Writes a stop into the call `seq`'s guest, unless that call has ended meanwhile. */
  const act = (seq: number, level: StopLevel): void => {
    while (Atomics.compareExchange(control, WATCH.lock, 0, 1) !== 0);
    try {
      if (Atomics.load(control, WATCH.seq) !== seq) return;
      const sandbox = sandboxes.get(Atomics.load(control, WATCH.target));
      if (!sandbox) return;
      Atomics.store(control, WATCH.stop, Math.max(Atomics.load(control, WATCH.stop), level === 'soft' ? 1 : 2));
      requestStop(sandbox.memory, sandbox.interrupt, level);
      Atomics.store(control, WATCH.interrupt, 1);
      Atomics.notify(control, WATCH.interrupt);
    } finally {
      Atomics.store(control, WATCH.lock, 0);
    }
  };

  const stop = (seq: number): void => {
    const timers: NodeJS.Timeout[] = [];
    stopping = { seq, timers };
    const sandbox = sandboxes.get(Atomics.load(control, WATCH.target));
    // A sandbox reset just before its call: its new memory is in a message not read yet.
    if (!sandbox) return void timers.push(setTimeout(() => stop(seq), 1));
    const { interrupt } = sandbox;
    const hard = () => act(seq, 'hard');
    if (!canStop(interrupt, 'soft')) return hard();
    act(seq, 'soft');
    const resend = () => act(seq, 'soft');
    for (const ms of SOFT_RESEND_MS) timers.push(setTimeout(resend, ms));
    afterGrace(timers, hard, resend, Atomics.load(control, WATCH.cold) === 1, cpuMs);
  };

  /**
   * Looks at the running call: stops it if its deadline passed, else sets the timer for it. A
   * call that begins meanwhile reads `armed` after counting itself in `seq`, so reading `seq`
   * again after writing `armed` catches the call that saw the old value and did not wake us.
   */
  const look = (): void => {
    for (;;) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const seq = Atomics.load(control, WATCH.seq);
      if (stopping && stopping.seq !== seq) {
        for (const t of stopping.timers) clearTimeout(t);
        stopping = undefined;
      }
      const deadline = Atomics.load(control, WATCH.deadline);
      const running = seq % 2 === 1 && !stopping;
      const leftMs = msUntil(deadline, clockWord(init.epochMs));
      Atomics.store(control, WATCH.armed, running && leftMs > 0 ? deadline : 0);
      if (Atomics.load(control, WATCH.seq) !== seq) continue;
      if (!running) return;
      if (leftMs <= 0) return stop(seq);
      timer = setTimeout(look, Math.ceil(leftMs));
      return;
    }
  };

  const listen = async (): Promise<never> => {
    for (;;) {
      const seen = Atomics.load(control, WATCH.wake);
      look();
      const waiting = Atomics.waitAsync(control, WATCH.wake, seen);
      if (waiting.async) await waiting.value;
    }
  };
  void listen();
  port.postMessage({ type: 'ready' } satisfies FromWatchdog);
});

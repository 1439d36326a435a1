/**
 * The caller's side of its thread's watchdog (watchdog-worker.ts): one per thread that runs
 * in-process sandboxes, started with the first of them. A call tells it its deadline with a few
 * atomic stores; the watchdog is woken only when that deadline is sooner than its timer's.
 */
import { Worker } from 'node:worker_threads';
import type { InterruptInfo } from '@component-sandbox/wit';
import { GuestCrashedError } from '../errors.js';
import { ownThreadId } from '../engine/thread-cpu.js';
import { clearStop, type StopLevel } from '../engine/interrupt.js';
import { setSleepInterrupt } from '../wasi/index.js';
import {
  clockWord,
  msUntil,
  STOP_LEVELS,
  WATCH,
  WATCH_WORDS,
  type FromWatchdog,
  type ToWatchdog,
  type WatchdogInit,
} from './watchdog-protocol.js';

const WORKER_URL = new URL('./watchdog-worker.js', import.meta.url);

/** The watchdog holds no guest: a small heap is plenty. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 };

export class Watchdog {
  readonly #control: Int32Array;
  readonly #epochMs: number;
  readonly #worker: Worker;
  readonly #registered = new Map<number, () => void>();

  private constructor(worker: Worker, control: Int32Array, epochMs: number) {
    this.#worker = worker;
    this.#control = control;
    this.#epochMs = epochMs;
    worker.on('message', (message: FromWatchdog) => {
      if (message.type === 'registered') this.#registered.get(message.id)?.();
    });
  }

  static async start(): Promise<Watchdog> {
    const worker = new Worker(WORKER_URL, { env: {}, execArgv: [], resourceLimits: RESOURCE_LIMITS });
    const buffer = new SharedArrayBuffer(WATCH_WORDS * 4);
    const epochMs = performance.timeOrigin + performance.now();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', (error) => reject(new GuestCrashedError(`the watchdog failed to start: ${error.message}`)));
      worker.once('exit', (code) => reject(new GuestCrashedError(`the watchdog exited while starting (code ${code})`)));
    });
    worker.postMessage({ control: buffer, epochMs, threadId: ownThreadId() } satisfies WatchdogInit);
    try {
      await ready;
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    const control = new Int32Array(buffer);
    // This thread's guest sleeps wake up when the watchdog stops their call.
    setSleepInterrupt(control, WATCH.interrupt);
    const watchdog = new Watchdog(worker, control, epochMs);
    // The watchdog never keeps the process alive: it only matters while this thread is in a
    // call. (After its listeners: adding one refs the worker's port again.)
    worker.unref();
    return watchdog;
  }

  /** Hands the watchdog a sandbox's memory, where it writes its stops. */
  register(id: number, memory: WebAssembly.Memory, interrupt: InterruptInfo | undefined): Promise<void> {
    return new Promise((resolve) => {
      // Awaiting the answer must keep the process alive, as any await of I/O does.
      this.#worker.ref();
      this.#registered.set(id, () => {
        this.#registered.delete(id);
        if (this.#registered.size === 0) this.#worker.unref();
        resolve();
      });
      this.#post({ type: 'register', id, memory, interrupt });
    });
  }

  forget(id: number): void {
    this.#post({ type: 'forget', id });
  }

  #post(message: ToWatchdog): void {
    this.#worker.postMessage(message);
  }

  /** A call of sandbox `id` starts now on this thread, to be stopped `timeoutMs` from now. */
  begin(id: number, timeoutMs: number, cold: boolean): void {
    const control = this.#control;
    const deadline = clockWord(this.#epochMs, timeoutMs);
    Atomics.store(control, WATCH.target, id);
    Atomics.store(control, WATCH.deadline, deadline);
    Atomics.store(control, WATCH.cold, cold ? 1 : 0);
    Atomics.store(control, WATCH.stop, 0);
    Atomics.store(control, WATCH.interrupt, 0);
    Atomics.add(control, WATCH.seq, 1);
    // Read after counting the call in: see the watchdog's `look`.
    const armed = Atomics.load(control, WATCH.armed);
    if (armed === 0 || msUntil(deadline, armed) < 0) {
      Atomics.add(control, WATCH.wake, 1);
      Atomics.notify(control, WATCH.wake);
    }
  }

  /**
   * The call has returned: how far the watchdog went to stop it. A stop it wrote is cleared
   * from the guest's memory, so that it cannot interrupt the next call.
   */
  end(memory: WebAssembly.Memory, interrupt: InterruptInfo | undefined): StopLevel | undefined {
    const control = this.#control;
    while (Atomics.compareExchange(control, WATCH.lock, 0, 1) !== 0);
    Atomics.add(control, WATCH.seq, 1);
    const stop = STOP_LEVELS[Atomics.load(control, WATCH.stop)];
    Atomics.store(control, WATCH.lock, 0);
    if (stop === 'none' || stop === undefined) return undefined;
    clearStop(memory, interrupt);
    Atomics.store(control, WATCH.interrupt, 0);
    return stop;
  }
}

let started: Promise<Watchdog> | undefined;

/** This thread's watchdog, started on first use. */
export function watchdog(): Promise<Watchdog> {
  started ??= Watchdog.start().catch((error: unknown) => {
    started = undefined;
    throw error;
  });
  return started;
}

/**
 * The engine: a few executor threads that run the calls of every sandbox in the process.
 *
 *   caller (event loop)            executors (threads)              host-owned state
 *   ───────────────────            ───────────────────              ────────────────
 *   sandbox.run(code) ──call──▶  ┌ executor 1: instances ┐ ◀──────  per sandbox: shared
 *     deadline timer  ──flags─▶  │ executor 2: instances │          memory, globals,
 *                                └ spare, started on load┘          handle tables
 *
 * A sandbox is not bound to a thread: its memory is shared and its other state is saved after
 * every call, so whichever executor is idle runs its next call (the one that ran it last, if
 * idle, since its instance is current). When every executor is busy (runaways, sleeps), a
 * spare starts, up to `maxExecutors`, so a call does not wait behind another sandbox's call.
 */
import { availableParallelism } from 'node:os';
import { InvalidOptionsError } from '../errors.js';
import type { FunctionsSetup, HostCallAnswerer } from '../functions/protocol.js';
import type { CallKind } from '../call-kinds.js';
import { encodeRequest, type CallReply } from './executor-protocol.js';
import { Executor, type OutputListener } from './executor.js';
import type { EngineGuest } from './engine-guest.js';
import { guestSetupOf, sandboxSetupOf, type SandboxCore } from './sandbox-core.js';
import { canStop, clearStop, requestStop } from './interrupt.js';
import { DEFAULT_PARK_IDLE_MS, checkParkIdleMs } from './parking.js';
import { releasedMemory } from './garbage.js';
import { afterGrace, SOFT_RESEND_MS } from './grace.js';

import type { EngineOptions } from './engine-options.js';

export type { EngineOptions } from './engine-options.js';

/** How an unfinished call was stopped, if it was: at its deadline, or aborted (closed). */
export type StopKind = 'soft' | 'hard' | 'discarded' | 'aborted';

export interface RunResult {
  /** Absent when the call never started: its signal was aborted first. */
  reply: CallReply | undefined;
  stop: StopKind | undefined;
  /** True when the caller's signal stopped the call (or kept it from starting). */
  cancelled: boolean;
}

/** After a hard stop, how long before the executor thread itself is discarded. */
const HARD_GRACE_MS = 250;
/** A spare executor idle this long stops. */
const SPARE_IDLE_MS = 5000;

/** What a call brings besides its code. */
export interface CallExtras {
  /** The call's stdin text; without it, stdin is at end of file. */
  stdin?: string;
  /** The sandbox's host functions. */
  functions: FunctionsSetup;
  /** Answers the host calls that come to this thread. */
  answer: HostCallAnswerer;
  /** Receives the call's output as the guest writes it; without it, output comes at the end. */
  onOutput?: OutputListener;
  /** Aborting it stops the call like its deadline does (soft, then hard). */
  signal?: AbortSignal;
}

export class Engine {
  readonly executors: number;
  readonly maxExecutors: number;
  /** Idle time before a sandbox is parked, unless it sets its own (Infinity: never). */
  readonly parkIdleMs: number;
  readonly #running: Executor[] = [];
  #starting = 0;
  readonly #waiters: Array<(executor: Executor) => void> = [];
  /** Calls past the synchronous wait, by sandbox id: how to abort each. */
  readonly #inFlight = new Map<number, () => void>();
  #closed = false;

  constructor(options: EngineOptions = {}) {
    const executors = options.executors ?? availableParallelism();
    if (!Number.isSafeInteger(executors) || executors < 1) {
      throw new InvalidOptionsError(`executors must be a positive integer, got ${JSON.stringify(options.executors)}`);
    }
    const maxExecutors = options.maxExecutors ?? executors + 8;
    if (!Number.isSafeInteger(maxExecutors) || maxExecutors < executors) {
      throw new InvalidOptionsError(
        `maxExecutors must be an integer no smaller than executors (${executors}), got ${JSON.stringify(options.maxExecutors)}`,
      );
    }
    this.executors = executors;
    this.maxExecutors = maxExecutors;
    this.parkIdleMs = checkParkIdleMs(options.parkIdleMs) ?? DEFAULT_PARK_IDLE_MS;
  }

  /** Executor threads running now (for metrics and tests). */
  get threads(): number {
    return this.#running.length;
  }

  /** Starts the base executors ahead of the first call. */
  async start(): Promise<void> {
    const missing = this.executors - this.#running.length - this.#starting;
    await Promise.all(Array.from({ length: Math.max(0, missing) }, () => this.#spawn()));
  }

  async #spawn(): Promise<void> {
    this.#starting += 1;
    try {
      const executor = await Executor.start();
      if (this.#closed) {
        void executor.terminate();
        return;
      }
      this.#running.push(executor);
      this.#release(executor);
    } finally {
      this.#starting -= 1;
    }
  }

  #idle(preferred: Executor | undefined): Executor | undefined {
    const usable = (executor: Executor) => !executor.busy && executor.alive;
    const current = preferred && usable(preferred) && this.#running.includes(preferred) ? preferred : undefined;
    // An executor collecting garbage would hold the call for tens of ms; another one that is
    // idle rebuilds the sandbox's instance in about one.
    if (current && !current.collecting) return current;
    return (
      this.#running.find((executor) => usable(executor) && !executor.collecting) ??
      current ??
      this.#running.find(usable)
    );
  }

  async #acquire(preferred: Executor | undefined): Promise<Executor> {
    let executor = this.#idle(preferred);
    if (!executor) {
      if (this.#running.length + this.#starting < this.executors) void this.#spawn().catch(() => undefined);
      executor = await new Promise<Executor>((resolve) => this.#waiters.push(resolve));
    }
    executor.busy = true;
    // Keep one executor free for the next caller: a spare starts while every one is busy.
    const total = this.#running.length + this.#starting;
    if (!this.#running.some((e) => !e.busy) && this.#starting === 0 && total < this.maxExecutors) {
      void this.#spawn().catch(() => undefined);
    }
    return executor;
  }

  #release(executor: Executor): void {
    if (!executor.alive) {
      this.#remove(executor);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter(executor);
      return;
    }
    executor.busy = false;
    if (this.#running.length > this.executors) {
      setTimeout(() => {
        if (!executor.busy && this.#running.length > this.executors) {
          this.#remove(executor);
          void executor.terminate();
        }
      }, SPARE_IDLE_MS).unref();
    }
  }

  #remove(executor: Executor): void {
    const index = this.#running.indexOf(executor);
    if (index >= 0) this.#running.splice(index, 1);
    // Calls waiting for an executor must not wait forever for one that is gone.
    if (this.#waiters.length > 0 && this.#running.length + this.#starting < this.executors) {
      void this.#spawn().catch(() => undefined);
    }
  }

  /** Gives the executor whatever it lacks to run `core`'s next call. */
  #prepare(executor: Executor, core: SandboxCore, functions: FunctionsSetup): void {
    const guest: EngineGuest = core.guest;
    if (!executor.guests.has(guest.key)) {
      executor.post(guestSetupOf(guest));
      executor.guests.add(guest.key);
    }
    if (executor.versions.get(core.id) !== core.version) {
      executor.post(sandboxSetupOf(core, functions));
      executor.versions.set(core.id, core.version);
    }
  }

  /** Runs one call of `core` on an executor, stopping it at its deadline. */
  async run(
    core: SandboxCore,
    kind: CallKind,
    code: string,
    timeoutMs: number,
    extras: CallExtras,
  ): Promise<RunResult> {
    const executor = await this.#acquire(core.executor);
    let stop: StopKind | undefined;
    try {
      // A call's time limit counts its own work, not an executor's garbage collection.
      if (executor.collecting) await executor.collected();
      // Aborted while it waited for an executor: it never starts.
      if (extras.signal?.aborted) return { reply: undefined, stop: undefined, cancelled: true };
      this.#prepare(executor, core, extras.functions);
      const started = performance.now();
      const [word, text] = encodeRequest(kind, code, extras.stdin, extras.onOutput !== undefined);
      let reply: CallReply | Promise<CallReply> = executor.call(core.id, word, text, extras.answer, extras.onOutput);
      let cancelled = false;
      if (reply instanceof Promise) {
        const remainingMs = Math.max(0, timeoutMs - (performance.now() - started));
        reply = await this.#awaitWithDeadline(
          executor,
          core,
          reply,
          started,
          remainingMs,
          (kind) => (stop = kind),
          extras.signal,
          () => (cancelled = true),
        );
      }
      if (stop) clearStop(core.memory, core.guest.interrupt);
      if (reply.outcome.kind !== 'failed') executor.warmGuests.add(core.guest.key);
      this.#record(executor, core, reply);
      return { reply, stop, cancelled: cancelled && stop !== undefined };
    } finally {
      this.#release(executor);
    }
  }

  #record(executor: Executor, core: SandboxCore, reply: CallReply): void {
    const kind = reply.outcome.kind;
    if (kind === 'trap' || kind === 'exit' || kind === 'failed') {
      executor.versions.delete(core.id);
      return;
    }
    if (reply.state) core.state = reply.state;
    // A call that left the scratch directory alone does not send its metadata again.
    if (reply.scratch && core.scratch) core.scratch.meta = reply.scratch;
    core.version += 1;
    executor.versions.set(core.id, core.version);
    core.executor = executor;
  }

  async #awaitWithDeadline(
    executor: Executor,
    core: SandboxCore,
    reply: Promise<CallReply>,
    started: number,
    remainingMs: number,
    stopped: (kind: StopKind) => void,
    signal: AbortSignal | undefined,
    cancelled: () => void,
  ): Promise<CallReply> {
    const info = core.guest.interrupt;
    const timers: NodeJS.Timeout[] = [];
    const discard = () => {
      stopped('discarded');
      this.#remove(executor);
      void executor.terminate();
    };
    this.#inFlight.set(core.id, () => {
      for (const timer of timers) clearTimeout(timer);
      if (canStop(info, 'hard')) {
        requestStop(core.memory, info, 'hard');
        executor.interrupt();
        timers.push(setTimeout(discard, HARD_GRACE_MS));
      } else {
        discard();
      }
      stopped('aborted');
    });
    const hard = () => {
      if (!canStop(info, 'hard')) return discard();
      stopped('hard');
      requestStop(core.memory, info, 'hard');
      executor.interrupt();
      timers.push(setTimeout(discard, HARD_GRACE_MS));
    };
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      // A guest waiting for a host function is not running code: the HostError that ends
      // its wait (executor.interrupt) stops it softly, whatever its language.
      const soft = canStop(info, 'soft');
      const waking = executor.waitingOnHost;
      if (!soft && !waking) return hard();
      stopped('soft');
      if (soft) requestStop(core.memory, info, 'soft');
      executor.interrupt();
      const resend = soft ? () => requestStop(core.memory, info, 'soft') : () => undefined;
      if (soft) for (const ms of SOFT_RESEND_MS) timers.push(setTimeout(resend, ms));
      // An executor's first call of a guest compiles its code as it goes (V8 compiles wasm
      // lazily), which can hold off the interrupt check for tens of ms: it gets more grace. So
      // does a guest woken from a host call: it was not running, and must first unwind its
      // HostError (the thread may not even be scheduled yet on a busy machine).
      const cold = waking || !executor.warmGuests.has(core.guest.key);
      afterGrace(timers, hard, resend, cold, executor.cpuMs);
    };
    timers.push(setTimeout(stop, remainingMs));
    // The caller's signal stops the call the way its deadline would, a little sooner.
    const onAbort = () => {
      if (stopping) return;
      cancelled();
      stop();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      return await reply;
    } catch (error) {
      // The executor was discarded (or died): the call's instance is gone with it.
      const message = error instanceof Error ? error.message : String(error);
      return {
        outcome: { kind: 'trap', message, atMemoryLimit: false },
        stdout: '',
        stderr: '',
        outputTruncated: false,
        durationMs: performance.now() - started,
        memoryBytes: core.memory.buffer.byteLength,
      };
    } finally {
      for (const timer of timers) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.#inFlight.delete(core.id);
    }
  }

  /** Stops `core`'s running call now, if it has one (the sandbox is being closed). */
  abort(core: SandboxCore): void {
    this.#inFlight.get(core.id)?.();
  }

  /**
   * Drops a sandbox's instances from every executor (it was closed, reset, parked or died): its
   * memory is freed once this thread and theirs have collected garbage (garbage.ts).
   */
  evict(core: SandboxCore): void {
    for (const executor of this.#running) {
      if (executor.versions.delete(core.id)) executor.post({ type: 'evict', id: core.id });
    }
    core.executor = undefined;
    releasedMemory(core.memory.buffer.byteLength);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#running.splice(0).map((executor) => executor.terminate()));
  }
}

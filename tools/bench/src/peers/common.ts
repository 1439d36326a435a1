/** Parameter and result shapes of peer tasks, and helpers every peer uses. */
import { setTimeout as sleep } from 'node:timers/promises';

export type Language = 'python' | 'javascript';

export interface RepsParams {
  reps: number;
  warmup: number;
}

/** Times in ms (ready, kernels, overshoot) or us (calls), one per repetition. */
export interface SamplesResult {
  samples: number[];
  /** The first, cold figure where a task has one (e.g. the first sandbox of the process). */
  first?: number;
  note?: string;
}

export interface KernelParams extends RepsParams {
  language: Language;
  name: string;
  /** Statements that leave the checked value in a global named `result`. */
  source: string;
}

export interface KernelResult {
  samples: number[];
  /** `str(result)` / `String(result)` after the last repetition, compared across engines. */
  check: string;
  /** Set when the engine cannot run the kernel (e.g. Monty, a Python subset): its error. */
  unsupported?: string;
}

export interface MemoryParams {
  language: Language;
  count: number;
}

export interface MemoryResult {
  count: number;
  /** RSS of the process before the instances (after one was created and closed). */
  baselineBytes: number;
  afterBytes: number;
  perInstanceBytes: number;
  /** How the figure was taken when it is not a process RSS delta. */
  method?: string;
  seconds: number;
  /** us of one `2 + 2` round trip on each live instance, after all were created (where measured). */
  evalUs?: number[];
}

export interface OvershootParams {
  language: Language;
  runs: number;
  timeoutMs: number;
  /** The runaway's code (Python); default `while True: pass`. */
  code?: string;
}

/** A runaway that stays in Python bytecode: CPython's eval breaker sees the soft stop. */
export const PYTHON_RUNAWAY = 'while True: pass';
/** A runaway inside one C call: no bytecode boundary until it ends, so only a hard stop ends it. */
export const C_LEVEL_RUNAWAY = 'sum(range(10**12))';

/** A session holding a few globals of plain data (what the snapshot and park figures carry). */
export const SESSION_STATE =
  'x = 41\nitems = list(range(100))\nconfig = {"name": "session", "tags": ["a", "b", "c"]}\ntext = "hello " * 20';
/** An expression over that state, and its value. */
export const SESSION_CHECK = { expression: 'x + len(items)', value: 141 } as const;

export interface SnapshotResult {
  /** Size of one snapshot. */
  bytes: number;
  /** ms to take a snapshot. */
  snapshotMs: number[];
  /** ms from the snapshot's bytes to a restored session's first answer. */
  restoreMs: number[];
  /** snapshotMs + restoreMs, per repetition. */
  totalMs: number[];
  note?: string;
}

export interface ParkedParams {
  count: number;
}

/**
 * Parked sessions are made in two equal rounds: the figure is the second round's RSS growth per
 * session (what one more parked session costs); the first round also grows the process's
 * allocators and JIT code once, which `firstRoundPerInstanceBytes` shows.
 */
export interface ParkedResult extends MemoryResult {
  firstRoundPerInstanceBytes: number;
  /** ms from a call on a parked session to its answer (the restore included). */
  restoreMs: number[];
}

/** Makes `count` parked sessions twice with `make`, measuring RSS after each round. */
export async function parkedRounds<T>(
  count: number,
  make: () => Promise<T> | T,
): Promise<{ sessions: T[]; before: number; afterFirst: number; afterSecond: number; seconds: number }> {
  await make();
  await settle(1500);
  const before = rss();
  const started = now();
  const sessions: T[] = [];
  for (let i = 0; i < count; i++) sessions.push(await make());
  // Our host frees parked memories at its next collection (within 5 s).
  await settle(6000);
  const afterFirst = rss();
  for (let i = 0; i < count; i++) sessions.push(await make());
  const seconds = elapsedMs(started) / 1000;
  await settle(6000);
  return { sessions, before, afterFirst, afterSecond: rss(), seconds };
}

/**
 * Times `take` (a snapshot of a session) and `restore` (from those bytes until the restored
 * session answers), once per repetition: the snapshot workload of every peer.
 */
export async function timeSnapshots<T extends { length: number } | { byteLength: number }>(
  params: RepsParams,
  take: () => Promise<T> | T,
  restore: (taken: T) => Promise<void> | void,
  note: string,
): Promise<SnapshotResult> {
  let bytes = 0;
  const snapshotMs: number[] = [];
  const restoreMs: number[] = [];
  const totalMs = await repeat(params, async () => {
    const start = now();
    const taken = await take();
    const took = elapsedMs(start);
    const restoreStart = now();
    await restore(taken);
    const restoring = elapsedMs(restoreStart);
    bytes = 'byteLength' in taken ? taken.byteLength : taken.length;
    snapshotMs.push(took);
    restoreMs.push(restoring);
    return took + restoring;
  });
  return {
    bytes,
    snapshotMs: snapshotMs.slice(params.warmup),
    restoreMs: restoreMs.slice(params.warmup),
    totalMs,
    note,
  };
}

/** A parked workload's result from its rounds (parkedRounds) and the timed restores. */
export function parkedResult(
  rounds: Awaited<ReturnType<typeof parkedRounds>>,
  count: number,
  restoreMs: number[],
  method: string,
): ParkedResult {
  return {
    count,
    baselineBytes: rounds.afterFirst,
    afterBytes: rounds.afterSecond,
    perInstanceBytes: (rounds.afterSecond - rounds.afterFirst) / count,
    firstRoundPerInstanceBytes: (rounds.afterFirst - rounds.before) / count,
    seconds: rounds.seconds,
    restoreMs,
    method,
  };
}

export interface OvershootResult {
  /** ms past the deadline at which the caller got the timeout error. */
  rejected: number[];
  /** ms past the deadline at which the runaway stopped using the CPU, where observable. */
  stopped?: number[];
  note?: string;
}

export interface NeighbourParams {
  /** How long each phase (idle, runaway) measures. */
  windowMs: number;
  /** Sandboxes answering evals while one runs away. */
  others: number;
  timeoutMs: number;
  /** The runaway's code; default PYTHON_RUNAWAY. */
  code?: string;
}

export interface NeighbourResult {
  /** us per eval of the others, no runaway. */
  idle: number[];
  /** us per eval of the others while one sandbox runs away again and again. */
  runaway: number[];
  runaways: number;
}

/**
 * The neighbours measurement: `probe` (one eval on one of the other sandboxes) is timed, one call
 * at a time, in idle slices and in slices during which `runawayOnce` (one runaway into its time
 * limit, and whatever revives the sandbox) runs again and again. The phases alternate, SLICES
 * times each, so that a change in the machine's load hits both alike.
 */
export async function alternate(
  params: NeighbourParams,
  probe: (i: number) => Promise<unknown>,
  runawayOnce: () => Promise<void>,
): Promise<NeighbourResult> {
  const SLICES = 4;
  const sliceMs = params.windowMs / SLICES;
  let calls = 0;
  const measure = async (ms: number, into: number[]) => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const start = now();
      await probe(calls++);
      into.push(elapsedUs(start));
    }
  };
  await measure(300, []); // warm-up
  const idle: number[] = [];
  const runaway: number[] = [];
  let runaways = 0;
  for (let slice = 0; slice < SLICES; slice++) {
    await measure(sliceMs, idle);
    let running = true;
    const spin = (async () => {
      while (running) {
        await runawayOnce();
        runaways += 1;
      }
    })();
    await sleep(50); // the runaway is spinning
    await measure(sliceMs, runaway);
    running = false;
    await spin;
  }
  return { idle, runaway, runaways };
}

export async function settle(ms = 300): Promise<void> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(ms / 3);
  }
}

export function rss(): number {
  return process.memoryUsage.rss();
}

export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function elapsedUs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e3;
}

export const now = (): bigint => process.hrtime.bigint();

/** Repeats `fn` warmup + reps times and returns the timed repetitions (ms). */
export async function repeat(params: RepsParams, fn: () => Promise<number> | number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < params.warmup + params.reps; i++) {
    const ms = await fn();
    if (i >= params.warmup) samples.push(ms);
  }
  return samples;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0]!.slice(0, 160);
  return String(error).slice(0, 160);
}

/**
 * RSS added per live instance: one instance is made before the baseline (so one-time costs
 * such as compiling a module are not counted), then `count` more are made and kept alive.
 * `start` creates an instance and runs `2 + 2` in it; `stop` frees one (when the peer has to).
 */
export async function rssPerLiveInstance<T>(
  params: MemoryParams,
  start: () => Promise<T> | T,
  method: string,
  stop?: (instance: T) => Promise<void> | void,
): Promise<MemoryResult> {
  const keep: T[] = [await start()];
  await settle(1000);
  const baselineBytes = rss();
  const started = now();
  for (let i = 0; i < params.count; i++) keep.push(await start());
  const seconds = elapsedMs(started) / 1000;
  await settle(1500);
  const afterBytes = rss();
  if (stop) await Promise.all(keep.map((instance) => stop(instance)));
  return {
    count: params.count,
    baselineBytes,
    afterBytes,
    perInstanceBytes: (afterBytes - baselineBytes) / params.count,
    seconds,
    method,
  };
}

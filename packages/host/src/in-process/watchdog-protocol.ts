/**
 * What a thread running in-process sandboxes and its watchdog share: a few words of shared
 * memory, written around every call without waking the watchdog (a call costs a handful of
 * atomic stores), and a port for the sandboxes' memories, which change rarely.
 */
import type { InterruptInfo } from '@component-sandbox/wit';

/** Indexes of the shared words (Int32). */
export const WATCH = {
  /** Held (1) by whichever side is writing a stop or ending a call: they must not interleave. */
  lock: 0,
  /** Calls begun and ended, counted: odd while a call runs. */
  seq: 1,
  /** The running call's sandbox. */
  target: 2,
  /** The running call's deadline: a clock word (see clockWord). */
  deadline: 3,
  /** 1 when the running call's code has not run warm on the caller's thread yet. */
  cold: 4,
  /** The furthest the watchdog has gone with the running call: 0 none, 1 soft, 2 hard. */
  stop: 5,
  /** Set with the stop: the guest's sleeps wake up (wasi/io.ts's sleep interrupt). */
  interrupt: 6,
  /** The deadline the watchdog's timer is set for (a clock word), 0 when it has none. */
  armed: 7,
  /** Bumped to make the watchdog look again (a deadline sooner than its timer's). */
  wake: 8,
} as const;

export const WATCH_WORDS = 9;

export const STOP_LEVELS = ['none', 'soft', 'hard'] as const;

export interface WatchdogInit {
  control: SharedArrayBuffer;
  /** `performance.timeOrigin + performance.now()` at the caller's start: deadlines count from it. */
  epochMs: number;
  /** The caller's kernel thread id (thread-cpu.ts), for its CPU time during a grace. */
  threadId: number | undefined;
}

export type ToWatchdog =
  | { type: 'register'; id: number; memory: WebAssembly.Memory; interrupt: InterruptInfo | undefined }
  | { type: 'forget'; id: number };

/** `ready` once, when it has started; then one `registered` per register message. */
export type FromWatchdog = { type: 'ready' } | { type: 'registered'; id: number };

/**
 * Now as a word both threads can store atomically: ms since `epochMs`, wrapping every 24.8 days.
 * Deadlines are compared by their wrapped difference (msUntil), so the wrap is harmless while a
 * call's time limit is shorter than that. Never 0, which means "no deadline".
 */
export function clockWord(epochMs: number, plusMs = 0): number {
  return Math.floor(performance.timeOrigin + performance.now() - epochMs + plusMs) | 0 || 1;
}

/** Ms from clock word `from` to clock word `to` (negative when `to` has passed). */
export function msUntil(to: number, from: number): number {
  return (to - from) | 0;
}

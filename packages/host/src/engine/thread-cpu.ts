/**
 * CPU time of one executor thread, read from Linux's /proc. The engine uses it to tell a guest
 * that ran through its soft stop's grace without stopping (a C-level loop: stop it hard) from one
 * whose thread was not scheduled at all on a busy machine (wait longer: a hard stop would lose
 * the session for the machine's sake). Elsewhere both are undefined and the engine judges by its
 * timers alone.
 */
import { readFileSync } from 'node:fs';

/** The calling thread's kernel thread id, if this is Linux. */
export function ownThreadId(): number | undefined {
  try {
    const id = Number(readFileSync('/proc/thread-self/stat', 'latin1').split(' ', 1)[0]);
    return Number.isInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A reader of the CPU time (ms) the thread `threadId` of this process has run, or undefined when
 * it cannot be read. A read costs ~40 us; the engine reads only around deadlines.
 */
export function threadCpuClock(threadId: number | undefined): (() => number | undefined) | undefined {
  if (threadId === undefined) return undefined;
  const path = `/proc/self/task/${threadId}/schedstat`;
  const read = (): number | undefined => {
    try {
      // "<ns on CPU> <ns waiting to run> <slices>"
      const ns = Number(readFileSync(path, 'latin1').split(' ', 1)[0]);
      return Number.isFinite(ns) ? ns / 1e6 : undefined;
    } catch {
      return undefined;
    }
  };
  return read() === undefined ? undefined : read;
}

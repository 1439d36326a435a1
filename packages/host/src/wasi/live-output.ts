/**
 * Live output inside an executor thread: while a call whose caller asked for its output as it
 * happens runs, what the guest writes is sent to the caller's thread when the guest is about to
 * block (a sleep or a poll), and at most every FLUSH_EVERY_MS while it writes. Without such a
 * call nothing here runs.
 */

/** Output written after a quiet spell goes at once; during a burst, at most this often. */
const FLUSH_EVERY_MS = 20;

let active: { flush: () => void; last: number } | undefined;

/** Starts live output for the running call; `flush` sends what is new. */
export function beginLiveOutput(flush: () => void): void {
  active = { flush, last: -Infinity };
}

export function endLiveOutput(): void {
  active = undefined;
}

/** The guest wrote output: flush unless the last flush was very recent. */
export function outputWritten(): void {
  if (!active) return;
  const now = performance.now();
  if (now - active.last < FLUSH_EVERY_MS) return;
  active.last = now;
  active.flush();
}

/** The guest is about to block: whatever it wrote goes now. */
export function aboutToBlock(): void {
  if (!active) return;
  active.last = performance.now();
  active.flush();
}

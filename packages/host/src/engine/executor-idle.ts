/**
 * An executor thread's wait for its next call, and what it does meanwhile. The host wakes it
 * for evictions (a sandbox closed, reset or parked), which it applies at once; it collects
 * garbage after them (garbage.ts says why): when idle for a moment, or before a call once the
 * evicted memories add up or have waited long. While it collects, a word in the call slot says
 * so, and the engine gives calls to another idle executor if there is one.
 */
import { REQUEST, sleepWhile, spinFor, state, type ChannelEnd } from '../call-channel.js';
import { COLLECT_AFTER_BYTES, COLLECT_WITHIN_MS, collectGarbage } from './garbage.js';
import { WORD } from './executor-protocol.js';

/** Idle this long after an eviction, the executor collects. */
const COLLECT_WHEN_IDLE_MS = 200;

/** When the oldest eviction not yet collected happened, and the memory evicted since. */
let pendingSince: number | undefined;
let pendingBytes = 0;

function collect(channel: ChannelEnd): void {
  Atomics.store(channel.control, WORD.collecting, 1);
  try {
    collectGarbage();
  } finally {
    Atomics.store(channel.control, WORD.collecting, 0);
  }
  pendingSince = undefined;
  pendingBytes = 0;
}

/** An instance over `memoryBytes` of memory was dropped. */
export function noteEviction(memoryBytes: number): void {
  pendingSince ??= performance.now();
  pendingBytes += memoryBytes;
}

/** Before a call: collects if evictions have added up, or waited too long for an idle moment. */
export function collectIfOverdue(channel: ChannelEnd): void {
  if (pendingSince === undefined) return;
  if (pendingBytes >= COLLECT_AFTER_BYTES || performance.now() - pendingSince >= COLLECT_WITHIN_MS) collect(channel);
}

/** Blocks until a call arrives, running `onWake` (setup messages) whenever the host wakes it. */
export function awaitCall(channel: ChannelEnd, spinMicroseconds: number, onWake: () => void): void {
  if (spinFor(channel, REQUEST, spinMicroseconds)) return;
  for (;;) {
    const current = state(channel);
    if (current === REQUEST) return;
    const waited = sleepWhile(channel, current, pendingSince === undefined ? Infinity : COLLECT_WHEN_IDLE_MS);
    onWake();
    if (waited === 'timed-out' && pendingSince !== undefined) collect(channel);
  }
}

/**
 * An executor thread's wait for its next call, and what it does meanwhile. The host wakes it
 * for evictions (a sandbox closed, reset, parked or dead), which it applies at once; it collects
 * garbage after them (garbage.ts says why), never with a call waiting: when it has been idle for
 * a moment, or, once the evicted memories add up or have waited long, right after a reply if no
 * call follows at once. While it collects, a word in the call slot says so: the engine gives
 * calls to another executor if one is idle, and otherwise starts a call's clock only after it.
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
  // A call that came meanwhile goes first (the host saw no flag when it sent it).
  if (state(channel) !== REQUEST) {
    collectGarbage();
    pendingSince = undefined;
    pendingBytes = 0;
  }
  Atomics.store(channel.control, WORD.collecting, 0);
  Atomics.notify(channel.control, WORD.collecting);
}

/** An instance over `memoryBytes` of memory was dropped. */
export function noteEviction(memoryBytes: number): void {
  pendingSince ??= performance.now();
  pendingBytes += memoryBytes;
}

function overdue(): boolean {
  if (pendingSince === undefined) return false;
  return pendingBytes >= COLLECT_AFTER_BYTES || performance.now() - pendingSince >= COLLECT_WITHIN_MS;
}

/** Blocks until a call arrives, running `onWake` (setup messages) whenever the host wakes it. */
export function awaitCall(channel: ChannelEnd, spinMicroseconds: number, onWake: () => void): void {
  if (spinFor(channel, REQUEST, spinMicroseconds)) return;
  if (overdue()) collect(channel);
  for (;;) {
    const current = state(channel);
    if (current === REQUEST) return;
    const waited = sleepWhile(channel, current, pendingSince === undefined ? Infinity : COLLECT_WHEN_IDLE_MS);
    onWake();
    if (waited === 'timed-out' && pendingSince !== undefined) collect(channel);
  }
}

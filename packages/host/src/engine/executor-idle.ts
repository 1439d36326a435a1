/**
 * An executor thread's wait for its next call, and what it does meanwhile. The host wakes it
 * for evictions (a sandbox closed, reset or parked), which it applies at once, and collects
 * garbage soon after them (garbage.ts says why).
 */
import { REQUEST, sleepWhile, spinFor, state, type ChannelEnd } from '../call-channel.js';
import { collectGarbage } from './garbage.js';

/** Idle this long after an eviction, the executor collects. */
const COLLECT_WHEN_IDLE_MS = 50;
/** A busy executor collects between calls at most this long after an eviction. */
const COLLECT_WITHIN_MS = 1000;

/** When the oldest eviction not yet collected happened. */
let pendingSince: number | undefined;

function collect(): void {
  collectGarbage();
  pendingSince = undefined;
}

export function noteEviction(): void {
  pendingSince ??= performance.now();
}

/** Before a call: collects if evictions have waited too long for an idle moment. */
export function collectIfOverdue(): void {
  if (pendingSince !== undefined && performance.now() - pendingSince >= COLLECT_WITHIN_MS) collect();
}

/** Blocks until a call arrives, running `onWake` (setup messages) whenever the host wakes it. */
export function awaitCall(channel: ChannelEnd, spinMicroseconds: number, onWake: () => void): void {
  if (spinFor(channel, REQUEST, spinMicroseconds)) return;
  for (;;) {
    const current = state(channel);
    if (current === REQUEST) return;
    const waited = sleepWhile(channel, current, pendingSince === undefined ? Infinity : COLLECT_WHEN_IDLE_MS);
    onWake();
    if (waited === 'timed-out' && pendingSince !== undefined) collect();
  }
}

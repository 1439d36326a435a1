/**
 * Full garbage collections on request. A sandbox's memory (parked or closed) is freed only once
 * every thread that referenced it has collected its references: the executors that held an
 * instance over it and the host's own thread. Neither collects its old generation often by
 * itself (wasm memories are not counted as heap), so memory would stay resident long after
 * parking.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** After a park, the host's thread collects this much later, so that a burst of parks costs one. */
const SETTLE_MS = 100;
/** ... and at most this often: a full collection pauses the event loop for a few ms. */
const MIN_INTERVAL_MS = 2000;

let collector: (() => void) | undefined;

/**
 * V8's `gc` for the calling thread. The flag is set just long enough to make one context with
 * it, so other contexts and threads do not get a `gc` global.
 */
export function collectGarbage(): void {
  if (!collector) {
    const own = (globalThis as { gc?: () => void }).gc;
    if (own) collector = own;
    else {
      setFlagsFromString('--expose-gc');
      try {
        collector = runInNewContext('gc') as () => void;
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
  }
  collector();
}

let scheduled: NodeJS.Timeout | undefined;
let lastCollection = -Infinity;

/** Asks for a collection on this thread soon (memory was released), at most every 2 s. */
export function collectSoon(): void {
  if (scheduled) return;
  const delay = Math.max(SETTLE_MS, lastCollection + MIN_INTERVAL_MS - performance.now());
  scheduled = setTimeout(() => {
    scheduled = undefined;
    lastCollection = performance.now();
    collectGarbage();
  }, delay).unref();
}

/**
 * Full garbage collections on request. A sandbox's memory (closed, reset or parked) is freed only
 * once every thread that referenced it has collected its references: the executors that held an
 * instance over it and the host's own thread. Neither collects its old generation by itself for
 * that (V8 does not count wasm memories as heap): measured, 300 sandboxes created and closed in
 * a row left 2.2 GB resident, and 200 parked ones stayed resident through 30,000 more calls.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full collection pauses the thread for 15-50 ms (measured: marking the compiled modules'
 * metadata alone takes ~12 ms), so a thread collects once released memories add up to this
 * much (about 35 Python sandboxes) ...
 */
export const COLLECT_AFTER_BYTES = 256 * 1024 * 1024;
/** ... or this long after the first of them, whichever comes first. */
export const COLLECT_WITHIN_MS = 5000;
/** After the threshold is reached, this much later: a burst of releases costs one collection. */
const SETTLE_MS = 100;

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

let pendingBytes = 0;
let scheduled: { timer: NodeJS.Timeout; at: number } | undefined;

/** Memory of `bytes` was released on this thread: collect once enough adds up, or soon anyway. */
export function releasedMemory(bytes: number): void {
  pendingBytes += bytes;
  const at = performance.now() + (pendingBytes >= COLLECT_AFTER_BYTES ? SETTLE_MS : COLLECT_WITHIN_MS);
  if (scheduled && scheduled.at <= at) return;
  if (scheduled) clearTimeout(scheduled.timer);
  const timer = setTimeout(() => {
    scheduled = undefined;
    pendingBytes = 0;
    collectGarbage();
  }, at - performance.now()).unref();
  scheduled = { timer, at };
}

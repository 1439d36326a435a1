/**
 * Process-wide engine tuning for long-running hosts (servers, benchmarks). Opt-in, because V8
 * flags affect every WebAssembly module in the process, not only sandboxes.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * V8 first runs wasm with its baseline compiler and moves a function to the optimising
 * compiler once it has executed "enough". The default threshold suits short programs; an
 * interpreter such as CPython spends its life in a few hot functions, and reaching optimised
 * code sooner makes guest code up to about 1.5x faster in steady state, at the cost of more
 * compilation in the first seconds.
 */
export const LONG_RUN_TIERING_BUDGET = 20_000;

let tuned = false;

/** Call once, before creating sandboxes, in a process that runs guests for a long time. */
export function tuneForLongRuns(tieringBudget = LONG_RUN_TIERING_BUDGET): void {
  if (tuned) return;
  setFlagsFromString(`--wasm-tiering-budget=${tieringBudget}`);
  tuned = true;
}

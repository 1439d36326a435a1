/**
 * Host-function round trips (guest -> host -> guest) for the `host-call` workload: a loop in the
 * guest calls `inc(total)` `calls` times; a sample is the loop's wall time divided by `calls`.
 * Ours with the function from a `functionsModule` (run on the executor, no thread hop) and as a
 * closure (run on this thread); Pyodide with a JavaScript function set as a Python global.
 */
import { elapsedUs, now, type Language, type RepsParams } from './common.js';

export interface HostCallParams extends RepsParams {
  language: Language;
  /** Where the function lives: a functionsModule, or a closure on the caller's thread. */
  place: 'module' | 'closure';
  /** Host calls per sample. */
  calls: number;
}

/** The function as a functionsModule. */
export const TOOLS = new URL('./host-call-tools.mjs', import.meta.url);

export function loop(language: Language, calls: number): string {
  return language === 'python'
    ? `total = 0\nfor _ in range(${calls}):\n    total = inc(total)`
    : `var total = 0; for (let i = 0; i < ${calls}; i++) total = inc(total);`;
}

export async function timedLoops(
  params: RepsParams & { calls: number },
  runLoop: () => Promise<unknown>,
  total: () => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < params.warmup + params.reps; i++) {
    const start = now();
    await runLoop();
    const us = elapsedUs(start) / params.calls;
    if (i >= params.warmup) samples.push(us);
  }
  const value = await total();
  if (value !== params.calls) throw new Error(`the loop computed ${String(value)}, not ${params.calls}`);
  return samples;
}

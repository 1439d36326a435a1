/**
 * Node itself: the same JavaScript as a global script of this (otherwise idle) process, V8 with its
 * JIT and no limits. `runInThisContext`, not a new `vm` context: globals of a new context go
 * through interceptors that make global-variable loops many times slower than plain Node.
 */
import { runInThisContext } from 'node:vm';
import { elapsedMs, now, repeat, type KernelParams, type KernelResult } from './common.js';

async function kernel(params: KernelParams): Promise<KernelResult> {
  const samples = await repeat(params, () => {
    const start = now();
    runInThisContext(params.source);
    return elapsedMs(start);
  });
  return { samples, check: String(runInThisContext('String(result)')) };
}

export const tasks = { kernel };

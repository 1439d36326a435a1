/** isolated-vm: separate V8 isolates (with the JIT) inside the Node process; a native addon. */
import { createRequire } from 'node:module';
import type IvmModule from 'isolated-vm';
import {
  elapsedMs,
  elapsedUs,
  errorText,
  now,
  repeat,
  type KernelParams,
  type KernelResult,
  type MemoryParams,
  type MemoryResult,
  type NeighbourParams,
  type NeighbourResult,
  type OvershootParams,
  type OvershootResult,
  type RepsParams,
  type SamplesResult,
  alternate,
  rssPerLiveInstance,
} from './common.js';

const ivm = createRequire(import.meta.url)('isolated-vm') as typeof IvmModule;

/** memoryLimit is in MB; isolated-vm's minimum is 8. */
function sandbox(memoryLimitMb = 20): { isolate: IvmModule.Isolate; context: IvmModule.Context } {
  const isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb });
  return { isolate, context: isolate.createContextSync() };
}

async function readyCold(params: RepsParams): Promise<SamplesResult> {
  const samples = await repeat(params, () => {
    const start = now();
    const { isolate, context } = sandbox();
    const value: unknown = context.evalSync('2 + 2');
    const ms = elapsedMs(start);
    if (value !== 4) throw new Error(`isolated-vm answered ${String(value)}`);
    isolate.dispose();
    return ms;
  });
  return { samples };
}

async function call(params: RepsParams & { expression: string }): Promise<SamplesResult> {
  const { context } = sandbox();
  const samples: number[] = [];
  for (let i = 0; i < params.warmup + params.reps; i++) {
    const start = now();
    context.evalSync(params.expression);
    const us = elapsedUs(start);
    if (i >= params.warmup) samples.push(us);
  }
  return { samples, note: 'evalSync (same thread)' };
}

async function kernel(params: KernelParams): Promise<KernelResult> {
  const { context } = sandbox(256);
  try {
    const samples = await repeat(params, () => {
      const start = now();
      context.evalSync(params.source, { timeout: 60_000 });
      return elapsedMs(start);
    });
    return { samples, check: String(context.evalSync('String(result)')) };
  } catch (error) {
    return { samples: [], check: '', unsupported: errorText(error) };
  }
}

function memory(params: MemoryParams): Promise<MemoryResult> {
  return rssPerLiveInstance(
    params,
    () => {
      const s = sandbox();
      s.context.evalSync('2 + 2');
      return s;
    },
    `process RSS delta over ${params.count} live isolates, one context each`,
  );
}

async function overshoot(params: OvershootParams): Promise<OvershootResult> {
  const rejected: number[] = [];
  for (let i = 0; i < params.runs; i++) {
    const { isolate, context } = sandbox();
    const start = now();
    try {
      context.evalSync('while (true) {}', { timeout: params.timeoutMs });
      throw new Error('the runaway script returned');
    } catch (error) {
      if (!/timed out/i.test(errorText(error))) throw error;
    }
    rejected.push(elapsedMs(start) - params.timeoutMs);
    isolate.dispose();
  }
  return { rejected, stopped: rejected, note: 'evalSync with timeout: returns once the isolate has stopped' };
}

/** Other isolates answer async evals (isolated-vm's thread pool) while one spins with a timeout. */
async function neighbour(params: NeighbourParams): Promise<NeighbourResult> {
  const others = Array.from({ length: params.others }, () => sandbox());
  const runaway = sandbox();
  return alternate(
    params,
    (i) => others[i % others.length]!.context.eval('2 + 2'),
    async () => {
      await runaway.context.eval('while (true) {}', { timeout: params.timeoutMs }).catch(() => undefined);
    },
  );
}

export const tasks = { readyCold, call, kernel, memory, overshoot, neighbour };

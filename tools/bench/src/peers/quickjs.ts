/** quickjs-emscripten: the QuickJS interpreter compiled to WebAssembly, in-process (sync build). */
import { getQuickJS, shouldInterruptAfterDeadline, type QuickJSContext, type QuickJSRuntime } from 'quickjs-emscripten';
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
  type OvershootParams,
  type OvershootResult,
  type RepsParams,
  type SamplesResult,
  rssPerLiveInstance,
} from './common.js';

const MiB = 1024 * 1024;

function evaluate(context: QuickJSContext, code: string): unknown {
  const handle = context.unwrapResult(context.evalCode(code));
  try {
    return context.dump(handle);
  } finally {
    handle.dispose();
  }
}

async function sandbox(memoryLimitBytes = 20 * MiB): Promise<{ runtime: QuickJSRuntime; context: QuickJSContext }> {
  const QuickJS = await getQuickJS();
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(memoryLimitBytes);
  return { runtime, context: runtime.newContext() };
}

async function readyCold(params: RepsParams): Promise<SamplesResult> {
  await getQuickJS();
  const samples = await repeat(params, async () => {
    const start = now();
    const { runtime, context } = await sandbox();
    const value = evaluate(context, '2 + 2');
    const ms = elapsedMs(start);
    if (value !== 4) throw new Error(`QuickJS answered ${String(value)}`);
    context.dispose();
    runtime.dispose();
    return ms;
  });
  return { samples };
}

async function call(params: RepsParams & { expression: string }): Promise<SamplesResult> {
  const { context } = await sandbox();
  const samples: number[] = [];
  for (let i = 0; i < params.warmup + params.reps; i++) {
    const start = now();
    evaluate(context, params.expression);
    const us = elapsedUs(start);
    if (i >= params.warmup) samples.push(us);
  }
  return { samples };
}

async function kernel(params: KernelParams): Promise<KernelResult> {
  const { context } = await sandbox(256 * MiB);
  try {
    const samples = await repeat(params, () => {
      const start = now();
      evaluate(context, params.source);
      return elapsedMs(start);
    });
    return { samples, check: String(evaluate(context, 'String(result)')) };
  } catch (error) {
    return { samples: [], check: '', unsupported: errorText(error) };
  }
}

function memory(params: MemoryParams): Promise<MemoryResult> {
  return rssPerLiveInstance(
    params,
    async () => {
      const s = await sandbox();
      evaluate(s.context, '2 + 2');
      return s;
    },
    `process RSS delta over ${params.count} live runtimes, one context each`,
  );
}

async function overshoot(params: OvershootParams): Promise<OvershootResult> {
  const rejected: number[] = [];
  for (let i = 0; i < params.runs; i++) {
    const { runtime, context } = await sandbox();
    const start = now();
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + params.timeoutMs));
    const result = context.evalCode('while (true) {}');
    rejected.push(elapsedMs(start) - params.timeoutMs);
    if (!result.error) throw new Error('the runaway script returned');
    result.error.dispose();
    context.dispose();
    runtime.dispose();
  }
  // The interpreter runs on the calling thread: when evalCode returns, the loop has stopped.
  return { rejected, stopped: rejected };
}

export const tasks = { readyCold, call, kernel, memory, overshoot };

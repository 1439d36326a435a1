/** Our host, through its public API only: createSandbox, createSandboxPool, Sandbox.exec/eval. */
import { existsSync, readdirSync } from 'node:fs';
import { freemem } from 'node:os';
import { createSandbox, createSandboxPool, type Sandbox } from '@component-sandbox/host';
import { artifactDir as pythonArtifact } from '@component-sandbox/guest-python';
import { artifactDir as javascriptArtifact } from '@component-sandbox/guest-javascript';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  elapsedMs,
  elapsedUs,
  now,
  repeat,
  rss,
  settle,
  type KernelParams,
  type KernelResult,
  type Language,
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

const MiB = 1024 * 1024;

function guest(language: Language): string {
  return language === 'python' ? pythonArtifact : javascriptArtifact;
}

const RUNAWAY: Record<Language, string> = { python: 'while True: pass', javascript: 'while (true) {}' };

/** The checked value's text: Python `str(result)`, JavaScript `String(result)`. */
function checkExpression(language: Language): string {
  return language === 'python' ? 'str(result)' : 'String(result)';
}

async function readyCold(params: RepsParams & { language: Language }): Promise<SamplesResult> {
  const options = { guest: guest(params.language) };
  let start = now();
  const first = await createSandbox(options);
  await first.eval('2 + 2');
  const firstMs = elapsedMs(start);
  await first.close();
  const samples = await repeat(params, async () => {
    start = now();
    const sandbox = await createSandbox(options);
    await sandbox.eval('2 + 2');
    const ms = elapsedMs(start);
    await sandbox.close();
    return ms;
  });
  return { samples, first: firstMs };
}

async function readyWarm(params: RepsParams & { language: Language; poolSize: number }): Promise<SamplesResult> {
  const pool = await createSandboxPool({ guest: guest(params.language), size: params.poolSize });
  const samples = await repeat(params, async () => {
    // "From a warm pool": wait until the pool has refilled after the previous acquire.
    while (pool.idle < pool.size) await sleep(5);
    await sleep(20);
    const start = now();
    const sandbox = await pool.acquire();
    await sandbox.eval('2 + 2');
    const ms = elapsedMs(start);
    await sandbox.close();
    return ms;
  });
  await pool.close();
  return { samples };
}

async function call(params: RepsParams & { language: Language; expression: string }): Promise<SamplesResult> {
  const sandbox = await createSandbox({ guest: guest(params.language) });
  const samples: number[] = [];
  for (let i = 0; i < params.warmup + params.reps; i++) {
    const start = now();
    await sandbox.eval(params.expression);
    const us = elapsedUs(start);
    if (i >= params.warmup) samples.push(us);
  }
  await sandbox.close();
  return { samples };
}

async function kernel(params: KernelParams): Promise<KernelResult> {
  const sandbox = await createSandbox({
    guest: guest(params.language),
    timeoutMs: 60_000,
    memoryLimitBytes: 256 * MiB,
  });
  const samples = await repeat(params, async () => {
    const start = now();
    await sandbox.exec(params.source);
    return elapsedMs(start);
  });
  const check = String((await sandbox.eval(checkExpression(params.language))).value);
  await sandbox.close();
  return { samples, check };
}

function memory(params: MemoryParams): Promise<MemoryResult> {
  const options = { guest: guest(params.language) };
  return rssPerLiveInstance(
    params,
    async () => {
      const sandbox = await createSandbox(options);
      await sandbox.eval('2 + 2');
      return sandbox;
    },
    `process RSS delta over ${params.count} live sandboxes (one made before the baseline)`,
    (sandbox) => sandbox.close(),
  );
}

export interface SessionsParams {
  count: number;
  concurrency: number;
  /** Stop creating sandboxes when the machine's available memory falls below this. */
  minAvailableBytes: number;
}

export interface SessionsResult extends MemoryResult {
  requested: number;
  /** Why fewer than requested were created. */
  stoppedBecause?: string;
  /** us of one eval on every live sandbox, after all were created. */
  evalUs: number[];
  createSeconds: number;
  threads: number;
}

async function sessions(params: SessionsParams): Promise<SessionsResult> {
  const options = { guest: pythonArtifact };
  const warm = await createSandbox(options);
  await warm.eval('2 + 2');
  await warm.close();
  await settle(1000);
  const baselineBytes = rss();
  const started = now();
  const sandboxes: Sandbox[] = [];
  let stoppedBecause: string | undefined;
  let next = 0;
  const lane = async () => {
    while (next < params.count && stoppedBecause === undefined) {
      if (freemem() < params.minAvailableBytes) {
        stoppedBecause = `available memory fell below ${Math.round(params.minAvailableBytes / MiB)} MiB`;
        break;
      }
      const id = next++;
      const sandbox = await createSandbox(options);
      await sandbox.exec(`session_id = ${id}`);
      const { value } = await sandbox.eval('session_id + 2 + 2');
      if (value !== id + 4) throw new Error(`session ${id} answered ${String(value)}`);
      sandboxes.push(sandbox);
      if (sandboxes.length % 100 === 0) process.stderr.write(`  ${sandboxes.length} sessions live\n`);
    }
  };
  await Promise.all(Array.from({ length: params.concurrency }, lane));
  const createSeconds = elapsedMs(started) / 1000;
  await settle(3000);
  const afterBytes = rss();
  const evalUs: number[] = [];
  for (const sandbox of sandboxes) {
    const start = now();
    await sandbox.eval('2 + 2');
    evalUs.push(elapsedUs(start));
  }
  const threads = readdirSync('/proc/self/task').length;
  const count = sandboxes.length;
  await Promise.all(sandboxes.map((s) => s.close()));
  return {
    count,
    requested: params.count,
    ...(stoppedBecause ? { stoppedBecause } : {}),
    baselineBytes,
    afterBytes,
    perInstanceBytes: (afterBytes - baselineBytes) / Math.max(count, 1),
    seconds: elapsedMs(started) / 1000,
    createSeconds,
    evalUs,
    threads,
  };
}

function threadIds(): Set<string> {
  return new Set(readdirSync('/proc/self/task'));
}

async function overshoot(params: OvershootParams): Promise<OvershootResult> {
  const rejected: number[] = [];
  const stopped: number[] = [];
  const code = RUNAWAY[params.language];
  for (let i = 0; i < params.runs; i++) {
    const before = threadIds();
    const sandbox = await createSandbox({ guest: guest(params.language), timeoutMs: params.timeoutMs });
    await sandbox.eval('2 + 2');
    // The sandbox's own threads: those that appeared with it. They exit when its worker stops.
    const own = [...threadIds()].filter((id) => !before.has(id));
    const start = now();
    try {
      await sandbox.exec(code);
      throw new Error('the runaway call returned');
    } catch (error) {
      if ((error as { code?: string }).code !== 'TIMEOUT') throw error;
    }
    rejected.push(elapsedMs(start) - params.timeoutMs);
    if (own.length > 0) {
      // Poll until every thread of the sandbox is gone: then the loop is stopped for sure.
      while (own.some((id) => existsSync(`/proc/self/task/${id}`)) && elapsedMs(start) < params.timeoutMs + 5000) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      stopped.push(elapsedMs(start) - params.timeoutMs);
    }
    await sandbox.close();
  }
  return {
    rejected,
    ...(stopped.length === params.runs ? { stopped } : {}),
    note: 'stopped = every thread that came with the sandbox has exited (/proc/self/task)',
  };
}

async function neighbour(params: NeighbourParams): Promise<NeighbourResult> {
  const others = await Promise.all(
    Array.from({ length: params.others }, () => createSandbox({ guest: pythonArtifact })),
  );
  const runaway = await createSandbox({ guest: pythonArtifact, timeoutMs: params.timeoutMs });
  const result = await alternate(
    params,
    (i) => others[i % others.length]!.eval('2 + 2'),
    async () => {
      await runaway.exec(RUNAWAY.python).catch(() => undefined);
      await runaway.reset();
    },
  );
  await Promise.all([...others, runaway].map((s) => s.close()));
  return result;
}

export const tasks = { readyCold, readyWarm, call, kernel, memory, sessions, overshoot, neighbour };

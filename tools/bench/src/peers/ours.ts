/**
 * Our host, through its public API only: createSandbox, createSandboxPool, Sandbox.exec/eval,
 * createInProcessSandbox.
 */
import { readdirSync } from 'node:fs';
import { freemem } from 'node:os';
import { createInProcessSandbox, createSandbox, createSandboxPool, type Sandbox } from '@component-sandbox/host';
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
  PYTHON_RUNAWAY,
  SESSION_STATE,
} from './common.js';
import { parkTasks } from './ours-park.js';
import { hostCall } from './ours-host-call.js';

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

async function call(
  params: RepsParams & { language: Language; expression: string; inProcess?: boolean },
): Promise<SamplesResult> {
  if (params.inProcess) return callInProcess(params);
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

/** The same calls on an in-process sandbox: they run on this thread and return at once. */
async function callInProcess(params: RepsParams & { language: Language; expression: string }): Promise<SamplesResult> {
  const sandbox = await createInProcessSandbox({ guest: guest(params.language) });
  const samples: number[] = [];
  for (let i = 0; i < params.warmup + params.reps; i++) {
    const start = now();
    sandbox.eval(params.expression);
    const us = elapsedUs(start);
    if (i >= params.warmup) samples.push(us);
  }
  sandbox.close();
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
  /** The sandboxes' park delay: idle ones are parked after it. */
  parkIdleMs: number;
}

export interface SessionsResult extends MemoryResult {
  requested: number;
  /** Why fewer than requested were created. */
  stoppedBecause?: string;
  /** ms of one eval on every live sandbox (parked before it: the restore included). */
  evalMs: number[];
  /** Sessions parked when RSS was measured. */
  parked: number;
  createSeconds: number;
  threads: number;
}

async function sessions(params: SessionsParams): Promise<SessionsResult> {
  const options = { guest: pythonArtifact, parkIdleMs: params.parkIdleMs };
  const warm = await createSandbox(options);
  await warm.eval('2 + 2');
  await warm.close();
  await settle(1000);
  const baselineBytes = rss();
  const started = now();
  const sandboxes: Sandbox[] = [];
  /** session_id of each sandbox (two lanes finish out of order). */
  const ids = new Map<Sandbox, number>();
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
      await sandbox.exec(`session_id = ${id}\n${SESSION_STATE}`);
      const { value } = await sandbox.eval('session_id + 2 + 2');
      if (value !== id + 4) throw new Error(`session ${id} answered ${String(value)}`);
      sandboxes.push(sandbox);
      ids.set(sandbox, id);
      if (sandboxes.length % 500 === 0) {
        const parked = sandboxes.filter((s) => s.parked).length;
        process.stderr.write(
          `  ${sandboxes.length} sessions live, ${parked} parked, RSS ${Math.round(rss() / MiB)} MiB\n`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: params.concurrency }, lane));
  const createSeconds = elapsedMs(started) / 1000;
  // Every session idle past parkIdleMs is parked; the host frees their memory after that.
  const deadline = performance.now() + params.parkIdleMs + 30_000;
  while (sandboxes.some((s) => !s.parked) && performance.now() < deadline) await sleep(100);
  await settle(3000);
  const afterBytes = rss();
  const parked = sandboxes.filter((s) => s.parked).length;
  const evalMs: number[] = [];
  for (const sandbox of sandboxes) {
    const id = ids.get(sandbox)!;
    const start = now();
    const { value } = await sandbox.eval('session_id + 2 + 2');
    evalMs.push(elapsedMs(start));
    if (value !== id + 4) throw new Error(`session ${id} answered ${String(value)} after it was parked`);
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
    evalMs,
    parked,
    threads,
  };
}

/**
 * The runaway's stop is seen when its call returns: the executor replies only once the guest
 * code has stopped running (interrupted, or trapped at a loop check).
 */
async function overshoot(params: OvershootParams): Promise<OvershootResult> {
  const stopped: number[] = [];
  const code = params.code ?? RUNAWAY[params.language];
  const sandbox = await createSandbox({ guest: guest(params.language), timeoutMs: params.timeoutMs });
  for (let i = 0; i < params.runs; i++) {
    if (sandbox.state === 'dead') await sandbox.reset();
    await sandbox.eval('2 + 2');
    const start = now();
    const result = await sandbox.run('exec', code);
    if (result.status !== 'timeout') throw new Error(`the runaway call ended with ${result.status}`);
    stopped.push(elapsedMs(start) - params.timeoutMs);
  }
  await sandbox.close();
  return {
    rejected: stopped,
    stopped,
    note: "stopped = the call's result arrived, which the executor sends only once the guest has stopped",
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
      await runaway.run('exec', params.code ?? PYTHON_RUNAWAY);
      // A C-level runaway is stopped hard, and its sandbox with it.
      if (runaway.state === 'dead') await runaway.reset();
    },
  );
  await Promise.all([...others, runaway].map((s) => s.close()));
  return result;
}

export const tasks = {
  readyCold,
  readyWarm,
  call,
  kernel,
  memory,
  sessions,
  overshoot,
  neighbour,
  ...parkTasks,
  hostCall,
};

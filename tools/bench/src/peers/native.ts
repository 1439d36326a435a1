/**
 * Native CPython (`python3` on this machine), one OS process per interpreter. Spawn and pipe
 * round trips are timed from Node; interpreter-internal work is timed inside Python
 * (native-driver.py) so no IPC is counted.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  elapsedMs,
  elapsedUs,
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
  PYTHON_RUNAWAY,
  SESSION_CHECK,
  SESSION_STATE,
  type SnapshotResult,
} from './common.js';

const DRIVER = fileURLToPath(new URL('./native-driver.py', import.meta.url));

interface NativeParams {
  /** The interpreter's real path (not a version-manager shim, whose start-up would be counted). */
  python: string;
}

/** Runs the interpreter to completion and returns its stdout. */
function run(python: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`python3 exited ${code}: ${err.slice(-400)}`)),
    );
  });
}

/** Time from spawn to the first result printed by `python3 -c 'print(2+2)'`. */
function spawnUntilResult(python: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = now();
    const child = spawn(python, ['-c', 'print(2+2)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    let ms = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (ms === 0 && out.includes('4')) ms = elapsedMs(start);
    });
    child.on('error', reject);
    child.on('close', () => (ms > 0 ? resolve(ms) : reject(new Error(`python3 printed ${JSON.stringify(out)}`))));
  });
}

async function readyCold(params: RepsParams & NativeParams): Promise<SamplesResult> {
  const first = await spawnUntilResult(params.python);
  const samples = await repeat(params, () => spawnUntilResult(params.python));
  return { samples, first };
}

async function call(params: RepsParams & NativeParams & { expression: string }): Promise<SamplesResult> {
  const out = await run(params.python, [DRIVER, 'call', String(params.reps), String(params.warmup), params.expression]);
  const { ns } = JSON.parse(out) as { ns: number[] };
  return { samples: ns.map((x) => x / 1000), note: 'timed inside python3 with time.perf_counter_ns' };
}

async function kernel(params: KernelParams & NativeParams): Promise<KernelResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-kernel-'));
  try {
    const file = join(dir, `${params.name}.py`);
    writeFileSync(file, params.source);
    const out = await run(params.python, [DRIVER, 'kernel', file, String(params.reps), String(params.warmup)]);
    const { ms, check } = JSON.parse(out) as { ms: number[]; check: string };
    return { samples: ms, check };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An idle interpreter process answering one expression per line over pipes. */
class Repl {
  readonly child: ChildProcessWithoutNullStreams;
  #buffer = '';
  #waiting: ((line: string) => void)[] = [];

  constructor(python: string) {
    this.child = spawn(python, [DRIVER, 'repl']);
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      let index: number;
      while ((index = this.#buffer.indexOf('\n')) >= 0) {
        const line = this.#buffer.slice(0, index);
        this.#buffer = this.#buffer.slice(index + 1);
        this.#waiting.shift()?.(line);
      }
    });
  }

  eval(expression: string): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.child.stdin.write(`${expression}\n`);
    });
  }

  close(): void {
    this.child.kill('SIGKILL');
  }
}

/** Proportional set size and RSS of a process, from /proc/PID/smaps_rollup (bytes). */
function memoryOf(pid: number): { pss: number; rss: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { pss: field('Pss'), rss: field('Rss') };
}

async function memory(params: MemoryParams & NativeParams): Promise<MemoryResult> {
  const started = now();
  const repls: Repl[] = [];
  for (let i = 0; i < params.count; i++) {
    const repl = new Repl(params.python);
    const answer = await repl.eval('2 + 2');
    if (answer !== '4') throw new Error(`python3 answered ${answer}`);
    repls.push(repl);
  }
  const seconds = elapsedMs(started) / 1000;
  await sleep(500);
  const evalUs: number[] = [];
  for (const repl of repls) {
    const start = now();
    await repl.eval('2 + 2');
    evalUs.push(elapsedUs(start));
  }
  let pss = 0;
  let rssSum = 0;
  for (const repl of repls) {
    const m = memoryOf(repl.child.pid!);
    pss += m.pss;
    rssSum += m.rss;
  }
  for (const repl of repls) repl.close();
  return {
    count: params.count,
    baselineBytes: 0,
    afterBytes: pss,
    perInstanceBytes: pss / params.count,
    seconds,
    evalUs,
    method:
      `sum of PSS (shared pages split between the processes) over ${params.count} idle python3 processes; ` +
      `their plain RSS would be ${(rssSum / params.count / 1e6).toFixed(1)} MB each`,
  };
}

/** A python3 process that says `go`, then runs away (`code`); killed at the deadline. */
function runaway(python: string, timeoutMs: number, code = PYTHON_RUNAWAY): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', `print('go', flush=True)\n${code}`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let deadline: bigint | undefined;
    child.stdout.once('data', () => {
      deadline = now();
      setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    });
    child.on('error', reject);
    child.on('exit', () =>
      deadline === undefined ? reject(new Error('python3 exited early')) : resolve(elapsedMs(deadline) - timeoutMs),
    );
  });
}

async function overshoot(params: OvershootParams & NativeParams): Promise<OvershootResult> {
  const stopped: number[] = [];
  for (let i = 0; i < params.runs; i++) stopped.push(await runaway(params.python, params.timeoutMs, params.code));
  return { rejected: stopped, stopped, note: 'a timer and SIGKILL; stopped = the exit of the process was seen' };
}

async function neighbour(params: NeighbourParams & NativeParams): Promise<NeighbourResult> {
  const others = Array.from({ length: params.others }, () => new Repl(params.python));
  const result = await alternate(
    params,
    (i) => others[i % others.length]!.eval('2 + 2'),
    async () => {
      await runaway(params.python, params.timeoutMs, params.code);
    },
  );
  for (const repl of others) repl.close();
  return result;
}

/** The globals' data pickled and unpickled inside python3 (functions and modules do not pickle). */
async function snapshot(params: RepsParams & NativeParams): Promise<SnapshotResult> {
  const out = await run(params.python, [
    DRIVER,
    'snapshot',
    String(params.reps),
    String(params.warmup),
    SESSION_STATE,
    SESSION_CHECK.expression,
  ]);
  const r = JSON.parse(out) as { bytes: number; snapshotMs: number[]; restoreMs: number[] };
  return {
    ...r,
    totalMs: r.snapshotMs.map((ms, i) => ms + r.restoreMs[i]!),
    note: 'pickle.dumps of the data globals + pickle.loads + eval, timed inside python3 (data only: no functions)',
  };
}

export const tasks = { readyCold, call, kernel, memory, overshoot, neighbour, snapshot };

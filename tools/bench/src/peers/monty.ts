/**
 * Monty (@pydantic/monty): a Python subset interpreter written in Rust, a native addon running
 * in-process. `MontyRepl` is its session (state persists between `feed` calls); `Monty` parses
 * and runs one program with fresh state.
 */
import { Monty, MontyRepl } from '@pydantic/monty';
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
  parkedRounds,
  parkedResult,
  timeSnapshots,
  PYTHON_RUNAWAY,
  SESSION_CHECK,
  SESSION_STATE,
  type ParkedParams,
  type ParkedResult,
  type SnapshotResult,
} from './common.js';

async function readyCold(params: RepsParams): Promise<SamplesResult> {
  const samples = await repeat(params, () => {
    const start = now();
    const repl = new MontyRepl();
    const value = repl.feed('2 + 2');
    const ms = elapsedMs(start);
    if (value !== 4) throw new Error(`Monty answered ${String(value)}`);
    return ms;
  });
  return { samples };
}

/** `run`: parse and run the expression as a program (stateless); `repl`: feed it to one session. */
async function call(params: RepsParams & { expression: string; mode: 'run' | 'repl' }): Promise<SamplesResult> {
  const repl = new MontyRepl();
  const samples: number[] = [];
  for (let i = 0; i < params.warmup + params.reps; i++) {
    const start = now();
    if (params.mode === 'run') new Monty(params.expression).run();
    else repl.feed(params.expression);
    const us = elapsedUs(start);
    if (i >= params.warmup) samples.push(us);
  }
  return { samples };
}

async function kernel(params: KernelParams): Promise<KernelResult> {
  // The program ends with the checked expression: Monty returns the last expression's value.
  const program = `${params.source}\nstr(result)`;
  let check = '';
  try {
    const samples = await repeat(params, () => {
      const start = now();
      check = String(new Monty(program).run({ limits: { maxDurationSecs: 60 } }));
      return elapsedMs(start);
    });
    return { samples, check };
  } catch (error) {
    return { samples: [], check: '', unsupported: errorText(error) };
  }
}

function memory(params: MemoryParams): Promise<MemoryResult> {
  return rssPerLiveInstance(
    params,
    () => {
      const repl = new MontyRepl();
      repl.feed('2 + 2');
      return repl;
    },
    `process RSS delta over ${params.count} live MontyRepl sessions`,
  );
}

async function overshoot(params: OvershootParams): Promise<OvershootResult> {
  const rejected: number[] = [];
  for (let i = 0; i < params.runs; i++) {
    const start = now();
    try {
      new Monty(params.code ?? PYTHON_RUNAWAY).run({ limits: { maxDurationSecs: params.timeoutMs / 1000 } });
      throw new Error('the runaway program returned');
    } catch (error) {
      if (!/time limit/i.test(errorText(error))) throw error;
    }
    rejected.push(elapsedMs(start) - params.timeoutMs);
  }
  // Monty runs on the calling thread: when the call returns, the loop has stopped.
  return { rejected, stopped: rejected };
}

function checked(repl: MontyRepl): void {
  const value = repl.feed(SESSION_CHECK.expression);
  if (value !== SESSION_CHECK.value) throw new Error(`a restored MontyRepl answered ${String(value)}`);
}

/** `MontyRepl.dump()`, then `MontyRepl.load()` of its bytes until the loaded session answers. */
async function snapshot(params: RepsParams): Promise<SnapshotResult> {
  const repl = new MontyRepl();
  repl.feed(SESSION_STATE);
  return timeSnapshots(
    params,
    () => repl.dump(),
    (dumped) => checked(MontyRepl.load(dumped)),
    'MontyRepl.dump() + MontyRepl.load() + the first feed',
  );
}

/** Monty's way to park a session: keep its dump() bytes, drop the session, load() it on use. */
async function parked(params: ParkedParams): Promise<ParkedResult> {
  const rounds = await parkedRounds(params.count, () => {
    const repl = new MontyRepl();
    repl.feed(SESSION_STATE);
    return repl.dump();
  });
  const dumps = rounds.sessions;
  const restoreMs: number[] = [];
  for (const [i, dumped] of dumps.entries()) {
    const start = now();
    const repl = MontyRepl.load(dumped);
    checked(repl);
    restoreMs.push(elapsedMs(start));
    dumps[i] = repl.dump();
  }
  return parkedResult(
    rounds,
    params.count,
    restoreMs,
    `RSS growth over a second round of ${params.count} MontyRepl sessions kept as dump() bytes, per session`,
  );
}

export const tasks = { readyCold, call, kernel, memory, overshoot, snapshot, parked };

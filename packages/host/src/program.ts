/**
 * The reference demo's job: zero or more statements, then one expression, in one sandbox,
 * reported as data like every call. Or, as a notebook runs it, a list of cells.
 */
import type { CallResult } from './call-result.js';
import type { CallKind, RunOptions } from './sandbox.js';
import type { ResolvedLimits } from './options.js';
import type { SandboxState } from './sandbox-state.js';

/** What a program runs in: a `Sandbox`, or an `InProcessSandbox` (whose calls return at once). */
export interface ProgramTarget {
  readonly state: SandboxState;
  readonly limits: ResolvedLimits;
  run(
    kind: CallKind,
    code: string,
    options?: Pick<RunOptions, 'timeoutMs' | 'stdin'>,
  ): CallResult | Promise<CallResult>;
}

export interface ProgramResult extends CallResult {
  /** Index of the statement (or cell) that failed, when one did. */
  failedStatement?: number;
  /** True when the program's time budget, not a call's own limit, ended it. */
  budgetSpent?: boolean;
}

interface ProgramRunOptions {
  /** Called after each call with what the guest printed, so output can be shown in order. */
  onOutput?: (stdout: string, stderr: string) => void;
  /** Time for all the program's calls together, in ms; each call also keeps its own limit. */
  timeBudgetMs?: number;
  /** stdin of every call: each reads it from the start (see RunOptions.stdin). */
  stdin?: string;
}

export interface Program extends ProgramRunOptions {
  /** Executed in order; the first that fails ends the program. */
  statements: readonly string[];
  /** Evaluated last, when every statement succeeded. */
  expression: string;
}

export interface CellProgram extends ProgramRunOptions {
  /** Run in order as cells (`sandbox.run(code)`); the first that fails ends the program. */
  cells: readonly string[];
}

/** Runs calls in order, adding up their output, until one fails; the last call's value wins. */
async function runCalls(
  sandbox: ProgramTarget,
  calls: ReadonlyArray<[CallKind, string]>,
  options: ProgramRunOptions,
): Promise<ProgramResult> {
  const total: ProgramResult = {
    status: 'ok',
    stdout: '',
    stderr: '',
    outputTruncated: false,
    durationMs: 0,
    memoryBytes: 0,
    sandbox: sandbox.state,
  };
  const deadline = performance.now() + (options.timeBudgetMs ?? Infinity);
  let last: CallResult | undefined;
  let budgetSpent = false;
  for (const [index, [kind, code]] of calls.entries()) {
    const left = Math.max(0, deadline - performance.now());
    const call = await sandbox.run(kind, code, {
      ...(Number.isFinite(left) ? { timeoutMs: left } : {}),
      ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    });
    total.stdout += call.stdout;
    total.stderr += call.stderr;
    total.outputTruncated ||= call.outputTruncated;
    total.durationMs += call.durationMs;
    total.memoryBytes = call.memoryBytes;
    total.sandbox = call.sandbox;
    if (call.stdout || call.stderr) options.onOutput?.(call.stdout, call.stderr);
    budgetSpent = call.status === 'timeout' && left < sandbox.limits.timeoutMs;
    last = call;
    // A failing step ends the program with its index; the demo's final expression has none.
    if (call.status !== 'ok' && (index < calls.length - 1 || kind === 'run')) {
      return { ...total, status: call.status, error: call.error, failedStatement: index, budgetSpent };
    }
  }
  return {
    ...total,
    status: last?.status ?? 'ok',
    ...(last?.error ? { error: last.error } : {}),
    ...(last?.json !== undefined ? { value: last.value, json: last.json } : {}),
    budgetSpent,
  };
}

/** Runs a program; throws only for misuse (closed, dead, busy, bad input), like `run`. */
export function runProgram(sandbox: ProgramTarget, program: Program): Promise<ProgramResult> {
  return runCalls(
    sandbox,
    [...program.statements.map((code) => ['exec', code] as [CallKind, string]), ['eval', program.expression]],
    program,
  );
}

/**
 * Runs cells in order (a notebook's way): the result's value is the last cell's, if it has one
 * (IPython's rule, see `Sandbox.run(code)`).
 */
export function runCells(sandbox: ProgramTarget, program: CellProgram): Promise<ProgramResult> {
  return runCalls(
    sandbox,
    program.cells.map((code) => ['run', code] as [CallKind, string]),
    program,
  );
}

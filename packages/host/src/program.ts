/**
 * The reference demo's job: zero or more statements, then one expression, in one sandbox,
 * reported as data like every call.
 */
import type { CallResult } from './call-result.js';
import type { Sandbox } from './sandbox.js';

export interface ProgramResult extends CallResult {
  /** Index of the statement that failed, when a statement did. */
  failedStatement?: number;
  /** True when the program's time budget, not a call's own limit, ended it. */
  budgetSpent?: boolean;
}

export interface Program {
  /** Executed in order; the first that fails ends the program. */
  statements: readonly string[];
  /** Evaluated last, when every statement succeeded. */
  expression: string;
  /** Called after each call with what the guest printed, so output can be shown in order. */
  onOutput?: (stdout: string, stderr: string) => void;
  /** Time for all the program's calls together, in ms; each call also keeps its own limit. */
  timeBudgetMs?: number;
}

/** Runs a program; throws only for misuse (closed, dead, busy, bad input), like `run`. */
export async function runProgram(sandbox: Sandbox, program: Program): Promise<ProgramResult> {
  const total: ProgramResult = {
    status: 'ok',
    stdout: '',
    stderr: '',
    outputTruncated: false,
    durationMs: 0,
    memoryBytes: 0,
    sandbox: sandbox.state,
  };
  const add = (call: CallResult) => {
    total.stdout += call.stdout;
    total.stderr += call.stderr;
    total.outputTruncated ||= call.outputTruncated;
    total.durationMs += call.durationMs;
    total.memoryBytes = call.memoryBytes;
    total.sandbox = call.sandbox;
    if (call.stdout || call.stderr) program.onOutput?.(call.stdout, call.stderr);
  };
  const deadline = performance.now() + (program.timeBudgetMs ?? Infinity);
  let budgetSpent = false;
  const run = async (kind: 'exec' | 'eval', code: string): Promise<CallResult> => {
    const left = Math.max(0, deadline - performance.now());
    const call = await sandbox.run(kind, code, Number.isFinite(left) ? { timeoutMs: left } : {});
    budgetSpent = call.status === 'timeout' && left < sandbox.limits.timeoutMs;
    add(call);
    return call;
  };
  for (const [index, statements] of program.statements.entries()) {
    const call = await run('exec', statements);
    if (call.status !== 'ok') {
      return { ...total, status: call.status, error: call.error, failedStatement: index, budgetSpent };
    }
  }
  const call = await run('eval', program.expression);
  return { ...total, status: call.status, error: call.error, value: call.value, json: call.json, budgetSpent };
}

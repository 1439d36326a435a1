/**
 * The reference demo's job: zero or more statements, then one expression, in one sandbox,
 * reported as data like every call.
 */
import type { CallResult } from './call-result.js';
import type { Sandbox } from './sandbox.js';

export interface ProgramResult extends CallResult {
  /** Index of the statement that failed, when a statement did. */
  failedStatement?: number;
}

export interface Program {
  /** Executed in order; the first that fails ends the program. */
  statements: readonly string[];
  /** Evaluated last, when every statement succeeded. */
  expression: string;
  /** Called after each call with what the guest printed, so output can be shown in order. */
  onOutput?: (stdout: string, stderr: string) => void;
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
  for (const [index, statements] of program.statements.entries()) {
    const call = await sandbox.run('exec', statements);
    add(call);
    if (call.status !== 'ok') return { ...total, status: call.status, error: call.error, failedStatement: index };
  }
  const call = await sandbox.run('eval', program.expression);
  add(call);
  return { ...total, status: call.status, error: call.error, value: call.value, json: call.json };
}

/**
 * Calls reported as data rather than thrown: what every adapter shows its users. A guest error,
 * a timeout, running out of memory and a crash are outcomes of the code that ran; misuse of the
 * sandbox (closed, dead, busy, invalid input) still throws, since no code ran.
 */
import { GuestCrashedError, GuestError, MemoryLimitError, TimeoutError } from './errors.js';
import type { Sandbox } from './sandbox.js';

export type CallStatus = 'ok' | 'exec_error' | 'eval_error' | 'timeout' | 'memory_limit' | 'crashed';

export const CALL_STATUSES: readonly CallStatus[] = [
  'ok',
  'exec_error',
  'eval_error',
  'timeout',
  'memory_limit',
  'crashed',
];

export interface CallReport {
  status: CallStatus;
  /** The value decoded from the guest's JSON (eval, status ok). */
  value?: unknown;
  /** The guest's JSON text (eval, status ok). */
  json?: string;
  /** `type` is the guest's exception type, or `Timeout`, `MemoryLimit`, `Crash`. */
  error?: { type: string; message: string };
  stdout: string;
  stderr: string;
  outputTruncated: boolean;
  durationMs: number;
  memoryBytes?: number;
}

export interface ProgramReport extends CallReport {
  /** Index of the statement that failed, when a statement did. */
  failedStatement?: number;
}

const NO_OUTPUT = { stdout: '', stderr: '', outputTruncated: false, durationMs: 0 };

/** True for statuses after which the sandbox is dead until reset. */
export function isFatalStatus(status: CallStatus): boolean {
  return status === 'timeout' || status === 'memory_limit' || status === 'crashed';
}

/** Runs one call and reports its outcome; throws only for misuse (closed, dead, busy, bad input). */
export async function reportCall(sandbox: Sandbox, kind: 'exec' | 'eval', code: string): Promise<CallReport> {
  try {
    if (kind === 'exec') return { status: 'ok', ...(await sandbox.exec(code)) };
    const { value, json, ...output } = await sandbox.eval(code);
    return { status: 'ok', value, json, ...output };
  } catch (error) {
    if (error instanceof GuestError) {
      return {
        ...NO_OUTPUT,
        status: kind === 'exec' ? 'exec_error' : 'eval_error',
        error: { type: error.guestType, message: error.guestMessage },
        ...error.output,
        durationMs: error.durationMs,
      };
    }
    if (error instanceof TimeoutError) {
      return {
        ...NO_OUTPUT,
        status: 'timeout',
        error: { type: 'Timeout', message: error.message },
        durationMs: error.timeoutMs,
      };
    }
    if (error instanceof MemoryLimitError) {
      return { ...NO_OUTPUT, status: 'memory_limit', error: { type: 'MemoryLimit', message: error.message } };
    }
    if (error instanceof GuestCrashedError) {
      return { ...NO_OUTPUT, status: 'crashed', error: { type: 'Crash', message: error.message } };
    }
    throw error;
  }
}

export interface Program {
  /** Executed in order; the first that fails ends the program. */
  statements: readonly string[];
  /** Evaluated last, when every statement succeeded. */
  expression: string;
  /** Called after each call with what the guest printed, so output can be shown in order. */
  onOutput?: (stdout: string, stderr: string) => void;
}

/** The reference demo's job: zero or more statements, then one expression, in one sandbox. */
export async function runProgram(sandbox: Sandbox, program: Program): Promise<ProgramReport> {
  const total: ProgramReport = { status: 'ok', ...NO_OUTPUT };
  const add = (call: CallReport) => {
    total.stdout += call.stdout;
    total.stderr += call.stderr;
    total.outputTruncated ||= call.outputTruncated;
    total.durationMs += call.durationMs;
    if (call.memoryBytes !== undefined) total.memoryBytes = call.memoryBytes;
    if (call.stdout || call.stderr) program.onOutput?.(call.stdout, call.stderr);
  };
  for (const [index, statements] of program.statements.entries()) {
    const call = await reportCall(sandbox, 'exec', statements);
    add(call);
    if (call.status !== 'ok') return { ...total, status: call.status, error: call.error, failedStatement: index };
  }
  const call = await reportCall(sandbox, 'eval', program.expression);
  add(call);
  return { ...total, status: call.status, error: call.error, value: call.value, json: call.json };
}

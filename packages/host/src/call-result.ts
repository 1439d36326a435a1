/**
 * The result of one call, as data from the executor to every adapter. Guest errors, timeouts,
 * running out of memory and crashes are outcomes of the code that ran; only misuse of a
 * sandbox (closed, dead, busy, invalid input) throws, since then no code ran.
 */
import type { SandboxState } from './sandbox-state.js';

export const CALL_STATUSES = [
  'ok',
  'exec_error',
  'eval_error',
  'timeout',
  'memory_limit',
  'crashed',
  'cancelled',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export interface CallError {
  /** The guest's exception type (`ValueError`), or `Timeout`, `MemoryLimit`, `Crash`, `Cancelled`. */
  type: string;
  message: string;
  /** The guest's traceback, when it gave one (Python), without the sandbox's own frames. */
  traceback?: string;
}

export interface CallResult<T = unknown> {
  status: CallStatus;
  /** The value decoded from the guest's JSON (eval, status ok). */
  value?: T;
  /** The guest's JSON text (eval, status ok). */
  json?: string;
  error?: CallError;
  /** What the guest printed, kept whatever the status. */
  stdout: string;
  stderr: string;
  /** True when stdout or stderr went past `outputLimitBytes` and was cut. */
  outputTruncated: boolean;
  /** Time the guest spent on the call. */
  durationMs: number;
  /** Size of the guest's linear memory after the call, in bytes (never above the limit). */
  memoryBytes: number;
  /**
   * The sandbox after the call: `ready` keeps its globals (also after a timeout that stopped
   * the code at an interrupt check); `dead` needs `reset()`.
   */
  sandbox: SandboxState;
}

/** What `exec` returns: the call's output, when it succeeded. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** True when stdout or stderr went past `outputLimitBytes` and was cut. */
  outputTruncated: boolean;
  /** Time the guest spent on the call. */
  durationMs: number;
  /** Size of the guest's linear memory after the call, in bytes (never above the limit). */
  memoryBytes: number;
}

export interface EvalResult<T = unknown> extends ExecResult {
  /** The value, decoded from the guest's JSON. */
  value: T;
  /** The guest's JSON text, as it returned it. */
  json: string;
}

/** Separates the guest's `ExcType: message` from the traceback it may append. */
const TRACEBACK_SEPARATOR = '\u001e';

/** `ExcType: message[U+001E traceback]` (the contract's error string) as a CallError. */
export function parseGuestError(text: string): CallError {
  const cut = text.indexOf(TRACEBACK_SEPARATOR);
  const message = cut < 0 ? text : text.slice(0, cut);
  const traceback = cut < 0 ? undefined : text.slice(cut + 1);
  const type = /^([\w.]+)(?::|$)/.exec(message)?.[1] ?? 'Error';
  return traceback ? { type, message, traceback } : { type, message };
}

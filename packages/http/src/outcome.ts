/**
 * One sandbox call as the API reports it. Guest errors, timeouts, memory errors and crashes are
 * *results* (HTTP 200 with a status); misuse of a sandbox (dead, busy, closed, code too long) is an
 * ApiError. All the sandbox behaviour itself is the host's.
 */
import {
  GuestCrashedError,
  GuestError,
  InvalidInputError,
  InvalidOptionsError,
  MemoryLimitError,
  SandboxBusyError,
  SandboxClosedError,
  SandboxDeadError,
  TimeoutError,
  type Sandbox,
} from '@component-sandbox/host';
import { ApiError } from './errors.js';

export type RunStatus = 'ok' | 'exec_error' | 'eval_error' | 'timeout' | 'memory_limit' | 'crashed';
export const RUN_STATUSES: readonly RunStatus[] = [
  'ok',
  'exec_error',
  'eval_error',
  'timeout',
  'memory_limit',
  'crashed',
];

/** Statuses after which the sandbox is dead until reset. */
export type FatalStatus = 'timeout' | 'memory_limit' | 'crashed';

export interface CallError {
  /** The guest's exception type (`NameError`, `MemoryError`), or `Timeout`, `MemoryLimit`, `Crash`. */
  type: string;
  /** The guest's `ExcType: message`, or the host's explanation. */
  message: string;
}

export interface CallResult {
  status: RunStatus;
  /** The value, decoded from the guest's JSON (eval, status ok). */
  value?: unknown;
  /** The guest's JSON text of the value (eval, status ok). */
  json?: string;
  error?: CallError;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr was cut at the output limit. */
  outputTruncated: boolean;
  /** Time the guest spent, as measured by the host. */
  durationMs: number;
  /** Size of the guest's linear memory after the call, when the host reports it. */
  memoryBytes?: number;
}

export function isFatal(status: RunStatus): status is FatalStatus {
  return status === 'timeout' || status === 'memory_limit' || status === 'crashed';
}

/** Host errors that are not a call's outcome, as API errors. */
export function misuseError(error: unknown): ApiError | undefined {
  if (error instanceof SandboxDeadError) {
    return new ApiError(409, 'SESSION_DEAD', `${error.message.replace(/; call reset\(\).*$/, '')}; reset the session`);
  }
  if (error instanceof SandboxClosedError) return new ApiError(409, 'SESSION_CLOSED', 'the session was closed');
  if (error instanceof SandboxBusyError) return new ApiError(409, 'SESSION_BUSY', error.message);
  if (error instanceof InvalidInputError) return new ApiError(400, 'CODE_TOO_LONG', error.message);
  if (error instanceof InvalidOptionsError) return new ApiError(400, 'INVALID_LIMIT', error.message);
  return undefined;
}

/** Runs `exec` or `eval` on a sandbox and reports it; throws ApiError for misuse. */
export async function call(sandbox: Sandbox, kind: 'exec' | 'eval', code: string): Promise<CallResult> {
  try {
    if (kind === 'exec') {
      const out = await sandbox.exec(code);
      return { status: 'ok', ...out };
    }
    const { value, json, ...out } = await sandbox.eval(code);
    return { status: 'ok', value, json, ...out };
  } catch (error) {
    const misuse = misuseError(error);
    if (misuse) throw misuse;
    const empty = { stdout: '', stderr: '', outputTruncated: false, durationMs: 0 };
    if (error instanceof GuestError) {
      return {
        status: kind === 'exec' ? 'exec_error' : 'eval_error',
        error: { type: error.guestType, message: error.guestMessage },
        ...empty,
        ...error.output,
        durationMs: error.durationMs,
      };
    }
    if (error instanceof TimeoutError) {
      return {
        status: 'timeout',
        error: { type: 'Timeout', message: error.message },
        ...empty,
        durationMs: error.timeoutMs,
      };
    }
    if (error instanceof MemoryLimitError) {
      return { status: 'memory_limit', error: { type: 'MemoryLimit', message: error.message }, ...empty };
    }
    if (error instanceof GuestCrashedError) {
      return { status: 'crashed', error: { type: 'Crash', message: error.message }, ...empty };
    }
    throw error;
  }
}

/**
 * One sandbox call as the API reports it. The result itself (guest error, timeout, memory
 * error, crash as a status; whether the sandbox survived) is the host's `CallResult`, data from
 * end to end; this module only maps misuse of a sandbox (dead, busy, closed, code too long) to
 * API errors.
 */
import {
  CALL_STATUSES,
  InvalidInputError,
  InvalidOptionsError,
  SandboxBusyError,
  SandboxClosedError,
  SandboxDeadError,
  UnsupportedCallError,
  type CallKind,
  type CallResult,
  type CallStatus,
  type RunOptions,
  type Sandbox,
} from '@component-sandbox/host';
import { ApiError } from './errors.js';

export type RunStatus = CallStatus;
export const RUN_STATUSES: readonly RunStatus[] = CALL_STATUSES;
export type { CallResult } from '@component-sandbox/host';

/** Host errors that are not a call's outcome, as API errors. */
export function misuseError(error: unknown): ApiError | undefined {
  if (error instanceof SandboxDeadError) {
    return new ApiError(409, 'SESSION_DEAD', `${error.message.replace(/; call reset\(\).*$/, '')}; reset the session`);
  }
  if (error instanceof SandboxClosedError) return new ApiError(409, 'SESSION_CLOSED', 'the session was closed');
  if (error instanceof SandboxBusyError) return new ApiError(409, 'SESSION_BUSY', error.message);
  if (error instanceof InvalidInputError) return new ApiError(400, 'CODE_TOO_LONG', error.message);
  if (error instanceof InvalidOptionsError) return new ApiError(400, 'INVALID_LIMIT', error.message);
  if (error instanceof UnsupportedCallError) return new ApiError(400, 'CELLS_UNSUPPORTED', error.message);
  return undefined;
}

/** Runs `exec`, `eval` or `run` (a cell) on a sandbox and reports it; throws ApiError for misuse. */
export async function call(
  sandbox: Sandbox,
  kind: CallKind,
  code: string,
  options: RunOptions = {},
): Promise<CallResult> {
  try {
    return await sandbox.run(kind, code, options);
  } catch (error) {
    throw misuseError(error) ?? error;
  }
}

/**
 * A value whose JSON text is above `maxBytes` is not returned: the call becomes an eval_error
 * ResultTooLarge (the sandbox stays usable). Answers wait in memory until the client reads them,
 * so this caps what each unsent answer holds.
 */
export function capResult<T extends CallResult>(result: T, maxBytes: number): T {
  if (result.json === undefined || result.json.length * 3 <= maxBytes) return result;
  const bytes = Buffer.byteLength(result.json, 'utf8');
  if (bytes <= maxBytes) return result;
  const { value: _value, json: _json, ...rest } = result;
  return {
    ...rest,
    status: 'eval_error',
    error: {
      type: 'ResultTooLarge',
      message: `the value's JSON is ${bytes} bytes, above this server's limit of ${maxBytes} bytes (--max-result); return less, e.g. a slice or a summary`,
    },
  } as T;
}

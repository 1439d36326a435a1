/**
 * A call from both sides of the guest: the checks its input gets before any code runs, what the
 * host makes of the guest's reply (the call's result, as data), and the throwing view of that
 * result for `exec` and `eval`. Shared by the engine's sandboxes and the in-process ones.
 */
import type { CallKind } from './call-kinds.js';
import { parseGuestError, type CallResult, type EvalResult, type ExecResult } from './call-result.js';
import type { StopKind } from './engine/engine.js';
import type { CallReply } from './engine/executor-protocol.js';
import {
  CancelledError,
  GuestCrashedError,
  GuestError,
  InvalidInputError,
  MemoryLimitError,
  memoryLimitMessage,
  TimeoutError,
  UnsupportedCallError,
} from './errors.js';
import type { ResolvedLimits } from './options.js';

/** What a call brings that the host checks before it runs: its stdin and its own time limit. */
export interface CallInputOptions {
  timeoutMs?: number;
  stdin?: string;
}

/**
 * Checks a call's input against the sandbox's limits (InvalidInputError, UnsupportedCallError)
 * and returns its time limit: the sandbox's, or the call's own if shorter.
 */
export function checkCall(
  kind: CallKind,
  code: unknown,
  options: CallInputOptions,
  limits: ResolvedLimits,
  world: string,
): asserts code is string {
  if (kind !== 'exec' && kind !== 'eval' && kind !== 'run') {
    throw new InvalidInputError(`a call is exec, eval or run, got ${String(kind)}`);
  }
  if (typeof code !== 'string') {
    throw new InvalidInputError(`${kind} expects a string of code, got ${code === null ? 'null' : typeof code}`);
  }
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > limits.maxCodeBytes) {
    throw new InvalidInputError(`the code is ${bytes} bytes, above the limit of ${limits.maxCodeBytes}`);
  }
  if (options.stdin !== undefined) {
    if (typeof options.stdin !== 'string') {
      throw new InvalidInputError(
        `stdin must be a string, got ${options.stdin === null ? 'null' : typeof options.stdin}`,
      );
    }
    const stdinBytes = Buffer.byteLength(options.stdin, 'utf8');
    if (stdinBytes > limits.maxCodeBytes) {
      throw new InvalidInputError(`stdin is ${stdinBytes} bytes, above the limit of ${limits.maxCodeBytes}`);
    }
  }
  if (kind === 'run' && world === 'sandbox') {
    throw new UnsupportedCallError(
      'this guest was built for world sandbox, which has no cells (run); rebuild it for world sandbox-extended',
    );
  }
}

/** The call's time limit: the sandbox's, or the call's own if shorter (checked). */
export function callTimeoutMs(options: CallInputOptions, limits: ResolvedLimits): number {
  if (options.timeoutMs === undefined) return limits.timeoutMs;
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs < 0) {
    throw new InvalidInputError(`timeoutMs must be a non-negative number, got ${String(options.timeoutMs)}`);
  }
  return Math.min(limits.timeoutMs, options.timeoutMs);
}

/** The result of a call whose signal was aborted before it started. */
export function notStarted<T>(): CallResult<T> {
  return {
    status: 'cancelled',
    error: { type: 'Cancelled', message: 'the call was cancelled before it started' },
    stdout: '',
    stderr: '',
    outputTruncated: false,
    durationMs: 0,
    memoryBytes: 0,
    sandbox: 'ready',
  };
}

export function deathReason(result: CallResult, timeoutMs: number): string {
  switch (result.status) {
    case 'cancelled':
      return 'an earlier call was cancelled and had to be stopped hard';
    case 'timeout':
      return `an earlier call ran past its ${timeoutMs} ms time limit and had to be stopped`;
    case 'memory_limit':
      return 'an earlier call ran out of memory at the limit';
    default:
      return `an earlier call crashed (${result.error?.message ?? 'unknown'})`;
  }
}

/** A result's fields in the order adapters show them; built field by field (calls are hot). */
function resultOf<T>(
  reply: CallReply,
  status: CallResult['status'],
  sandbox: CallResult['sandbox'],
  error?: CallResult['error'],
  json?: string,
  value?: T,
): CallResult<T> {
  const result = {
    stdout: reply.stdout,
    stderr: reply.stderr,
    outputTruncated: reply.outputTruncated,
    durationMs: reply.durationMs,
    memoryBytes: reply.memoryBytes,
    status,
  } as CallResult<T>;
  if (json !== undefined) {
    result.value = value;
    result.json = json;
  }
  if (error) result.error = error;
  result.sandbox = sandbox;
  return result;
}

/** One reply, and how the host stopped the call if it did, as the call's result. */
export function toResult<T>(
  kind: CallKind,
  reply: CallReply,
  stop: StopKind | undefined,
  limits: ResolvedLimits,
  timeoutMs: number,
  cancelled = false,
): CallResult<T> {
  const { outcome } = reply;
  const alive = outcome.kind === 'ok' || outcome.kind === 'guest-error';
  if (stop === 'aborted') {
    const message = 'the sandbox was closed while the call ran; the call was stopped';
    return resultOf(reply, 'crashed', 'dead', { type: 'Crash', message });
  }
  if (stop && cancelled) {
    const { message } = new CancelledError(alive);
    return resultOf(reply, 'cancelled', alive ? 'ready' : 'dead', { type: 'Cancelled', message });
  }
  if (stop) {
    // The host stopped the code: whatever the guest made of it, the call timed out.
    const { message } = new TimeoutError(timeoutMs, alive);
    return resultOf(reply, 'timeout', alive ? 'ready' : 'dead', { type: 'Timeout', message });
  }
  switch (outcome.kind) {
    case 'ok': {
      // A cell without a last expression (or whose value is None) has no value.
      if (kind === 'exec' || (kind === 'run' && outcome.value === undefined)) return resultOf(reply, 'ok', 'ready');
      const json = outcome.value ?? 'null';
      let value: T;
      try {
        // Safe at any depth: V8 parses JSON iteratively.
        value = JSON.parse(json) as T;
      } catch {
        const message = `ValueError: the guest returned invalid JSON: ${json.slice(0, 200)}`;
        const status = kind === 'run' ? 'exec_error' : 'eval_error';
        return resultOf(reply, status, 'ready', { type: 'ValueError', message });
      }
      return resultOf(reply, 'ok', 'ready', undefined, json, value);
    }
    case 'guest-error': {
      const status = kind === 'eval' ? 'eval_error' : 'exec_error';
      return resultOf(reply, status, 'ready', parseGuestError(outcome.message));
    }
    case 'trap':
      if (outcome.atMemoryLimit) {
        const message = memoryLimitMessage(limits.memoryLimitBytes, outcome.message);
        return resultOf(reply, 'memory_limit', 'dead', { type: 'MemoryLimit', message });
      }
      return resultOf(reply, 'crashed', 'dead', { type: 'Crash', message: `the guest trapped: ${outcome.message}` });
    case 'exit':
    case 'failed':
      return resultOf(reply, 'crashed', 'dead', { type: 'Crash', message: outcome.message });
  }
}

export function output(result: CallResult): ExecResult {
  return {
    stdout: result.stdout,
    stderr: result.stderr,
    outputTruncated: result.outputTruncated,
    durationMs: result.durationMs,
    memoryBytes: result.memoryBytes,
  };
}

/** The value view of an `ok` eval's result, for `eval`. */
export function evalOutput<T>(result: CallResult<T>): EvalResult<T> {
  // Added to output's object rather than spread into a new one: calls are hot.
  const view = output(result) as EvalResult<T>;
  view.value = result.value as T;
  view.json = result.json ?? 'null';
  return view;
}

/** The throwing view of a result, for `exec` and `eval`. */
export function throwIfFailed(result: CallResult, limits: ResolvedLimits): void {
  switch (result.status) {
    case 'ok':
      return;
    case 'exec_error':
    case 'eval_error':
      throw new GuestError(result.error!.message, output(result), result.durationMs, result.error!.traceback);
    case 'timeout':
      throw new TimeoutError(limits.timeoutMs, result.sandbox === 'ready', output(result));
    case 'memory_limit':
      throw new MemoryLimitError(limits.memoryLimitBytes, result.error!.message, output(result));
    case 'crashed':
      throw new GuestCrashedError(result.error!.message, output(result));
    case 'cancelled':
      throw new CancelledError(result.sandbox !== 'dead', output(result));
  }
}

/** A listener's failure is its own: it neither reaches the guest nor ends the call. */
export function quietly(listener: (chunk: string) => void, chunk: string): void {
  try {
    listener(chunk);
  } catch {
    // ignored
  }
}

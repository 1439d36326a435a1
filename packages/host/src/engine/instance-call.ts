/**
 * One call on a guest instance, on whatever thread holds it (an executor, or the caller's own
 * for an in-process sandbox): stdin in, the guest's result, its output and what the host made
 * of a trap out. What happens to the instance afterwards is the holder's business.
 */
import type { CallKind } from '../call-kinds.js';
import { GuestExit } from '../wasi/index.js';
import { capMessage } from '../wasi/output-capture.js';
import { beginLiveOutput, endLiveOutput } from '../wasi/live-output.js';
import type { CallReply, Outcome } from './executor-protocol.js';
import type { GuestInstance } from './guest-instance.js';

/** A trap with memory this close to the limit is reported as running out of memory. */
const NEAR_LIMIT_FRACTION = 0.9;

export interface InstanceLimits {
  memory: WebAssembly.Memory;
  outputLimitBytes: number;
  memoryLimitBytes: number;
}

export interface InstanceRequest {
  kind: CallKind;
  code: string;
  stdin?: string | undefined;
  /** Receives output as the guest writes it (at its flushes and before it blocks). */
  onLiveOutput?: ((stdout: string, stderr: string) => void) | undefined;
}

/** A cell on a guest built for world `sandbox`, which has no `run` (the host refuses it first). */
const NO_RUN = {
  ok: false,
  error: 'TypeError: this guest was built for world sandbox, which has no cells (run)',
} as const;

function classify(limits: InstanceLimits, error: unknown): Exclude<Outcome, { kind: 'ok' | 'guest-error' }> {
  if (error instanceof GuestExit) return { kind: 'exit', message: error.message };
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const atMemoryLimit = limits.memory.buffer.byteLength >= limits.memoryLimitBytes * NEAR_LIMIT_FRACTION;
  return { kind: 'trap', message, atMemoryLimit };
}

/** True when the instance cannot be trusted to continue: the sandbox is dead. */
export function endsInstance(outcome: Outcome): boolean {
  return outcome.kind === 'trap' || outcome.kind === 'exit' || outcome.kind === 'failed';
}

export function callInstance(
  instance: GuestInstance,
  limits: InstanceLimits,
  request: InstanceRequest,
): Omit<CallReply, 'state' | 'scratch'> {
  const { kind, code, onLiveOutput } = request;
  instance.stdout.take();
  instance.stderr.take();
  if (onLiveOutput) {
    instance.stdout.live(true);
    instance.stderr.live(true);
    beginLiveOutput(() => {
      const out = instance.stdout.fresh();
      const err = instance.stderr.fresh();
      if (out !== '' || err !== '') onLiveOutput(out, err);
    });
  }
  instance.stdin.set(request.stdin);
  instance.hostCalls.begin();
  const started = performance.now();
  let outcome: Outcome;
  try {
    const { binding } = instance;
    const result =
      kind === 'eval' ? binding.eval(code) : kind === 'run' ? (binding.run?.(code) ?? NO_RUN) : binding.exec(code);
    // An error's text is guest output too: one exception must not carry more than a print could.
    if (!result.ok) outcome = { kind: 'guest-error', message: capMessage(result.error, limits.outputLimitBytes) };
    else outcome = { kind: 'ok', value: 'value' in result ? (result.value as string) : undefined };
  } catch (error) {
    const failure = classify(limits, error);
    outcome = { ...failure, message: capMessage(failure.message, limits.outputLimitBytes) };
  }
  const durationMs = performance.now() - started;
  instance.stdin.set(undefined);
  // What live output did not send yet, the caller takes from the reply.
  endLiveOutput();
  const stdout = instance.stdout.take();
  const stderr = instance.stderr.take();
  instance.stdout.live(false);
  instance.stderr.live(false);
  return {
    outcome,
    stdout: stdout.text,
    stderr: stderr.text,
    outputTruncated: stdout.truncated || stderr.truncated,
    durationMs,
    memoryBytes: limits.memory.buffer.byteLength,
  };
}

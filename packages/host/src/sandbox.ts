/**
 * A sandbox: one guest instance with persistent globals, in its own worker thread, called one
 * call at a time under a time limit, with a memory limit fixed when its modules are compiled.
 */
import {
  GuestCrashedError,
  GuestError,
  InvalidInputError,
  MemoryLimitError,
  SandboxBusyError,
  SandboxClosedError,
  SandboxDeadError,
  TimeoutError,
} from './errors.js';
import { compileGuest, loadGuest, type LoadedGuest } from './guest.js';
import { GuestWorker } from './guest-worker.js';
import { resolveLimits, type ResolvedLimits, type SandboxLimits } from './options.js';
import type { CallKind, ResultMessage } from './protocol.js';

export interface SandboxOptions extends SandboxLimits {
  /** The guest: an artifact directory (e.g. `artifactDir` of @component-sandbox/guest-python). */
  guest: string | LoadedGuest;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** True when stdout or stderr went past `outputLimitBytes` and was cut. */
  outputTruncated: boolean;
  /** Time the guest spent on the call, measured in its worker. */
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

export type SandboxState = 'ready' | 'dead' | 'closed';

/**
 * A guest loaded, its limits checked and its modules compiled: all a worker needs.
 * @internal (internal declarations are stripped from the published types, which therefore
 * never name `WebAssembly` types: consumers need no DOM lib.)
 */
export interface PreparedGuest {
  guest: LoadedGuest;
  limits: ResolvedLimits;
  modules: Map<string, WebAssembly.Module>;
}

/** @internal */
export async function prepareGuest(options: SandboxOptions): Promise<PreparedGuest> {
  const guest = typeof options.guest === 'string' ? await loadGuest(options.guest) : options.guest;
  const limits = resolveLimits(options, guest);
  const modules = await compileGuest(guest, limits.memoryLimitPages);
  return { guest, limits, modules };
}

/** @internal */
export async function startWorker(prepared: PreparedGuest): Promise<GuestWorker> {
  const { worker } = await GuestWorker.start(prepared.guest, prepared.modules, prepared.limits);
  return worker;
}

export class Sandbox implements AsyncDisposable {
  #worker: GuestWorker | undefined;
  #state: SandboxState = 'ready';
  #deathReason = '';
  #queue: Promise<unknown> = Promise.resolve();
  #queued = 0;

  private constructor(
    readonly guest: LoadedGuest,
    readonly limits: ResolvedLimits,
    private readonly modules: Map<string, WebAssembly.Module>,
    worker: GuestWorker,
    /** Time from `createSandbox` to a guest ready for its first call. */
    readonly startupMs: number,
  ) {
    this.#worker = worker;
  }

  /** @internal use {@link createSandbox} */
  static async create(options: SandboxOptions): Promise<Sandbox> {
    const started = performance.now();
    const prepared = await prepareGuest(options);
    const worker = await startWorker(prepared);
    return Sandbox.adopt(prepared, worker, started);
  }

  /** @internal wraps an already started worker (from a pool or `create`). */
  static adopt(prepared: PreparedGuest, worker: GuestWorker, startedAt: number): Sandbox {
    return new Sandbox(prepared.guest, prepared.limits, prepared.modules, worker, performance.now() - startedAt);
  }

  get state(): SandboxState {
    return this.#state;
  }

  /** Runs statements against the sandbox's globals. */
  async exec(statements: string): Promise<ExecResult> {
    const result = await this.#enqueue('exec', statements);
    return output(result);
  }

  /** Evaluates an expression against the sandbox's globals; its value decoded from JSON. */
  async eval<T = unknown>(expression: string): Promise<EvalResult<T>> {
    const result = await this.#enqueue('eval', expression);
    const json = result.outcome.kind === 'ok' ? (result.outcome.value ?? 'null') : 'null';
    let value: T;
    try {
      // Safe at any depth: V8 parses JSON iteratively. Serialising the value again recurses and
      // overflows on deep values, which is why adapters pass `json` through instead.
      value = JSON.parse(json) as T;
    } catch {
      throw new GuestError(
        `ValueError: the guest returned invalid JSON: ${json.slice(0, 200)}`,
        output(result),
        result.durationMs,
      );
    }
    return { ...output(result), value, json };
  }

  /**
   * Replaces a dead (or live) sandbox's guest with a fresh instance: globals are lost, limits
   * are kept. Calls already queued fail with SandboxDeadError.
   */
  async reset(): Promise<void> {
    if (this.#state === 'closed') throw new SandboxClosedError();
    const old = this.#worker;
    this.#worker = undefined;
    this.#kill('it was reset');
    void old?.terminate();
    const worker = await startWorker({ guest: this.guest, limits: this.limits, modules: this.modules });
    if (this.#isClosed()) {
      void worker.terminate();
      throw new SandboxClosedError();
    }
    this.#worker = worker;
    this.#state = 'ready';
    this.#deathReason = '';
  }

  /** Stops the guest and frees its worker. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Read through a method so that TypeScript does not narrow it across an await. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #kill(reason: string): void {
    if (this.#state === 'ready') {
      this.#state = 'dead';
      this.#deathReason = reason;
    }
  }

  #assertUsable(): void {
    if (this.#state === 'closed') throw new SandboxClosedError();
    if (this.#state === 'dead') throw new SandboxDeadError(this.#deathReason);
  }

  #validate(kind: CallKind, code: unknown): asserts code is string {
    if (typeof code !== 'string') {
      throw new InvalidInputError(`${kind} expects a string of code, got ${code === null ? 'null' : typeof code}`);
    }
    const bytes = Buffer.byteLength(code, 'utf8');
    if (bytes > this.limits.maxCodeBytes) {
      throw new InvalidInputError(`the code is ${bytes} bytes, above the limit of ${this.limits.maxCodeBytes}`);
    }
  }

  /** Calls run one at a time, in the order they were made; see README "Concurrency". */
  #enqueue(kind: CallKind, code: unknown): Promise<ResultMessage> {
    try {
      this.#validate(kind, code);
      this.#assertUsable();
      if (this.#queued > this.limits.maxQueuedCalls) throw new SandboxBusyError(this.#queued - 1);
    } catch (error) {
      return Promise.reject(error);
    }
    // An idle sandbox starts the call at once; otherwise it waits for the calls before it.
    const run = this.#queued === 0 ? this.#run(kind, code) : this.#queue.then(() => this.#run(kind, code));
    this.#queued += 1;
    const release = () => {
      this.#queued -= 1;
    };
    this.#queue = run.then(release, release);
    return run;
  }

  #run(kind: CallKind, code: string): Promise<ResultMessage> {
    try {
      this.#assertUsable();
      const worker = this.#worker!;
      const started = performance.now();
      const reply = worker.call(kind, code);
      // Most calls come back within the worker's brief synchronous wait: no timer needed.
      if (!(reply instanceof Promise)) return Promise.resolve(this.#settle(worker, reply));
      const remainingMs = Math.max(0, this.limits.timeoutMs - (performance.now() - started));
      return this.#awaitReply(worker, reply, remainingMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #awaitReply(worker: GuestWorker, reply: Promise<ResultMessage>, remainingMs: number): Promise<ResultMessage> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(this.limits.timeoutMs)), remainingMs);
    });
    let result: ResultMessage;
    try {
      result = await Promise.race([reply, deadline]);
    } catch (error) {
      if (error instanceof TimeoutError) {
        this.#kill(`an earlier call ran past its ${this.limits.timeoutMs} ms time limit`);
        void worker.terminate();
      } else if (this.#state === 'ready') {
        this.#kill(error instanceof Error ? error.message : String(error));
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return this.#settle(worker, result);
  }

  #settle(worker: GuestWorker, result: ResultMessage): ResultMessage {
    const { outcome } = result;
    switch (outcome.kind) {
      case 'ok':
        return result;
      case 'guest-error':
        throw new GuestError(outcome.message, output(result), result.durationMs);
      case 'trap': {
        // A trapped instance cannot be trusted to continue (the component model forbids it).
        void worker.terminate();
        if (outcome.atMemoryLimit) {
          this.#kill('an earlier call ran out of memory at the limit');
          throw new MemoryLimitError(this.limits.memoryLimitBytes, outcome.message);
        }
        this.#kill(`an earlier call trapped (${outcome.message})`);
        throw new GuestCrashedError(`the guest trapped: ${outcome.message}`);
      }
      case 'exit':
        void worker.terminate();
        this.#kill('the guest exited');
        throw new GuestCrashedError(outcome.message);
    }
  }
}

function output(result: ResultMessage): ExecResult {
  return {
    stdout: result.stdout,
    stderr: result.stderr,
    outputTruncated: result.outputTruncated,
    durationMs: result.durationMs,
    memoryBytes: result.memoryBytes,
  };
}

/** Starts a sandbox for `options.guest`; see {@link SandboxOptions} for the limits. */
export function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  return Sandbox.create(options);
}

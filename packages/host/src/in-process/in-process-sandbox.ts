/**
 * A sandbox whose calls run synchronously on the caller's own thread: no executor hand-off, so
 * a call costs what the guest's own work costs (one-shot work: the CLI, scripts, tests). The
 * thread's watchdog stops a call at its deadline the way the engine stops an executor's, so a
 * Python timeout keeps the globals here too. The caller's thread is blocked while a call runs:
 * servers and anything else with an event loop to keep want `createSandbox`.
 */
import type { CallKind } from '../call-kinds.js';
import { CALL_KINDS } from '../call-kinds.js';
import type { CallResult, EvalResult, ExecResult } from '../call-result.js';
import {
  callTimeoutMs,
  checkCall,
  deathReason,
  evalOutput,
  output,
  quietly,
  throwIfFailed,
  toResult,
} from '../call-outcome.js';
import { createGuestMemory } from '../engine/engine-guest.js';
import { releasedMemory } from '../engine/garbage.js';
import { instantiateGuest, type GuestInstance } from '../engine/guest-instance.js';
import { callInstance, endsInstance, type InstanceLimits } from '../engine/instance-call.js';
import { canStop } from '../engine/interrupt.js';
import { createSandboxCore, guestSetupOf, sandboxSetupOf, type SandboxCore } from '../engine/sandbox-core.js';
import { InvalidOptionsError, SandboxClosedError, SandboxDeadError, UnsupportedCallError } from '../errors.js';
import type { FileEntry } from '../file-entry.js';
import { loadFunctionsModule, type CallerHop } from '../functions/executor-calls.js';
import type { HostAnswer } from '../functions/protocol.js';
import type { LoadedGuest } from '../guest.js';
import type { ResolvedLimits } from '../options.js';
import { listScratchFiles, readScratchFile, writeScratchFile } from '../sandbox-files.js';
import type { SandboxState } from '../sandbox-state.js';
import { prepareGuest, type PreparedGuest, type RunOptions, type SandboxOptions } from '../sandbox.js';
import { watchdog, type Watchdog } from './watchdog.js';

export interface InProcessSandboxOptions extends Omit<SandboxOptions, 'parkIdleMs'> {
  /**
   * Host functions: they run on this thread, inside the guest's call, so they must answer
   * synchronously (one that returns a promise fails in the guest with a HostError). Default: none.
   */
  functions?: SandboxOptions['functions'];
}

/** What a synchronous call takes: no signal (nothing else runs on this thread meanwhile). */
export type InProcessRunOptions = Omit<RunOptions, 'signal'>;

/** Guests (by key) whose code has run warm on this thread: V8 compiles wasm lazily, as it runs. */
const warmGuests = new Set<string>();
/** This thread runs at most one in-process call at a time (a host function cannot start another). */
let callRunning = false;

export class InProcessSandbox implements Disposable {
  #state: SandboxState = 'ready';
  /** True while this sandbox's call runs (a host function may reach back into the sandbox). */
  #running = false;
  #deathReason = '';
  #core: SandboxCore;
  #instance: GuestInstance | undefined;
  readonly #prepared: PreparedGuest;
  readonly #watchdog: Watchdog;
  /** What a call on the instance needs of the limits (made once: calls are hot). */
  #instanceLimits: InstanceLimits;

  /** Time from `createInProcessSandbox` to a sandbox ready for its first call. */
  readonly startupMs: number;

  private constructor(prepared: PreparedGuest, core: SandboxCore, watchdog: Watchdog, startedAt: number) {
    this.#prepared = prepared;
    this.#core = core;
    this.#watchdog = watchdog;
    this.#instanceLimits = instanceLimits(core);
    this.#instance = this.#instantiate();
    this.startupMs = performance.now() - startedAt;
  }

  /** @internal use {@link createInProcessSandbox} */
  static async create(options: InProcessSandboxOptions): Promise<InProcessSandbox> {
    const started = performance.now();
    if ('parkIdleMs' in options) {
      throw new InvalidOptionsError('an in-process sandbox is never parked: parkIdleMs is for createSandbox');
    }
    const [prepared, dog] = await Promise.all([prepareGuest(options), watchdog()]);
    if (!canStop(prepared.engineGuest.interrupt, 'hard')) {
      throw new InvalidOptionsError(
        'this guest has no stop checks (manifest `interrupt`): its calls could not be stopped on this thread; use createSandbox',
      );
    }
    await loadFunctionsModule(prepared.functions.setup);
    const core = newCore(prepared);
    await dog.register(core.id, core.memory, core.guest.interrupt);
    return new InProcessSandbox(prepared, core, dog, started);
  }

  get guest(): LoadedGuest {
    return this.#prepared.guest;
  }

  get limits(): ResolvedLimits {
    return this.#prepared.limits;
  }

  get state(): SandboxState {
    return this.#state;
  }

  /**
   * Runs one call now and reports its result as data, like `Sandbox.run`. Throws only when no
   * code could run: closed, dead, invalid input, or another in-process call running on this
   * thread (a host function calling back in).
   */
  run<T = unknown>(code: string, options?: InProcessRunOptions): CallResult<T>;
  run<T = unknown>(kind: CallKind, code: string, options?: InProcessRunOptions): CallResult<T>;
  run<T = unknown>(
    kindOrCode: CallKind | string,
    codeOrOptions?: string | InProcessRunOptions,
    options?: InProcessRunOptions,
  ): CallResult<T> {
    if (!(CALL_KINDS as readonly string[]).includes(kindOrCode) || arguments.length === 1) {
      return this.#call<T>('run', kindOrCode, (codeOrOptions as InProcessRunOptions | undefined) ?? {});
    }
    return this.#call<T>(kindOrCode as CallKind, codeOrOptions, options ?? {});
  }

  /** Runs statements against the sandbox's globals; throws the call's error if it failed. */
  exec(statements: string, options?: InProcessRunOptions): ExecResult {
    const result = this.#call('exec', statements, options ?? {});
    throwIfFailed(result, this.limits);
    return output(result);
  }

  /** Evaluates an expression against the sandbox's globals; its value decoded from JSON. */
  eval<T = unknown>(expression: string, options?: InProcessRunOptions): EvalResult<T> {
    const result = this.#call<T>('eval', expression, options ?? {});
    throwIfFailed(result, this.limits);
    return evalOutput(result);
  }

  /** Writes a file into `/tmp` between calls, like `Sandbox.writeFile`. */
  writeFile(path: string, data: Uint8Array | string): void {
    this.#assertIdle();
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    // The instance holds its own copy of /tmp's metadata: the next call builds a new one.
    this.#retireInstance();
    writeScratchFile(this.#core, path, bytes);
  }

  /** A file's bytes from `/tmp`, between calls. */
  readFile(path: string): Uint8Array {
    this.#assertIdle();
    return readScratchFile(this.#core, path);
  }

  /** What a directory of `/tmp` holds (default `/tmp` itself), sorted by name. */
  listFiles(path = '/tmp'): FileEntry[] {
    this.#assertIdle();
    return listScratchFiles(this.#core, path);
  }

  /** Gives the sandbox a fresh guest (globals lost, limits kept), dead or not. */
  reset(): void {
    if (this.#state === 'closed') throw new SandboxClosedError();
    if (this.#running) throw new UnsupportedCallError("this sandbox's call is running: reset it after the call");
    this.#release();
    this.#core = newCore(this.#prepared);
    this.#instanceLimits = instanceLimits(this.#core);
    // The watchdog learns the new memory before any call can need it: it reads its messages
    // while this thread is busy, and a call's stop comes at least a deadline later.
    void this.#watchdog.register(this.#core.id, this.#core.memory, this.#core.guest.interrupt);
    this.#instance = undefined;
    this.#state = 'ready';
    this.#deathReason = '';
  }

  /** Frees the sandbox's memory. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    // Closed from a host function of its own call: released once that call returns.
    if (!this.#running) this.#release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #release(): void {
    this.#instance = undefined;
    this.#watchdog.forget(this.#core.id);
    releasedMemory(this.#core.memory.buffer.byteLength);
  }

  /** Between calls only: a host function of the running call cannot change its sandbox. */
  #assertIdle(): void {
    this.#assertUsable();
    if (this.#running) {
      throw new UnsupportedCallError("this sandbox's call is running: its files and state change only between calls");
    }
  }

  #assertUsable(): void {
    if (this.#state === 'closed') throw new SandboxClosedError();
    if (this.#state === 'dead') throw new SandboxDeadError(this.#deathReason);
  }

  #retireInstance(): void {
    if (!this.#instance) return;
    this.#core.state = this.#instance.saveState();
    this.#instance = undefined;
  }

  #instantiate(): GuestInstance {
    const core = this.#core;
    return instantiateGuest(guestSetupOf(core.guest), sandboxSetupOf(core, this.#prepared.functions.setup), this.#hop);
  }

  /** Closures answer here, on the thread the guest is running on: only synchronously. */
  readonly #hop: CallerHop = (name, argumentsJson): HostAnswer => {
    const answer = this.#prepared.functions.answer(name, argumentsJson);
    if (!(answer instanceof Promise)) return answer;
    answer.catch(() => undefined);
    return {
      ok: false,
      message: `${name} returned a promise, which an in-process sandbox cannot wait for (the guest runs on the thread that would settle it); use createSandbox for async host functions`,
    };
  };

  #call<T>(kind: CallKind, code: unknown, options: InProcessRunOptions): CallResult<T> {
    checkCall(kind, code, options, this.limits, this.guest.manifest.world);
    const timeoutMs = callTimeoutMs(options, this.limits);
    this.#assertUsable();
    if (callRunning) {
      throw new UnsupportedCallError(
        'an in-process call is already running on this thread (a host function cannot start another)',
      );
    }
    const core = this.#core;
    const { onStdout, onStderr } = options;
    const live = onStdout !== undefined || onStderr !== undefined;
    let sentOut = '';
    let sentErr = '';
    const deliver = (stdout: string, stderr: string) => {
      sentOut += stdout;
      sentErr += stderr;
      if (stdout !== '' && onStdout) quietly(onStdout, stdout);
      if (stderr !== '' && onStderr) quietly(onStderr, stderr);
    };
    callRunning = true;
    this.#running = true;
    let instance: GuestInstance;
    let reply;
    let stop;
    try {
      instance = this.#instance ?? this.#instantiate();
      this.#instance = instance;
      this.#watchdog.begin(core.id, timeoutMs, !warmGuests.has(core.guest.key));
      try {
        reply = callInstance(instance, this.#instanceLimits, {
          kind,
          code,
          stdin: options.stdin,
          onLiveOutput: live ? deliver : undefined,
        });
      } finally {
        stop = this.#watchdog.end(core.memory, core.guest.interrupt);
      }
    } finally {
      callRunning = false;
      this.#running = false;
    }
    if (live) deliver(reply.stdout.slice(sentOut.length), reply.stderr.slice(sentErr.length));
    if (endsInstance(reply.outcome)) {
      this.#instance = undefined;
    } else {
      warmGuests.add(core.guest.key);
      const meta = instance.changedScratch();
      // The instance keeps changing its own copy; the host's copy must not move with it.
      if (meta && core.scratch) core.scratch.meta = structuredClone(meta);
    }
    const result = toResult<T>(kind, reply, stop, this.limits, timeoutMs);
    if (this.#state === 'closed') {
      this.#release();
      return { ...result, sandbox: 'closed' };
    }
    if (result.sandbox === 'dead') {
      this.#state = 'dead';
      this.#deathReason = deathReason(result, timeoutMs);
    }
    return result;
  }
}

function instanceLimits(core: SandboxCore): InstanceLimits {
  const { outputLimitBytes, memoryLimitBytes } = core.limits;
  return { memory: core.memory, outputLimitBytes, memoryLimitBytes };
}

function newCore(prepared: PreparedGuest): SandboxCore {
  const { engineGuest, limits, mounts } = prepared;
  // Made here rather than taken from the engine's stock: one-shot work would pay for refilling it.
  const memory = createGuestMemory(engineGuest, limits.memoryLimitPages);
  return createSandboxCore(engineGuest, limits, mounts, { memory });
}

/**
 * Creates a sandbox whose calls run synchronously on this thread (see InProcessSandbox). Takes
 * the options of `createSandbox` except `parkIdleMs`; its host functions must be synchronous.
 */
export function createInProcessSandbox(options: InProcessSandboxOptions): Promise<InProcessSandbox> {
  return InProcessSandbox.create(options);
}

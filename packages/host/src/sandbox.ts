/**
 * A sandbox: one guest's state (memory, globals, handles) owned by the host, whose calls the
 * engine's executor threads run one at a time under a time limit, within a memory limit.
 */
import { WASM_PAGE_BYTES } from '@component-sandbox/wit';
import type { CallResult, EvalResult, ExecResult } from './call-result.js';
import {
  callTimeoutMs,
  checkCall,
  deathReason,
  evalOutput,
  notStarted,
  output,
  quietly,
  throwIfFailed,
  toResult,
} from './call-outcome.js';
import { engine as defaultEngine } from './engine/default-engine.js';
import type { Engine } from './engine/engine.js';
import { prepareEngineGuest, type EngineGuest } from './engine/engine-guest.js';
import { CALL_KINDS, type CallKind } from './call-kinds.js';
import { copyScratch, createSandboxCore, type SandboxCore } from './engine/sandbox-core.js';
import { decodeSnapshot, encodeSnapshot } from './engine/snapshot.js';
import { SandboxHome, checkParkIdleMs } from './engine/parking.js';
import { InvalidInputError, SandboxBusyError, SandboxClosedError, SandboxDeadError } from './errors.js';
import {
  resolveFunctions,
  type FunctionPlace,
  type HostFunction,
  type ResolvedFunctions,
} from './functions/resolve.js';
import { loadGuest, type LoadedGuest } from './guest.js';
import { resolveLimits, type ResolvedLimits, type SandboxLimits } from './options.js';
import type { SandboxState } from './sandbox-state.js';
import type { ReadOnlyMount } from './wasi/index.js';
import { resolveMounts, type Mount } from './mounts.js';
import type { FileEntry } from './file-entry.js';
import { listScratchFiles, readScratchFile, writeScratchFile } from './sandbox-files.js';

export type { SandboxState } from './sandbox-state.js';
export type { EvalResult, ExecResult } from './call-result.js';

export interface SandboxOptions extends SandboxLimits {
  /** The guest: an artifact directory (e.g. `artifactDir` of @component-sandbox/guest-python). */
  guest: string | LoadedGuest;
  /**
   * Host functions the guest's code may call, by name: each is a global of the sandbox and an
   * attribute of its `host` module (Python `import host`; JavaScript's global `host`). They run
   * on the caller's thread; a promise blocks the guest until it settles, within the time limit.
   * Arguments and results cross as JSON (README: "Host functions"). Default: none.
   */
  functions?: Readonly<Record<string, HostFunction>>;
  /**
   * An ES module whose exported functions are host functions too (a URL, or a path). Every
   * executor thread imports it, so its synchronous functions run on the guest's own thread
   * without a hop; its `async` functions run on the caller's thread, like `functions`.
   * Default: none.
   */
  functionsModule?: URL | string;
  /**
   * Host directories the guest may read (never write) at `guestPath`, e.g.
   * `[{ hostPath: './data', guestPath: '/data' }]`. Paths and symlinks cannot lead outside a
   * mount. Not over `/tmp`, the guest's own trees or each other. Default: none.
   */
  mounts?: readonly Mount[];
  /**
   * A directory of pure-Python packages (filled with `pip install --target DIR`, or unpacked
   * wheels), importable in the guest: read-only at `/packages`, which is on `sys.path`. A
   * package that needs a C extension fails to import with an ImportError naming it. Python
   * guests only. Default: none.
   */
  packages?: string;
  /**
   * Idle time after which this sandbox is parked (memory released, only its compressed
   * snapshot kept; its next use restores it in a few ms). Whole ms, or `Infinity` to never
   * park. Default: the engine's `parkIdleMs` (60 s; see `configureEngine`).
   */
  parkIdleMs?: number;
}

export type { CallKind } from './call-kinds.js';

export interface RunOptions {
  /** A shorter time limit for this call only; the sandbox's own limit still applies. */
  timeoutMs?: number;
  /**
   * Text the guest reads on stdin during this call (Python: `input()`, `sys.stdin`). Default:
   * none; reading stdin gets end of file.
   */
  stdin?: string;
  /**
   * Receives what the guest writes to stdout as it writes it (coalesced chunks, in order, all
   * delivered before the call's promise settles; together they equal the result's `stdout`).
   * A callback that throws is ignored.
   */
  onStdout?: (chunk: string) => void;
  /** Like `onStdout`, for stderr. */
  onStderr?: (chunk: string) => void;
  /**
   * Aborting it stops the call the way its time limit would (soft stop, then hard): status
   * `cancelled`. An already-aborted signal never starts the call; a queued call is dropped.
   */
  signal?: AbortSignal;
}

/** A host function as a sandbox offers it. */
export interface FunctionInfo {
  name: string;
  /** `caller`: the thread that created the sandbox (closures, async); `executor`: the guest's. */
  runsOn: FunctionPlace;
}

/**
 * A guest loaded, its limits checked, its modules prepared for the engine.
 * @internal (internal declarations are stripped from the published types, which therefore
 * never name `WebAssembly` types: consumers need no DOM lib.)
 */
export interface PreparedGuest {
  guest: LoadedGuest;
  engineGuest: EngineGuest;
  limits: ResolvedLimits;
  functions: ResolvedFunctions;
  /** Read-only trees mounted below `/` for each sandbox. */
  mounts: readonly ReadOnlyMount[];
  /** The sandbox's own park delay; undefined: the engine's. */
  parkIdleMs: number | undefined;
}

/** @internal */
export async function prepareGuest(options: SandboxOptions): Promise<PreparedGuest> {
  const guest = typeof options.guest === 'string' ? await loadGuest(options.guest) : options.guest;
  const limits = resolveLimits(options, guest);
  const mounts = resolveMounts(options, guest);
  const parkIdleMs = checkParkIdleMs(options.parkIdleMs);
  const functions = await resolveFunctions(options, limits.maxHostCalls);
  return { guest, limits, mounts, functions, parkIdleMs, engineGuest: await prepareEngineGuest(guest) };
}

/**
 * The host functions `options` offer, checked (names, the module imported) as createSandbox
 * checks them: for adapters that list them before any sandbox exists.
 */
export async function inspectFunctions(
  options: Pick<SandboxOptions, 'functions' | 'functionsModule'>,
): Promise<FunctionInfo[]> {
  const { places } = await resolveFunctions(options, 1);
  return [...places].map(([name, runsOn]) => ({ name, runsOn })).sort((a, b) => a.name.localeCompare(b.name));
}

/** @internal how a sandbox made from a core behaves (a pool's warm sandboxes never park). */
export interface CoreOptions {
  park?: boolean;
}

export class Sandbox implements AsyncDisposable {
  /** The sandbox's core, hot or parked. */
  readonly #home: SandboxHome;
  #state: SandboxState = 'ready';
  #deathReason = '';
  #queue: Promise<unknown> = Promise.resolve();
  /** Calls and between-call operations running or waiting; the sandbox is idle at 0. */
  #queued = 0;
  readonly #engine: Engine;
  readonly #prepared: PreparedGuest;

  private constructor(
    prepared: PreparedGuest,
    home: SandboxHome,
    engine: Engine,
    /** Time from `createSandbox` to a sandbox ready for its first call. */
    readonly startupMs: number,
  ) {
    this.#prepared = prepared;
    this.#home = home;
    this.#engine = engine;
    home.arm();
  }

  /** @internal use {@link createSandbox} */
  static async create(options: SandboxOptions): Promise<Sandbox> {
    const started = performance.now();
    return Sandbox.fromCore(await prepareGuest(options), undefined, started);
  }

  /** @internal a sandbox over `core` (fresh when absent), e.g. from a pool or a snapshot. */
  static fromCore(
    prepared: PreparedGuest,
    core: SandboxCore | undefined,
    startedAt: number,
    options: CoreOptions = {},
  ): Sandbox {
    const engine = defaultEngine();
    const sandboxCore = core ?? createSandboxCore(prepared.engineGuest, prepared.limits, prepared.mounts);
    const parkIdleMs = options.park === false ? Infinity : (prepared.parkIdleMs ?? engine.parkIdleMs);
    const home = new SandboxHome(engine, sandboxCore, parkIdleMs);
    return new Sandbox(prepared, home, engine, performance.now() - startedAt);
  }

  get guest(): LoadedGuest {
    return this.#prepared.guest;
  }

  get limits(): ResolvedLimits {
    return this.#prepared.limits;
  }

  /** The host functions this sandbox offers its guest, by name. */
  get functions(): FunctionInfo[] {
    return [...this.#prepared.functions.places]
      .map(([name, runsOn]) => ({ name, runsOn }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** `ready` also while parked: a parked sandbox takes calls (the first one restores it). */
  get state(): SandboxState {
    return this.#state;
  }

  /** True while parked: its memory released, only its compressed snapshot kept. */
  get parked(): boolean {
    return this.#home.parked;
  }

  /**
   * Bytes the sandbox holds in the host now: its linear memory and `/tmp` while hot, its
   * compressed snapshot while parked.
   */
  get residentBytes(): number {
    return this.#home.residentBytes;
  }

  /** @internal the hot core (restored if parked) */
  get core(): SandboxCore {
    return this.#home.take();
  }

  /** @internal */
  get prepared(): PreparedGuest {
    return this.#prepared;
  }

  /**
   * Runs one call and reports its result as data. Throws only when no code could run: the
   * sandbox is closed or dead, too many calls are queued, or the code is not valid input.
   *
   * `run(code)` runs a cell: statements whose last expression's value, if they end with one,
   * is the result's `value` (IPython's rule: not when it is None/undefined, nor after a `;`).
   */
  run<T = unknown>(code: string, options?: RunOptions): Promise<CallResult<T>>;
  run<T = unknown>(kind: CallKind, code: string, options?: RunOptions): Promise<CallResult<T>>;
  run<T = unknown>(
    kindOrCode: CallKind | string,
    codeOrOptions?: string | RunOptions,
    options?: RunOptions,
  ): Promise<CallResult<T>> {
    // A cell unless the first argument names a kind and more follow (`run('exec')` is a cell).
    if (!(CALL_KINDS as readonly string[]).includes(kindOrCode) || arguments.length === 1) {
      return this.#call<T>('run', kindOrCode, (codeOrOptions as RunOptions | undefined) ?? {});
    }
    return this.#call<T>(kindOrCode as CallKind, codeOrOptions, options ?? {});
  }

  #call<T>(kind: CallKind, code: unknown, options: RunOptions): Promise<CallResult<T>> {
    let timeoutMs: number;
    try {
      checkCall(kind, code, options, this.limits, this.guest.manifest.world);
      timeoutMs = callTimeoutMs(options, this.limits);
      this.#assertUsable();
      if (this.#queued > this.limits.maxQueuedCalls) throw new SandboxBusyError(this.#queued - 1);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    let dropped: Promise<CallResult<T>> | undefined;
    let onAbort = () => {};
    if (signal && this.#queued > 0) {
      // A queued call whose signal is aborted is answered at once; at its turn it does nothing.
      dropped = new Promise((resolve) => (onAbort = () => resolve(notStarted<T>())));
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const run = this.#enqueue(() => {
      signal?.removeEventListener('abort', onAbort);
      return this.#run<T>(kind, code as string, timeoutMs, options);
    });
    return dropped ? Promise.race([run, dropped]) : run;
  }

  /**
   * Runs `work` as the queue's next entry: at once when the sandbox is idle, else after the
   * calls and operations before it. While anything is queued the sandbox is not parked.
   */
  #enqueue<T>(work: () => Promise<T> | T): Promise<T> {
    const idle = this.#queued === 0;
    this.#queued += 1;
    this.#home.disarm();
    const invoke = async () => work();
    const run = idle ? invoke() : this.#queue.then(invoke);
    const release = () => {
      this.#queued -= 1;
      if (this.#queued === 0 && this.#state === 'ready') this.#home.arm();
    };
    this.#queue = run.then(release, release);
    return run;
  }

  /** Runs statements against the sandbox's globals; throws the call's error if it failed. */
  async exec(statements: string, options?: RunOptions): Promise<ExecResult> {
    const result = await this.#call('exec', statements, options ?? {});
    throwIfFailed(result, this.limits);
    return output(result);
  }

  /** Evaluates an expression against the sandbox's globals; its value decoded from JSON. */
  async eval<T = unknown>(expression: string, options?: RunOptions): Promise<EvalResult<T>> {
    const result = await this.#call<T>('eval', expression, options ?? {});
    throwIfFailed(result, this.limits);
    return evalOutput(result);
  }

  /**
   * Writes a file into the sandbox's `/tmp` between calls (`/tmp/in.csv`, or `in.csv` below
   * `/tmp`), making parent directories; strings are written as UTF-8. Counts against
   * `tmpLimitBytes`: a file that would not fit throws FileError (`NO_SPACE`) and changes nothing.
   */
  writeFile(path: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (!(bytes instanceof Uint8Array))
      return Promise.reject(new InvalidInputError('file data is a Uint8Array or a string'));
    return this.#exclusive(() => writeScratchFile(this.#home.take(), path, bytes));
  }

  /** A file's bytes from the sandbox's `/tmp`, between calls. FileError `NOT_FOUND` if absent. */
  readFile(path: string): Promise<Uint8Array> {
    return this.#exclusive(() => readScratchFile(this.#home.take(), path));
  }

  /** What a directory of the sandbox's `/tmp` holds (default `/tmp` itself), sorted by name. */
  listFiles(path: string = '/tmp'): Promise<FileEntry[]> {
    return this.#exclusive(() => listScratchFiles(this.#home.take(), path));
  }

  /**
   * The sandbox's state as bytes, taken between calls: its memory's changes from the guest's
   * base image (compressed), its globals and open handles, bound to the guest artifact. Restore
   * it with {@link restoreSandbox}, in this process or another one with the same artifact.
   * A parked sandbox answers with the snapshot it was parked as, without being restored.
   */
  snapshot(): Promise<Uint8Array> {
    return this.#exclusive(() => {
      const parked = this.#home.parkedSnapshot;
      return parked ? Uint8Array.from(parked) : encodeSnapshot(this.#home.take());
    });
  }

  /**
   * Parks the sandbox now, once the calls queued before are done (it also happens by itself
   * after `parkIdleMs` idle). Resolves true when parked. Calls made meanwhile wait for it, and
   * then restore it.
   */
  park(): Promise<boolean> {
    return this.#exclusive(() => this.#home.park());
  }

  /**
   * A new sandbox that starts from this one's state (taken between calls) and then goes its
   * own way: same guest, same limits, its own memory.
   */
  fork(): Promise<Sandbox> {
    return this.#exclusive(() => {
      const started = performance.now();
      // A parked parent stays parked: the child starts from its snapshot.
      const parked = this.#home.parkedSnapshot;
      if (parked) {
        const contents = decodeSnapshot(this.#prepared.engineGuest, parked, this.limits).restore();
        const core = createSandboxCore(this.#prepared.engineGuest, this.limits, this.#prepared.mounts, contents);
        return Sandbox.fromCore(this.#prepared, core, started);
      }
      const source = this.#home.take();
      // A bare memory: every byte of it is copied from the parent's.
      const memory = new WebAssembly.Memory({
        initial: source.memory.buffer.byteLength / WASM_PAGE_BYTES,
        maximum: this.limits.memoryLimitPages,
        shared: true,
      });
      new Uint8Array(memory.buffer).set(new Uint8Array(source.memory.buffer));
      const state = source.state ? structuredClone(source.state) : undefined;
      const scratch =
        source.scratch &&
        copyScratch(
          { bytes: new Uint8Array(source.scratch.buffer), meta: source.scratch.meta },
          this.limits.tmpLimitBytes,
        );
      const core = createSandboxCore(source.guest, this.limits, source.mounts, {
        memory,
        ...(scratch ? { scratch } : {}),
        ...(state ? { state } : {}),
      });
      return Sandbox.fromCore(this.#prepared, core, started);
    });
  }

  /** Runs `action` between calls, once those queued before it are done. */
  #exclusive<T>(action: () => T | Promise<T>): Promise<T> {
    try {
      this.#assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(() => {
      this.#assertUsable();
      return action();
    });
  }

  /**
   * Gives the sandbox a fresh guest (globals are lost, limits kept), whether it was dead or
   * not. Calls already queued fail with SandboxDeadError.
   */
  async reset(): Promise<void> {
    if (this.#state === 'closed') throw new SandboxClosedError();
    this.#kill('it was reset');
    this.#stopAndEvict();
    this.#home.replace(createSandboxCore(this.#prepared.engineGuest, this.limits, this.#prepared.mounts));
    await Promise.resolve();
    if (this.#isClosed()) throw new SandboxClosedError();
    this.#state = 'ready';
    this.#deathReason = '';
    if (this.#queued === 0) this.#home.arm();
  }

  /** Frees the sandbox's memory. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopAndEvict();
    this.#home.release();
    await Promise.resolve();
  }

  /** Stops the running call, if any, and drops the executors' instances of the hot core. */
  #stopAndEvict(): void {
    const core = this.#home.current;
    if (!core) return;
    this.#engine.abort(core);
    this.#engine.evict(core);
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
      this.#home.disarm();
    }
  }

  #assertUsable(): void {
    if (this.#state === 'closed') throw new SandboxClosedError();
    if (this.#state === 'dead') throw new SandboxDeadError(this.#deathReason);
  }

  async #run<T>(kind: CallKind, code: string, timeoutMs: number, options: RunOptions): Promise<CallResult<T>> {
    this.#assertUsable();
    const { stdin, signal, onStdout, onStderr } = options;
    // An aborted call never starts (also one that waited in the queue).
    if (signal?.aborted) return notStarted<T>();
    const core = this.#home.take();
    const { functions } = this.#prepared;
    const live = onStdout !== undefined || onStderr !== undefined;
    let sentOut = '';
    let sentErr = '';
    const deliver = (stdout: string, stderr: string) => {
      sentOut += stdout;
      sentErr += stderr;
      if (stdout !== '' && onStdout) quietly(onStdout, stdout);
      if (stderr !== '' && onStderr) quietly(onStderr, stderr);
    };
    const { reply, stop, cancelled } = await this.#engine.run(core, kind, code, timeoutMs, {
      functions: functions.setup,
      answer: functions.answer,
      ...(stdin !== undefined ? { stdin } : {}),
      ...(live ? { onOutput: deliver } : {}),
      ...(signal ? { signal } : {}),
    });
    if (!reply) return notStarted<T>();
    if (live) {
      // A discarded executor's reply lost its output; what was sent is all there is.
      if (reply.stdout.length < sentOut.length) reply.stdout = sentOut;
      if (reply.stderr.length < sentErr.length) reply.stderr = sentErr;
      // What live output did not send yet is the rest of the result's text.
      deliver(reply.stdout.slice(sentOut.length), reply.stderr.slice(sentErr.length));
    }
    // A reset or close while the call ran replaced or dropped the core: its result is moot.
    if (core !== this.#home.current) this.#assertUsable();
    const result = toResult<T>(kind, reply, stop, this.limits, timeoutMs, cancelled);
    if (result.sandbox === 'dead') {
      this.#kill(deathReason(result, timeoutMs));
      this.#engine.evict(core);
    }
    return { ...result, sandbox: this.#state === 'closed' ? 'closed' : result.sandbox };
  }
}

/**
 * A sandbox restored from {@link Sandbox.snapshot} bytes, over the same guest artifact (another
 * artifact's snapshot is refused with InvalidInputError), with the limits in `options`.
 */
export async function restoreSandbox(snapshot: Uint8Array, options: SandboxOptions): Promise<Sandbox> {
  const started = performance.now();
  if (!(snapshot instanceof Uint8Array)) throw new InvalidInputError('a snapshot is a Uint8Array');
  const prepared = await prepareGuest(options);
  const contents = decodeSnapshot(prepared.engineGuest, snapshot, prepared.limits);
  const core = createSandboxCore(prepared.engineGuest, prepared.limits, prepared.mounts, contents.restore());
  return Sandbox.fromCore(prepared, core, started);
}

/** Creates a sandbox for `options.guest`; see {@link SandboxOptions} for the limits. */
export function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  return Sandbox.create(options);
}

/**
 * A pool of warm sandboxes: memories made and guests instantiated on executors ahead of time,
 * so that acquiring one is a hand-over. Every sandbox from the pool is fresh (never used by
 * code of the caller's) and belongs to the caller once acquired; the pool refills itself in
 * the background, one sandbox at a time so refilling never starves running guests of CPU.
 */
import { Sandbox, prepareGuest, type PreparedGuest, type SandboxOptions } from './sandbox.js';
import { InvalidOptionsError, SandboxClosedError } from './errors.js';

export interface SandboxPoolOptions extends SandboxOptions {
  /** Warm sandboxes kept ready. Default 2. */
  size?: number;
}

export class SandboxPool implements AsyncDisposable {
  readonly #prepared: PreparedGuest;
  readonly #size: number;
  readonly #idle: Sandbox[] = [];
  #starting = 0;
  #closed = false;
  #refilling: Promise<void> | undefined;

  private constructor(prepared: PreparedGuest, size: number) {
    this.#prepared = prepared;
    this.#size = size;
  }

  /** @internal use {@link createSandboxPool} */
  static async create(options: SandboxPoolOptions): Promise<SandboxPool> {
    const size = options.size ?? 2;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new InvalidOptionsError(`size must be a non-negative integer, got ${JSON.stringify(size)}`);
    }
    const pool = new SandboxPool(await prepareGuest(options), size);
    await pool.#refill();
    return pool;
  }

  /** Sandboxes ready for hand-over right now. */
  get idle(): number {
    return this.#idle.length;
  }

  get size(): number {
    return this.#size;
  }

  /** A fresh sandbox: from the warm pool when one is ready, else started now. */
  async acquire(): Promise<Sandbox> {
    if (this.#closed) throw new SandboxClosedError();
    const started = performance.now();
    const warm = this.#idle.shift();
    this.#scheduleRefill();
    return Sandbox.fromCore(this.#prepared, warm?.core, started);
  }

  /** Stops the idle sandboxes; sandboxes already acquired are the caller's to close. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#refilling;
    await Promise.all(this.#idle.splice(0).map((sandbox) => sandbox.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #scheduleRefill(): void {
    // A failed background start must not become an unhandled rejection; the next acquire
    // makes a sandbox itself and reports its own failure.
    // Making a sandbox's memory costs the main thread a few milliseconds: begin only after the
    // caller has its sandbox.
    this.#refilling ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#refill())
      .catch(() => undefined)
      .finally(() => {
        this.#refilling = undefined;
      });
  }

  async #refill(): Promise<void> {
    while (!this.#closed && this.#idle.length + this.#starting < this.#size) {
      this.#starting += 1;
      try {
        // Warm sandboxes wait to be handed over, not to be used: parking them would only make
        // the hand-over a restore.
        const sandbox = Sandbox.fromCore(this.#prepared, undefined, performance.now(), { park: false });
        await warmUp(sandbox);
        if (this.#closed) await sandbox.close();
        else this.#idle.push(sandbox);
      } finally {
        this.#starting -= 1;
      }
    }
  }
}

/**
 * The first calls make the engine compile the guest's hot paths and the guest touch its memory;
 * doing them here keeps that cost off the caller's first call (measured: a few milliseconds
 * down to under one). These expressions are valid in every guest language and leave nothing in
 * the guest's globals.
 */
const WARM_UP_EXPRESSIONS = ['0', '1 + 1', '[0, "a"]', '1 + 1'];

async function warmUp(sandbox: Sandbox): Promise<void> {
  for (const expression of WARM_UP_EXPRESSIONS) await sandbox.run('eval', expression);
}

/** Starts a pool of warm sandboxes for one guest and one set of limits. */
export function createSandboxPool(options: SandboxPoolOptions): Promise<SandboxPool> {
  return SandboxPool.create(options);
}

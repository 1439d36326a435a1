/**
 * Parking: a sandbox idle for `parkIdleMs` gives up its memory (and its executors' instances)
 * and keeps only its compressed snapshot; its next use restores it first. So a process can hold
 * far more sessions than fit in memory hot (V8 also reserves ~10 GiB of address space per wasm
 * memory, which caps live memories near 13,000 per process).
 *
 *   hot ──idle timer──▶ parking (snapshot compressed off the event loop) ──▶ parked
 *    ▲                        │ any use meanwhile: the park is abandoned        │
 *    └───────────── next use restores it (decode + fresh memory) ◀──────────────┘
 */
import { InvalidOptionsError } from '../errors.js';
import { MAX_TIMEOUT_MS, type ResolvedLimits } from '../options.js';
import type { ReadOnlyMount } from '../wasi/index.js';
import type { Engine } from './engine.js';
import type { EngineGuest } from './engine-guest.js';
import { createSandboxCore, type SandboxCore } from './sandbox-core.js';
import { decodeSnapshot, encodeSnapshotOffThread } from './snapshot.js';

/** See EngineOptions.parkIdleMs. */
export const DEFAULT_PARK_IDLE_MS = 60_000;

/** `value` as a park delay: a whole number of ms up to the longest timer, or Infinity (never). */
export function checkParkIdleMs(value: unknown): number | undefined {
  if (value === undefined || value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    throw new InvalidOptionsError(
      `parkIdleMs must be a positive whole number of ms up to ${MAX_TIMEOUT_MS}, or Infinity to never park; ` +
        `got ${String(value)}`,
    );
  }
  return value;
}

/** What a parked sandbox keeps: its snapshot, and what it needs to be made hot again. */
interface Parked {
  snapshot: Uint8Array;
  guest: EngineGuest;
  limits: ResolvedLimits;
  mounts: readonly ReadOnlyMount[];
}

/**
 * Where one sandbox's state lives: hot (a core with its memory) or parked (its snapshot), and
 * the idle timer that parks it. The sandbox says when it is idle (`arm`) and busy (`disarm`);
 * only an idle sandbox is parked, and any use abandons a park still compressing.
 */
export class SandboxHome {
  #core: SandboxCore | undefined;
  #parked: Parked | undefined;
  #timer: NodeJS.Timeout | undefined;
  #armed = false;
  /** A park whose snapshot is being compressed. */
  #parking: Promise<boolean> | undefined;
  /** Bumped by every use of the core: a park that began before it must not complete. */
  #uses = 0;

  constructor(
    private readonly engine: Engine,
    core: SandboxCore,
    /** Infinity: never parked. */
    private readonly idleMs: number,
  ) {
    this.#core = core;
  }

  get parked(): boolean {
    return this.#parked !== undefined;
  }

  /** Bytes held for the sandbox now: linear memory and `/tmp` while hot, the snapshot parked. */
  get residentBytes(): number {
    if (this.#parked) return this.#parked.snapshot.byteLength;
    const core = this.#core;
    return core ? core.memory.buffer.byteLength + (core.scratch?.buffer.byteLength ?? 0) : 0;
  }

  /** The hot core, if there is one (to stop its call or evict it); never restores. */
  get current(): SandboxCore | undefined {
    return this.#core;
  }

  /** The parked snapshot, if parked: what `snapshot()` and `fork()` can use without restoring. */
  get parkedSnapshot(): Uint8Array | undefined {
    return this.#parked?.snapshot;
  }

  /** The core for a use of the sandbox: restored first if it was parked. */
  take(): SandboxCore {
    this.#uses += 1;
    if (this.#parked) {
      const { snapshot, guest, limits, mounts } = this.#parked;
      this.#core = createSandboxCore(guest, limits, mounts, decodeSnapshot(guest, snapshot, limits).restore());
      this.#parked = undefined;
    }
    return this.#core!;
  }

  /** A new core in place of whatever there was (reset). */
  replace(core: SandboxCore): void {
    this.#uses += 1;
    this.#parked = undefined;
    this.#core = core;
  }

  /** The sandbox became idle: park it after `idleMs` unless it is used before. */
  arm(): void {
    if (this.idleMs === Infinity) return;
    this.#armed = true;
    // One timer per sandbox, restarted rather than recreated: refresh() also revives it after
    // it fired.
    if (this.#timer) this.#timer.refresh();
    else this.#timer = setTimeout(() => void this.#parkIfIdle(), this.idleMs).unref();
  }

  /** The sandbox is in use (or dead): no parking until it is idle again. */
  disarm(): void {
    this.#armed = false;
  }

  async #parkIfIdle(): Promise<void> {
    if (this.#armed) await this.park().catch(() => false);
  }

  /**
   * Parks the sandbox now, if hot. The caller makes sure no call runs; a use that begins while
   * the snapshot compresses wins, and the park is abandoned (false).
   */
  park(): Promise<boolean> {
    const core = this.#core;
    if (!core) return Promise.resolve(this.#parked !== undefined);
    this.#parking ??= this.#park(core).finally(() => {
      this.#parking = undefined;
    });
    return this.#parking;
  }

  async #park(core: SandboxCore): Promise<boolean> {
    const uses = this.#uses;
    const snapshot = await encodeSnapshotOffThread(core);
    if (uses !== this.#uses || this.#core !== core) return false;
    this.engine.evict(core);
    this.#parked = { snapshot, guest: core.guest, limits: core.limits, mounts: core.mounts };
    this.#core = undefined;
    return true;
  }

  /** The sandbox closed: nothing to park or restore any more. */
  release(): void {
    this.#armed = false;
    clearTimeout(this.#timer);
    this.#uses += 1;
    this.#parked = undefined;
  }
}

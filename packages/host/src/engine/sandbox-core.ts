/**
 * What the host owns of one sandbox: its memory, its scratch directory's bytes, and the state
 * its instances leave outside memory. Executors hold instances; this is what outlives them.
 */
import type { ResolvedLimits } from '../options.js';
import type { ReadOnlyMount } from '../wasi/index.js';
import { createScratchBuffer, emptyScratchMeta, usedScratchBytes, type ScratchMeta } from '../wasi/scratch-store.js';
import type { EngineGuest } from './engine-guest.js';
import { takeGuestMemory } from './memory-stock.js';
import type { Executor } from './executor.js';
import type { GuestSetup, InstanceState, SandboxSetup, ScratchState } from './executor-protocol.js';
import type { FunctionsSetup } from '../functions/protocol.js';

export interface SandboxCore {
  readonly id: number;
  readonly guest: EngineGuest;
  readonly limits: ResolvedLimits;
  memory: WebAssembly.Memory;
  /** `/tmp` (bytes growable up to the limit); undefined for guests without a virtual root. */
  scratch: ScratchState | undefined;
  /** Read-only trees mounted below `/` for this sandbox. */
  readonly mounts: readonly ReadOnlyMount[];
  state: InstanceState | undefined;
  /** Completed calls; an executor whose instance saw fewer must rebuild it from `state`. */
  version: number;
  /** The executor that ran the last call; its instance is current. */
  executor: Executor | undefined;
}

/** What a new core starts from: fresh by default, or a fork's or a snapshot's contents. */
export interface CoreContents {
  memory?: WebAssembly.Memory;
  scratch?: ScratchState;
  state?: InstanceState;
}

let nextSandboxId = 1;

export function createSandboxCore(
  guest: EngineGuest,
  limits: ResolvedLimits,
  mounts: readonly ReadOnlyMount[] = [],
  contents: CoreContents = {},
): SandboxCore {
  return {
    id: nextSandboxId++,
    guest,
    limits,
    memory: contents.memory ?? takeGuestMemory(guest, limits.memoryLimitPages),
    scratch: guest.virtualRoot
      ? (contents.scratch ?? { buffer: createScratchBuffer(limits.tmpLimitBytes), meta: emptyScratchMeta() })
      : undefined,
    mounts,
    state: contents.state,
    version: 0,
    executor: undefined,
  };
}

/** A copy of a scratch directory with a buffer of its own, under `quotaBytes`. */
export function copyScratch(source: { bytes: Uint8Array; meta: ScratchMeta }, quotaBytes: number): ScratchState {
  const used = usedScratchBytes(source.meta);
  const buffer = createScratchBuffer(Math.max(quotaBytes, used));
  buffer.grow(used);
  new Uint8Array(buffer).set(source.bytes.subarray(0, used));
  return { buffer, meta: structuredClone(source.meta) };
}

/** What a thread needs to instantiate `guest` (an executor's setup message, or in-process). */
export function guestSetupOf(guest: EngineGuest): GuestSetup {
  return {
    type: 'guest',
    guestKey: guest.key,
    modules: guest.modules,
    mounts: guest.mounts,
    routedMounts: guest.routedMounts,
    virtualRoot: guest.virtualRoot,
  };
}

/** What a thread needs to run `core`'s next call, as of its current state. */
export function sandboxSetupOf(core: SandboxCore, functions: FunctionsSetup): SandboxSetup {
  return {
    type: 'sandbox',
    id: core.id,
    guestKey: core.guest.key,
    memory: core.memory,
    outputLimitBytes: core.limits.outputLimitBytes,
    memoryLimitBytes: core.limits.memoryLimitBytes,
    functions,
    ...(core.scratch ? { scratch: core.scratch } : {}),
    mounts: core.mounts,
    state: core.state,
    version: core.version,
  };
}

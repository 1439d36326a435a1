/**
 * What the host owns of one sandbox: its memory and the state its instances leave outside
 * memory. Executors hold instances; this is what outlives them.
 */
import type { ResolvedLimits } from '../options.js';
import type { EngineGuest } from './engine-guest.js';
import { createGuestMemory } from './engine-guest.js';
import type { Executor } from './executor.js';
import type { InstanceState } from './executor-protocol.js';

export interface SandboxCore {
  readonly id: number;
  readonly guest: EngineGuest;
  readonly limits: ResolvedLimits;
  memory: WebAssembly.Memory;
  state: InstanceState | undefined;
  /** Completed calls; an executor whose instance saw fewer must rebuild it from `state`. */
  version: number;
  /** The executor that ran the last call; its instance is current. */
  executor: Executor | undefined;
}

let nextSandboxId = 1;

export function createSandboxCore(
  guest: EngineGuest,
  limits: ResolvedLimits,
  memory: WebAssembly.Memory = createGuestMemory(guest, limits.memoryLimitPages),
  state?: InstanceState,
): SandboxCore {
  return { id: nextSandboxId++, guest, limits, memory, state, version: 0, executor: undefined };
}

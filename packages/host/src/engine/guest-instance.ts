/**
 * One guest instance over a sandbox's host-owned memory, inside an executor thread: the WASI
 * host objects, the output captures, stdin, the host functions, and our binding, which calls
 * `exec` / `eval` / `run`. Instances are disposable; what must survive them (memory, globals,
 * handle tables) is saved after every call as an InstanceState and restored into whichever
 * instance runs the next one.
 */
import { instantiateGuest as bind, restoreGlobals, saveGlobals, type GuestBinding } from '../binding/index.js';
import type { SerializedTables } from '../binding/index.js';
import { HostCalls, type CallerHop } from '../functions/executor-calls.js';
import { CallInput } from '../wasi/call-input.js';
import { createWasiImports } from '../wasi/index.js';
import { OutputCapture } from '../wasi/output-capture.js';
import { ScratchStore, type ScratchMeta } from '../wasi/scratch-store.js';
import type { GuestSetup, InstanceState, SandboxSetup } from './executor-protocol.js';

export interface GuestInstance {
  binding: GuestBinding;
  stdout: OutputCapture;
  stderr: OutputCapture;
  stdin: CallInput;
  hostCalls: HostCalls;
  /** Saves what lives outside linear memory. */
  saveState(): InstanceState;
  /** The scratch directory's metadata if it changed since the last time this was asked. */
  changedScratch(): ScratchMeta | undefined;
}

export function instantiateGuest(guest: GuestSetup, sandbox: SandboxSetup, hop: CallerHop): GuestInstance {
  const stdout = new OutputCapture(sandbox.outputLimitBytes);
  const stderr = new OutputCapture(sandbox.outputLimitBytes);
  const stdin = new CallInput();
  // The instance changes its own copy; the host's copy changes only when a call's state returns.
  const scratch = sandbox.scratch && new ScratchStore(sandbox.scratch.buffer, structuredClone(sandbox.scratch.meta));
  const host = createWasiImports({
    preopens: guest.mounts,
    ...(guest.virtualRoot
      ? { virtualRoot: { ...(scratch ? { scratch } : {}), mounts: [...guest.routedMounts, ...sandbox.mounts] } }
      : {}),
    stdout,
    stderr,
    stdin,
    memoryLimitBytes: sandbox.memoryLimitBytes,
  });
  const hostCalls = new HostCalls(
    sandbox.functions,
    hop,
    () => sandbox.memoryLimitBytes - sandbox.memory.buffer.byteLength,
  );
  const binding = bind({
    modules: guest.modules,
    host,
    memory: sandbox.memory,
    hostFunctions: hostCalls,
    ...(sandbox.state?.tables ? { tables: sandbox.state.tables as SerializedTables } : {}),
  });
  if (sandbox.state) restoreGlobals(binding.instances, sandbox.state.globals);
  let savedChanges = scratch?.changes ?? 0;
  return {
    binding,
    stdout,
    stderr,
    stdin,
    hostCalls,
    saveState: () => ({ globals: saveGlobals(binding.instances), tables: binding.snapshotTables() }),
    changedScratch: () => {
      if (!scratch || scratch.changes === savedChanges) return undefined;
      savedChanges = scratch.changes;
      return scratch.meta;
    },
  };
}

/**
 * One guest instance over a sandbox's host-owned memory, inside an executor thread: the WASI
 * host objects, the output captures, and our binding, which calls `exec` / `eval`. Instances
 * are disposable; what must survive them (memory, globals, handle tables) is saved after every
 * call as an InstanceState and restored into whichever instance runs the next one.
 */
import { instantiateGuest as bind, restoreGlobals, saveGlobals, type GuestBinding } from '../binding/index.js';
import type { SerializedTables } from '../binding/index.js';
import { createWasiImports } from '../wasi/index.js';
import { OutputCapture } from '../wasi/output-capture.js';
import type { GuestSetup, InstanceState, SandboxSetup } from './executor-protocol.js';

export interface GuestInstance {
  binding: GuestBinding;
  stdout: OutputCapture;
  stderr: OutputCapture;
  /** Saves what lives outside linear memory. */
  saveState(): InstanceState;
}

export function instantiateGuest(guest: GuestSetup, sandbox: SandboxSetup): GuestInstance {
  const stdout = new OutputCapture(sandbox.outputLimitBytes);
  const stderr = new OutputCapture(sandbox.outputLimitBytes);
  const host = createWasiImports({
    mounts: guest.mounts,
    stdout,
    stderr,
    memoryLimitBytes: sandbox.memoryLimitBytes,
  });
  const binding = bind({
    modules: guest.modules,
    host,
    memory: sandbox.memory,
    ...(sandbox.state?.tables ? { tables: sandbox.state.tables as SerializedTables } : {}),
  });
  if (sandbox.state) restoreGlobals(binding.instances, sandbox.state.globals);
  return {
    binding,
    stdout,
    stderr,
    saveState: () => ({ globals: saveGlobals(binding.instances), tables: binding.snapshotTables() }),
  };
}

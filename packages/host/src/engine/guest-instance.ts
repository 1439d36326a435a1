/**
 * One guest instance over a sandbox's host-owned memory, inside an executor thread: the
 * WASI host objects, the output captures, and the binding that calls `exec` / `eval`.
 * Instances are disposable; what must survive them (memory, globals, handle tables) is
 * saved after every call as an InstanceState.
 */
import type { SandboxExports } from '@component-sandbox/wit';
import { GLOBAL_EXPORT_PREFIX, MEMORY_IMPORT } from './guest-image.js';
import type { GuestSetup, InstanceState, SandboxSetup } from './executor-protocol.js';
import { createWasiImports } from '../wasi/index.js';
import { OutputCapture } from '../wasi/output-capture.js';

export interface GuestInstance {
  exports: SandboxExports;
  stdout: OutputCapture;
  stderr: OutputCapture;
  /** Saves what lives outside linear memory. */
  saveState(): InstanceState;
}

/** Refuses, by name, any interface the glue asks for that the host does not provide. */
function strictImports(imports: Record<string, Record<string, unknown>>) {
  return new Proxy(imports, {
    get(target, key) {
      if (typeof key === 'string' && !(key in target)) {
        throw new Error(`the guest imports ${key}, which this host does not provide`);
      }
      return target[key as string];
    },
  });
}

function globalsOf(instance: WebAssembly.Instance): WebAssembly.Global[] {
  return Object.entries(instance.exports)
    .filter(([name]) => name.startsWith(GLOBAL_EXPORT_PREFIX))
    .sort(([a], [b]) => Number(a.slice(GLOBAL_EXPORT_PREFIX.length)) - Number(b.slice(GLOBAL_EXPORT_PREFIX.length)))
    .map(([, value]) => value as WebAssembly.Global);
}

export async function instantiateGuest(
  guest: GuestSetup,
  sandbox: SandboxSetup,
): Promise<GuestInstance> {
  const stdout = new OutputCapture(sandbox.outputLimitBytes);
  const stderr = new OutputCapture(sandbox.outputLimitBytes);
  const host = createWasiImports({
    mounts: guest.mounts,
    stdout,
    stderr,
    memoryLimitBytes: sandbox.memoryLimitBytes,
  });
  const instances = new Map<string, WebAssembly.Instance>();
  const glue = (await import(guest.glueUrl)) as {
    instantiate: (
      getCoreModule: (file: string) => WebAssembly.Module,
      imports: object,
      instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
    ) => Promise<SandboxExports>;
  };
  const byModule = new Map(Object.entries(guest.modules).map(([file, module]) => [module, file]));
  const exports = await glue.instantiate(
    (file) => {
      const module = guest.modules[file];
      if (!module) throw new Error(`the artifact has no core module ${file}`);
      return module;
    },
    strictImports(host),
    (module, moduleImports) => {
      const file = byModule.get(module)!;
      const needsMemory = WebAssembly.Module.imports(module).some((i) => i.module === MEMORY_IMPORT.module);
      const imports = needsMemory ? { ...moduleImports, [MEMORY_IMPORT.module]: { memory: sandbox.memory } } : moduleImports;
      const instance = new WebAssembly.Instance(module, imports);
      const saved = sandbox.state?.globals[file];
      if (saved) globalsOf(instance).forEach((global, index) => (global.value = saved[index]));
      instances.set(file, instance);
      return instance;
    },
  );
  return {
    exports,
    stdout,
    stderr,
    saveState: () => ({
      globals: Object.fromEntries([...instances].map(([file, instance]) => [file, globalsOf(instance).map((g) => g.value as number | bigint)])),
    }),
  };
}

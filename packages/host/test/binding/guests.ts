/** Shared set-up for the binding's integration tests: real artifacts, in-process. */
import { artifactDir as javascriptDir } from '@component-sandbox/guest-javascript';
import { artifactDir as pythonDir } from '@component-sandbox/guest-python';
import { instantiateGuest, type GuestBinding } from '../../src/binding/index.js';
import type { SerializedTables } from '../../src/binding/handles.js';
import { compileGuest, loadGuest, type LoadedGuest } from '../../src/guest.js';
import { createWasiImports } from '../../src/wasi/index.js';
import { OutputCapture } from '../../src/wasi/output-capture.js';

export const MEMORY_LIMIT_PAGES = 320; // 20 MiB, the host's default

export interface TestGuest {
  guest: LoadedGuest;
  /** The artifact's modules, unmodified except for the memory maximum (the host's limit). */
  modules: Map<string, WebAssembly.Module>;
}

export async function loadTestGuest(language: 'python' | 'javascript'): Promise<TestGuest> {
  const guest = await loadGuest(language === 'python' ? pythonDir : javascriptDir);
  return { guest, modules: await compileGuest(guest, MEMORY_LIMIT_PAGES) };
}

export interface Running {
  binding: GuestBinding;
  host: ReturnType<typeof createWasiImports>;
  stdout: OutputCapture;
  stderr: OutputCapture;
}

export function createHost(guest: LoadedGuest) {
  const stdout = new OutputCapture(1 << 20);
  const stderr = new OutputCapture(1 << 20);
  const host = createWasiImports({
    preopens: guest.mounts,
    ...(guest.virtualRoot ? { virtualRoot: { mounts: [] } } : {}),
    stdout,
    stderr,
    memoryLimitBytes: MEMORY_LIMIT_PAGES * 65536,
  });
  return { host, stdout, stderr };
}

export function start(
  test: TestGuest,
  options: { modules?: Map<string, WebAssembly.Module>; memory?: WebAssembly.Memory; tables?: SerializedTables } = {},
): Running {
  const { host, stdout, stderr } = createHost(test.guest);
  const binding = instantiateGuest({ modules: options.modules ?? test.modules, host, ...options });
  return { binding, host, stdout, stderr };
}

/** The value of a successful eval, decoded from the guest's JSON. */
export function value(binding: GuestBinding, expression: string): unknown {
  const result = binding.eval(expression);
  if (!result.ok) throw new Error(`eval ${expression} failed: ${result.error}`);
  return JSON.parse(result.value);
}

export function run(binding: GuestBinding, statements: string): void {
  const result = binding.exec(statements);
  if (!result.ok) throw new Error(`exec failed: ${result.error}`);
}

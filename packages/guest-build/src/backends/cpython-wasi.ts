/**
 * python / cpython-wasi: CPython 3.11 cross-compiled from Debian's source package, our C shim
 * (native/cpython-shim.c) exporting the world's functions with the canonical ABI, pre-initialised
 * with Wizer, embedded with the WIT and turned into a component with jco's reactor adapter.
 *
 *   guest.py ──┐
 *   shim.c ────┼─ clang-19 ─> core.wasm ─ wizer ─> core.wizer.wasm ─ embed WIT ─ component new ─> component
 *   libpython ─┘                            (snapshot: interpreter + guest.py + common modules)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PythonWasiToolchain } from '@component-sandbox/python-wasi';
import type { Backend, BackendInput, BackendOutput } from '../backend.js';
import { GuestBuildError } from '../errors.js';
import { jcoWasmTools } from '../jco-tools.js';
import { packageVersion } from '../package-version.js';

/** Where the guest sees the stdlib; the shim hard-codes the same path (STDLIB_MOUNT). */
export const STDLIB_GUEST_PATH = '/python';

const NATIVE_DIR = fileURLToPath(new URL('../../native/', import.meta.url));
const SHIM_SOURCE = join(NATIVE_DIR, 'cpython-shim.c');
const BINDINGS_SOURCE = join(NATIVE_DIR, 'sandbox_bindings.py');
const TOOLCHAIN_PACKAGE: string = '@component-sandbox/python-wasi';
const WIZER_PACKAGE: string = '@bytecodealliance/wizer';

/**
 * CPython's own WASI build uses a 512 KiB stack (wasm-ld's default of 64 KiB is too small for the
 * interpreter). Stack-first puts it below the data, so an overflow traps instead of silently
 * corrupting the heap.
 */
const STACK_SIZE_BYTES = 512 * 1024;

// Types only: the toolchain package is loaded at run time, where the monorepo provides it.
type PythonWasiModule = typeof import('@component-sandbox/python-wasi');

export class CpythonWasiBackend implements Backend {
  readonly name = 'cpython-wasi';
  readonly language = 'python' as const;

  async availability(): Promise<{ available: true } | { available: false; reason: string }> {
    const toolchain = await importToolchainPackage();
    if (!toolchain)
      return { available: false, reason: `${TOOLCHAIN_PACKAGE} is not installed (it ships only in the monorepo)` };
    return toolchain.pythonWasiAvailability();
  }

  async build(input: BackendInput): Promise<BackendOutput> {
    const log = input.log;
    const python = await importToolchainPackage();
    if (!python)
      throw new GuestBuildError('BACKEND_UNAVAILABLE', `the cpython-wasi backend needs ${TOOLCHAIN_PACKAGE}`);
    const toolchain = await step(log, 'CPython toolchain', () => python.ensurePythonWasi({ log }));
    const buildDir = join(input.workDir, 'cpython-wasi');
    await mkdir(buildDir, { recursive: true });

    await writeEmbeddedSources(input.sourcePath, buildDir);
    const coreWasm = join(buildDir, 'core.wasm');
    await step(log, 'compile and link the shim', () => compileShim(toolchain, buildDir, coreWasm));
    const snapshotWasm = join(buildDir, 'core.wizer.wasm');
    await step(log, 'pre-initialise with Wizer', () => preInitialize(coreWasm, snapshotWasm, toolchain.stdlibDir));
    const component = await step(log, 'make the component', () =>
      componentize(snapshotWasm, input.witDir, input.world),
    );
    log(`cpython-wasi: component ${(component.byteLength / 1e6).toFixed(1)} MB`);

    return {
      component,
      readOnlyTrees: [{ guestPath: STDLIB_GUEST_PATH, sourceDir: toolchain.stdlibDir }],
      toolchain: {
        backend: this.name,
        python: toolchain.version,
        debianSource: `python3.11 ${toolchain.debianSourceVersion}`,
        clang: toolchain.clangVersion,
        wasiLibc: toolchain.wasiLibcVersion,
        pythonWasiKey: toolchain.key,
        wizer: packageVersion('@bytecodealliance/wizer'),
        jco: packageVersion('@bytecodealliance/jco'),
        stackBytes: String(STACK_SIZE_BYTES),
      },
    };
  }
}

/** The toolchain package, or undefined when it is not installed (outside the monorepo). */
async function importToolchainPackage(): Promise<PythonWasiModule | undefined> {
  try {
    return (await import(TOOLCHAIN_PACKAGE)) as PythonWasiModule;
  } catch (error) {
    const notInstalled =
      (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(error).includes(TOOLCHAIN_PACKAGE);
    if (notInstalled) return undefined;
    throw error;
  }
}

/** Runs one build step: logs its duration, and turns any failure into a TOOLCHAIN_FAILED error. */
async function step<T>(log: (message: string) => void, what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    if (error instanceof GuestBuildError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new GuestBuildError('TOOLCHAIN_FAILED', `cpython-wasi: ${what} failed:\n${detail}`, { cause: error });
  }
  log(`cpython-wasi: ${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/**
 * guest.py and the binding stand-in go into the binary as byte arrays, so the guest code can be
 * neither read from nor replaced through the stdlib tree at run time.
 */
async function writeEmbeddedSources(guestSourcePath: string, buildDir: string): Promise<void> {
  const arrays = [
    cByteArray('GUEST_PY_SOURCE', await readFile(guestSourcePath)),
    cByteArray('SANDBOX_BINDINGS_SOURCE', await readFile(BINDINGS_SOURCE)),
  ];
  const header = `/* Generated by @component-sandbox/guest-build (cpython-wasi backend). Do not edit. */\n${arrays.join('\n')}`;
  await writeFile(join(buildDir, 'embedded_sources.h'), header);
}

/** A NUL-terminated `static const char name[]`; hex bytes need no escaping rules. */
function cByteArray(name: string, bytes: Uint8Array): string {
  const lines: string[] = [];
  const withNul = [...bytes, 0];
  for (let offset = 0; offset < withNul.length; offset += 16) {
    lines.push(
      withNul
        .slice(offset, offset + 16)
        .map((byte) => `0x${byte.toString(16).padStart(2, '0')}`)
        .join(','),
    );
  }
  return `static const char ${name}[] = {\n${lines.join(',\n')}\n};\n`;
}

async function compileShim(toolchain: PythonWasiToolchain, buildDir: string, output: string): Promise<void> {
  await run(toolchain.clang, [
    ...toolchain.cflags,
    '-O2',
    `-I${toolchain.includeDir}`,
    `-I${buildDir}`,
    '-mexec-model=reactor', // exports functions, no main(); wasi-libc's _initialize runs constructors
    '-z',
    `stack-size=${STACK_SIZE_BYTES}`,
    '-Wl,--stack-first',
    // No --initial-memory: wasm-ld's minimum (stack + static data, about 60 pages) is enough,
    // and after Wizer the memory's minimum is what initialisation grew to (about 110 pages),
    // whereas a larger initial memory would be carried into every instance's minimum.
    '-Wl,--strip-debug', // libpython is built with -g; the names section stays for stack traces
    SHIM_SOURCE,
    ...toolchain.libs,
    ...toolchain.linkFlags,
    '-lm',
    '-o',
    output,
  ]);
}

/**
 * Runs wizer.initialize (Python start-up, guest.py, common imports) at build time and writes the
 * resulting memory into the module. The stdlib is mapped where the host will mount it: wasi-libc's
 * preopen table is part of the snapshot, so the run-time preopens must be the same, in order.
 */
async function preInitialize(input: string, output: string, stdlibDir: string): Promise<void> {
  // The package (no type declarations) exports the path of its platform-specific binary.
  const wizer = ((await import(WIZER_PACKAGE)) as { default: string }).default;
  await run(wizer, [
    input,
    '-o',
    output,
    '--init-func',
    'wizer.initialize',
    '--allow-wasi',
    '--inherit-env=false',
    '--mapdir',
    `${STDLIB_GUEST_PATH}::${stdlibDir}`,
  ]);
}

async function componentize(coreWasmPath: string, witDir: string, world: string): Promise<Uint8Array> {
  const { componentEmbed, componentNew } = await jcoWasmTools();
  const embedded = await componentEmbed({
    binary: await readFile(coreWasmPath),
    witPath: witDir,
    world,
    stringEncoding: 'utf8',
  });
  const adapter = await readFile(reactorAdapterPath());
  return componentNew(embedded, [['wasi_snapshot_preview1', adapter]]);
}

/** jco ships the WASI preview1 -> preview2 adapter; its exports map hides it, so find the file. */
function reactorAdapterPath(): string {
  return join(packageRoot('@bytecodealliance/jco'), 'lib', 'wasi_snapshot_preview1.reactor.wasm');
}

/** The directory of an installed package: walk up from its entry point to its package.json. */
function packageRoot(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  while (dirname(dir) !== dir) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name)
      return dir;
    dir = dirname(dir);
  }
  throw new Error(`cannot find the package directory of ${name}`);
}

/** Runs a tool; on failure the error carries its output (compiler errors, Wizer's traps). */
function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => (output += chunk.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.trim().slice(-4000)}`));
    });
  });
}

export const cpythonWasiBackend: Backend = new CpythonWasiBackend();

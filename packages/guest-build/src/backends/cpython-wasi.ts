/**
 * python / cpython-wasi: starts from @component-sandbox/python-base (CPython for wasm32-wasi
 * linked with our shim, built once by us), so a guest build needs no C compiler, apt or root:
 *
 *   python-base.wasm ─ wizer (guest.py + includes at /app, stdlib at /python, then `/`) ─> snapshot
 *     ─ embed WIT ─ component new (jco's reactor adapter) ─> component
 *
 * The snapshot holds the started interpreter, the guest module and what it imports.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CONTRACT_VERSION,
  EXTENDED_WORLD_NAME,
  HOST_INTERFACE,
  PYTHON_APP_GUEST_PATH,
  PYTHON_PACKAGES_GUEST_PATH,
  PYTHON_STDLIB_GUEST_PATH,
  SYSTEM_TZDATA_GUEST_PATH,
  SCRATCH_GUEST_PATH,
} from '@component-sandbox/wit';
import type { PythonBase } from '@component-sandbox/python-base';
import { assembleAppTree } from '../app-tree.js';
import type { Backend, BackendInput, BackendInterruptWords, BackendOutput } from '../backend.js';
import { GuestBuildError } from '../errors.js';
import { jcoWasmTools } from '../jco-tools.js';
import { dependencyDir } from '../package-dirs.js';
import { readInitialMemory } from '../wasm/binary.js';
import { packageVersion } from '../package-version.js';

const BASE_PACKAGE: string = '@component-sandbox/python-base';
const WIZER_PACKAGE: string = '@bytecodealliance/wizer';

type PythonBaseModule = typeof import('@component-sandbox/python-base');

/** The installed, built base, or why there is none. */
async function findBase(): Promise<{ base: PythonBase } | { reason: string }> {
  let module: PythonBaseModule;
  try {
    module = (await import(BASE_PACKAGE)) as PythonBaseModule;
  } catch {
    return { reason: `${BASE_PACKAGE} is not installed (npm install ${BASE_PACKAGE})` };
  }
  try {
    const base = module.readPythonBase();
    // The base was linked for these guest paths; a mismatch would break every import.
    if (base.stdlibGuestPath !== PYTHON_STDLIB_GUEST_PATH || base.appGuestPath !== PYTHON_APP_GUEST_PATH) {
      return {
        reason: `${BASE_PACKAGE} mounts ${base.stdlibGuestPath} and ${base.appGuestPath}, this builder ${PYTHON_STDLIB_GUEST_PATH} and ${PYTHON_APP_GUEST_PATH}: install matching versions`,
      };
    }
    return { base };
  } catch (error) {
    return { reason: (error as Error).message };
  }
}

export class CpythonWasiBackend implements Backend {
  readonly name = 'cpython-wasi';
  readonly language = 'python' as const;

  async availability(): Promise<{ available: true } | { available: false; reason: string }> {
    const found = await findBase();
    return 'base' in found ? { available: true } : { available: false, reason: found.reason };
  }

  async build(input: BackendInput): Promise<BackendOutput> {
    const log = input.log;
    const found = await findBase();
    if (!('base' in found)) throw new GuestBuildError('BACKEND_UNAVAILABLE', `cpython-wasi: ${found.reason}`);
    const { base } = found;
    if (input.world !== EXTENDED_WORLD_NAME) {
      // The base's shim imports the host interface, which world `sandbox` does not have.
      throw new GuestBuildError(
        'INVALID_INPUT',
        `cpython-wasi builds Python guests for world ${EXTENDED_WORLD_NAME} only (its base imports ${HOST_INTERFACE}); ` +
          `for world ${input.world}, use the componentize-py backend`,
      );
    }
    log(`cpython-wasi: CPython ${base.python} from ${BASE_PACKAGE}`);

    const appDir = join(input.workDir, 'app');
    await mkdir(appDir, { recursive: true });
    await assembleAppTree(input, appDir);
    const snapshotWasm = join(input.workDir, 'core.wizer.wasm');
    // What `/` looks like at build time: empty but for the mount points of the scratch directory
    // (the guest's working directory) and of run-time packages (on sys.path, so its finder is
    // made now). At run time the host routes `/` itself.
    const rootDir = join(input.workDir, 'root');
    for (const mountPoint of [SCRATCH_GUEST_PATH, PYTHON_PACKAGES_GUEST_PATH]) {
      await mkdir(join(rootDir, mountPoint), { recursive: true });
    }
    await step(log, 'pre-initialise with Wizer (start Python, import the guest)', () =>
      preInitialize(base, appDir, rootDir, input.workDir, snapshotWasm),
    );
    const interrupt = await step(log, 'read the interrupt words from the snapshot', async () =>
      readInterruptTable(base, await readFile(snapshotWasm)),
    );
    const component = await step(log, 'make the component', () =>
      componentize(snapshotWasm, input.witDir, input.world),
    );
    log(`cpython-wasi: component ${(component.byteLength / 1e6).toFixed(1)} MB`);

    return {
      component,
      // In the order Wizer mapped them: the preopen table in the snapshot is by position.
      readOnlyTrees: [
        { guestPath: PYTHON_STDLIB_GUEST_PATH, sourceDir: base.stdlibPath },
        { guestPath: PYTHON_APP_GUEST_PATH, sourceDir: appDir },
      ],
      virtualRoot: true,
      routedTrees: systemTzdata(base),
      toolchain: {
        backend: this.name,
        python: base.python,
        debianSource: base.debianSource,
        clang: base.clang,
        wasiLibc: base.wasiLibc,
        pythonWasiKey: base.pythonWasiKey,
        pythonBase: packageVersion(BASE_PACKAGE),
        pythonBaseSha256: base.sha256,
        wizer: packageVersion(WIZER_PACKAGE),
        jco: packageVersion('@bytecodealliance/jco'),
        stackBytes: String(base.stackBytes),
      },
      ...(interrupt ? { interrupt } : {}),
    };
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
 * Runs wizer.initialize (Python start-up, `import guest`, common imports) at build time and
 * writes the resulting memory into the module. Directories are mapped where the host will mount
 * them, in the same order.
 */
async function preInitialize(
  base: PythonBase,
  appDir: string,
  rootDir: string,
  workDir: string,
  output: string,
): Promise<void> {
  // The package (no type declarations) exports the path of its platform-specific binary.
  const wizer = ((await import(WIZER_PACKAGE)) as { default: string }).default;
  // The shim imports the host interface, which Wizer does not have; it asks nothing of it while
  // pre-initialising, but every import must be defined: stubs that would trap stand in.
  const hostStubs = join(workDir, 'host-stubs.wat');
  await writeFile(hostStubs, HOST_STUBS_WAT);
  await run(wizer, [
    '--preload',
    `${HOST_INTERFACE}@${CONTRACT_VERSION}=${hostStubs}`,
    base.modulePath,
    '-o',
    output,
    '--init-func',
    'wizer.initialize',
    '--allow-wasi',
    '--inherit-env=false',
    '--mapdir',
    `${PYTHON_STDLIB_GUEST_PATH}::${base.stdlibPath}`,
    '--mapdir',
    `${PYTHON_APP_GUEST_PATH}::${appDir}`,
    // Last: the host gives the guest its preopens in this order (see the manifest's virtualRoot).
    '--mapdir',
    `/::${rootDir}`,
  ]);
}

/**
 * The stdlib's time-zone data seen at the system's path too, for code that reads zone files from
 * there: none for a base that does not say where its zones are.
 */
function systemTzdata(base: PythonBase): NonNullable<BackendOutput['routedTrees']> {
  const prefix = `${base.stdlibGuestPath}/`;
  if (!base.tzdataGuestPath?.startsWith(prefix)) return [];
  // Tree 0 is the stdlib (readOnlyTrees below).
  return [{ guestPath: SYSTEM_TZDATA_GUEST_PATH, tree: 0, subdir: base.tzdataGuestPath.slice(prefix.length) }];
}

/** The host interface's core functions (the canonical ABI's flat signatures), each a trap. */
const HOST_STUBS_WAT = `(module
  (func (export "functions-version") (result i32) unreachable)
  (func (export "function-names") (param i32) unreachable)
  (func (export "call") (param i32 i32 i32 i32 i32) unreachable))
`;

/** Bytes of the shim's table: a 32-byte magic, then five u32 words (native/cpython-shim.c). */
const INTERRUPT_TABLE_BYTES = 32 + 5 * 4;

/**
 * The interrupt words as wizer.initialize left them in the snapshot's memory: the shim's table
 * at the address the base records. A base without a table (built before it existed) gives
 * none; a table without its magic means the base and this builder disagree, which is an error.
 */
export function readInterruptTable(base: PythonBase, snapshot: Uint8Array): BackendInterruptWords | undefined {
  if (!base.interruptTable) return undefined;
  const { address, magic } = base.interruptTable;
  const table = readInitialMemory(snapshot, address, INTERRUPT_TABLE_BYTES);
  const expected = new Uint8Array(32);
  expected.set(new TextEncoder().encode(magic));
  if (!expected.every((b, i) => table[i] === b)) {
    throw new Error(`the snapshot has no interrupt table at ${address} (expected "${magic}")`);
  }
  const view = new DataView(table.buffer, table.byteOffset + 32);
  const [hardStop, evalBreaker, asyncExc, exception, asyncExceptionBit] = [0, 4, 8, 12, 16].map((at) =>
    view.getUint32(at, true),
  ) as [number, number, number, number, number];
  if (hardStop !== 0 || evalBreaker === 0 || asyncExc === 0 || exception === 0 || asyncExceptionBit > 31) {
    throw new Error(`the snapshot's interrupt table is not filled in: ${[...table.subarray(32)].join(',')}`);
  }
  return {
    // The table's own word: only the inserted checks read it, nothing writes it.
    hardStopAddress: address + 32,
    python: {
      evalBreakerAddress: evalBreaker,
      asyncExcAddress: asyncExc,
      exceptionAddress: exception,
      asyncExceptionBit,
    },
  };
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
  return join(dependencyDir('@bytecodealliance/jco'), 'lib', 'wasi_snapshot_preview1.reactor.wasm');
}

/** Runs a tool; on failure the error carries its output (Wizer's traps, Python's traceback). */
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
      else reject(new Error(`${command} exited with ${code}:\n${output.trim().slice(-4000)}`));
    });
  });
}

export const cpythonWasiBackend: Backend = new CpythonWasiBackend();

/**
 * Instantiates a guest (the core modules jco split its component into) with our own canonical
 * ABI binding instead of jco's generated glue: no glue module to import, no per-instance
 * generator set-up, and the handle tables are plain data (see handles.ts).
 *
 * The component links the main module and the WASI preview1 adapter in a cycle (each imports
 * from the other) and breaks it with the shim/fixup modules' function table. From JS we break it
 * with late-bound functions instead: whichever module is instantiated first gets small
 * trampolines to the other's exports; the second gets the first's exports directly.
 */
import { interfaceName } from '../wasi/index.js';
import { GuestMemory, option, result, string, type CallContext } from './canon.js';
import { liftGuestFunction, type CoreFunction } from './functions.js';
import { HandleTables, restoreTables, snapshotTables, type SerializedTables } from './handles.js';
import {
  NO_HOST_FUNCTIONS,
  hostInterfaceImport,
  isHostInterfaceImport,
  type HostFunctionsImport,
} from './host-interface.js';
import type { HostImports } from './resource-state.js';
import { MAIN_MODULE_IMPORT, classifyModules } from './roles.js';
import { UnsupportedImportError, isWasiImport, wasiImport } from './wasi-imports.js';
import { func } from './wit.js';

/** The world's exports (wit/sandbox.wit), and `run` of world sandbox-extended. */
const EXEC = func({ statements: string }, result(undefined, string));
const EVAL = func({ expression: string }, result(string, string));
const RUN = func({ code: string }, result(option(string), string));

/** Where the main module imports the adapter's preview1 functions from. */
const PREVIEW1 = 'wasi_snapshot_preview1';

export interface InstantiateOptions {
  /** Core modules by artifact file name (manifest.json's coreModules). */
  modules: ReadonlyMap<string, WebAssembly.Module>;
  /** A createWasiImports() result: the sandbox's host objects. */
  host: HostImports;
  /** The memory to run in, for a main module that imports its memory (`cs.memory`). */
  memory?: WebAssembly.Memory;
  /** Handle tables to start from (a snapshotTables() result), recreated over `host`. */
  tables?: SerializedTables;
  /** The functions a guest built for world sandbox-extended may call; default none. */
  hostFunctions?: HostFunctionsImport;
}

export type ExecResult = { ok: true } | { ok: false; error: string };
export type EvalResult = { ok: true; value: string } | { ok: false; error: string };
/** A cell's result: the JSON of its last expression's value, if it has one. */
export type RunResult = { ok: true; value: string | undefined } | { ok: false; error: string };

export interface GuestBinding {
  /** Runs statements. The guest's error is data; traps and host exceptions are thrown. */
  exec(statements: string): ExecResult;
  /** Evaluates an expression to its JSON text. */
  eval(expression: string): EvalResult;
  /** Runs a cell; undefined for a guest built for world `sandbox` (it has no `run`). */
  readonly run: ((code: string) => RunResult) | undefined;
  readonly memory: WebAssembly.Memory;
  /** The core instances, by file name (the shim and fixup modules are never instantiated). */
  readonly instances: ReadonlyMap<string, WebAssembly.Instance>;
  readonly tables: HandleTables;
  /** The handle tables as structured-clonable data, for restoreTables or `options.tables`. */
  snapshotTables(): SerializedTables;
}

/** A call context whose memory and realloc exist only once the modules are instantiated. */
class LateContext implements CallContext {
  memory!: GuestMemory;
  realloc!: (oldPtr: number, oldSize: number, align: number, newSize: number) => number;
  constructor(readonly tables: HandleTables) {}
}

type Exports = WebAssembly.Exports;

/** Calls `name` of exports that exist only after a later instantiation. */
function trampoline(exportsOf: () => Exports | undefined, module: string, name: string): CoreFunction {
  let target: CoreFunction | undefined;
  return (...args) => {
    target ??= exportsOf()?.[name] as CoreFunction | undefined;
    if (!target) throw new Error(`${module}.${name} was called before it was instantiated`);
    return target(...args);
  };
}

function exportedFunction(exports: Exports, name: string, file: string): CoreFunction {
  const fn = exports[name];
  if (typeof fn !== 'function') throw new Error(`the core module ${file} does not export the function ${name}`);
  return fn as CoreFunction;
}

interface Link {
  /** An import satisfied by the other module of the pair, known after it is instantiated. */
  peer(name: string): WebAssembly.ExportValue;
  cx: CallContext;
}

/** The imports object of `module`; throws UnsupportedImportError for anything the host lacks. */
function importsFor(
  file: string,
  module: WebAssembly.Module,
  peerModule: string,
  link: Link,
  memory: () => WebAssembly.Memory,
  host: HostImports,
  hostFunctions: HostFunctionsImport,
): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    let value: WebAssembly.ImportValue;
    if (kind === 'memory') value = memory();
    else if (from === peerModule && kind === 'function') value = link.peer(name) as WebAssembly.ImportValue;
    else if (isWasiImport(from) && kind === 'function') value = wasiImport(host, from, name, link.cx);
    else if (isHostInterfaceImport(from) && kind === 'function')
      value = hostInterfaceImport(hostFunctions, name, link.cx);
    else {
      const what = from.startsWith('wasi') ? interfaceName(from) : `${from}.${name}`;
      throw new UnsupportedImportError(`the guest imports ${what}, which this host does not provide (in ${file})`);
    }
    (imports[from] ??= {})[name] = value;
  }
  return imports;
}

export function instantiateGuest(options: InstantiateOptions): GuestBinding {
  const { main, adapter } = classifyModules(options.modules);
  const [mainFile, mainModule] = main;
  const tables = options.tables ? restoreTables(options.tables, options.host) : new HandleTables();
  const mainImportsMemory = WebAssembly.Module.imports(mainModule).some((i) => i.kind === 'memory');
  if (mainImportsMemory && !options.memory) {
    throw new Error(`the core module ${mainFile} imports its memory: pass options.memory`);
  }
  if (!mainImportsMemory && options.memory) {
    throw new Error(`the core module ${mainFile} defines its own memory: options.memory cannot be used`);
  }

  const hostFunctions = options.hostFunctions ?? NO_HOST_FUNCTIONS;
  let mainExports: Exports | undefined;
  let adapterExports: Exports | undefined;
  let memory = options.memory;
  const memoryNow = () => {
    memory ??= mainExports?.memory as WebAssembly.Memory | undefined;
    if (!memory) throw new Error(`the core module ${mainFile} neither imports nor exports a memory`);
    return memory;
  };
  const mainCx = new LateContext(tables);
  const adapterCx = new LateContext(tables);
  const exportCx = new LateContext(tables);

  // A main module that defines its memory must come first (the adapter imports that memory);
  // otherwise the adapter goes first, so that the hot direction, main -> adapter, is direct.
  const mainFirst = !mainImportsMemory;
  const mainImports = () =>
    importsFor(
      mainFile,
      mainModule,
      PREVIEW1,
      {
        cx: mainCx,
        peer: (name) => {
          if (!adapter)
            throw new UnsupportedImportError(`the guest imports ${PREVIEW1}, which this host does not provide`);
          return mainFirst
            ? trampoline(() => adapterExports, PREVIEW1, name)
            : exportedFunction(adapterExports!, name, adapter[0]);
        },
      },
      memoryNow,
      options.host,
      hostFunctions,
    );
  const instances = new Map<string, WebAssembly.Instance>();
  const instantiate = (file: string, module: WebAssembly.Module, imports: WebAssembly.Imports): Exports => {
    const instance = new WebAssembly.Instance(module, imports);
    instances.set(file, instance);
    return instance.exports;
  };

  if (!adapter) {
    mainExports = instantiate(mainFile, mainModule, mainImports());
  } else {
    const [adapterFile, adapterModule] = adapter;
    const adapterImports = () =>
      importsFor(
        adapterFile,
        adapterModule,
        MAIN_MODULE_IMPORT,
        {
          cx: adapterCx,
          peer: (name) =>
            mainFirst
              ? exportedFunction(mainExports!, name, mainFile)
              : trampoline(() => mainExports, MAIN_MODULE_IMPORT, name),
        },
        memoryNow,
        options.host,
        hostFunctions,
      );
    // Instantiation runs no guest code (neither module has a start function), so nothing can
    // call through a trampoline before both instances exist.
    if (mainFirst) {
      mainExports = instantiate(mainFile, mainModule, mainImports());
      adapterExports = instantiate(adapterFile, adapterModule, adapterImports());
    } else {
      adapterExports = instantiate(adapterFile, adapterModule, adapterImports());
      mainExports = instantiate(mainFile, mainModule, mainImports());
    }
  }

  const guestMemory = new GuestMemory(memoryNow());
  const mainRealloc = exportedFunction(mainExports!, 'cabi_realloc', mainFile) as LateContext['realloc'];
  const importRealloc = (exports: Exports | undefined) =>
    (exports?.cabi_import_realloc as LateContext['realloc'] | undefined) ?? mainRealloc;
  for (const [cx, realloc] of [
    [mainCx, importRealloc(mainExports)],
    [adapterCx, importRealloc(adapterExports)],
    [exportCx, mainRealloc],
  ] as const) {
    cx.memory = guestMemory;
    cx.realloc = realloc;
  }

  const exec = liftGuestFunction(
    EXEC,
    exportedFunction(mainExports!, 'exec', mainFile),
    mainExports!.cabi_post_exec as CoreFunction | undefined,
    exportCx,
  );
  const evaluate = liftGuestFunction(
    EVAL,
    exportedFunction(mainExports!, 'eval', mainFile),
    mainExports!.cabi_post_eval as CoreFunction | undefined,
    exportCx,
  );

  const runExport = mainExports!.run;
  const cell =
    typeof runExport === 'function'
      ? liftGuestFunction(
          RUN,
          runExport as CoreFunction,
          mainExports!.cabi_post_run as CoreFunction | undefined,
          exportCx,
        )
      : undefined;

  // The component model forbids re-entering an instance (a host import calling back in).
  let running = false;
  const enter = <T>(call: () => T): T => {
    if (running) throw new Error('the guest is already running a call (re-entrance is not allowed)');
    running = true;
    try {
      return call();
    } finally {
      running = false;
    }
  };

  return {
    exec: (statements) =>
      enter(() => {
        const r = exec(statements) as { tag: 'ok' | 'err'; val: string | undefined };
        return r.tag === 'ok' ? { ok: true } : { ok: false, error: r.val! };
      }),
    eval: (expression) =>
      enter(() => {
        const r = evaluate(expression) as { tag: 'ok' | 'err'; val: string };
        return r.tag === 'ok' ? { ok: true, value: r.val } : { ok: false, error: r.val };
      }),
    run:
      cell &&
      ((code) =>
        enter(() => {
          const r = cell(code) as { tag: 'ok' | 'err'; val: string | undefined };
          return r.tag === 'ok' ? { ok: true, value: r.val } : { ok: false, error: r.val! };
        })),
    memory: guestMemory.memory,
    instances,
    tables,
    snapshotTables: () => snapshotTables(tables, options.host),
  };
}

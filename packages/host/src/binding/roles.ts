/**
 * Which core module of a split component plays which part, recognised by what it imports and
 * exports rather than by file order (jco numbers them, and a rewriter may add or drop some):
 *
 * - main: exports `exec` (the world's exports);
 * - adapter: imports from `__main_module__` (the WASI preview1 adapter);
 * - shim: exports the `$imports` table; fixup: imports `shim.$imports`. Together they break the
 *   main <-> adapter instantiation cycle in the component; from JS we close over late-bound
 *   functions instead, so the binding never instantiates them.
 */
export interface ModuleRoles {
  main: [file: string, module: WebAssembly.Module];
  adapter: [file: string, module: WebAssembly.Module] | undefined;
  /** Shim and fixup modules, not instantiated. */
  unused: string[];
}

const MAIN_EXPORT = 'exec';
export const MAIN_MODULE_IMPORT = '__main_module__';

export function classifyModules(modules: ReadonlyMap<string, WebAssembly.Module>): ModuleRoles {
  const mains: [string, WebAssembly.Module][] = [];
  const adapters: [string, WebAssembly.Module][] = [];
  const unused: string[] = [];
  for (const [file, module] of modules) {
    const imports = WebAssembly.Module.imports(module);
    const exports = WebAssembly.Module.exports(module);
    if (exports.some((e) => e.name === MAIN_EXPORT && e.kind === 'function')) mains.push([file, module]);
    else if (imports.some((i) => i.module === MAIN_MODULE_IMPORT)) adapters.push([file, module]);
    else if (exports.some((e) => e.name === '$imports' && e.kind === 'table')) unused.push(file);
    else if (imports.some((i) => i.module === 'shim' && i.name === '$imports')) unused.push(file);
    else throw new Error(`the core module ${file} is neither main module, WASI adapter, shim nor fixup`);
  }
  if (mains.length !== 1) throw new Error(`expected one core module exporting ${MAIN_EXPORT}, found ${mains.length}`);
  if (adapters.length > 1) throw new Error(`expected at most one WASI adapter module, found ${adapters.length}`);
  return { main: mains[0]!, adapter: adapters[0], unused };
}

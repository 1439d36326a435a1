/**
 * The mutable globals of a guest's core instances (its stack pointers, the WASI adapter's
 * state), which the engine's module rewriter exports as `cs:global:<index>`: saved after a call
 * and restored into another instance over the same memory, they carry the rest of its state.
 */
export const GLOBAL_EXPORT_PREFIX = 'cs:global:';

/** Every exported global, in a fixed order: instances by file name, globals by index. */
function exportedGlobals(instances: ReadonlyMap<string, WebAssembly.Instance>): WebAssembly.Global[] {
  const files = [...instances.keys()].sort();
  return files.flatMap((file) =>
    Object.entries(instances.get(file)!.exports)
      .filter(([name, value]) => name.startsWith(GLOBAL_EXPORT_PREFIX) && value instanceof WebAssembly.Global)
      .map(([name, value]) => [Number(name.slice(GLOBAL_EXPORT_PREFIX.length)), value as WebAssembly.Global] as const)
      .sort(([a], [b]) => a - b)
      .map(([, global]) => global),
  );
}

export function saveGlobals(instances: ReadonlyMap<string, WebAssembly.Instance>): Array<number | bigint> {
  return exportedGlobals(instances).map((global) => global.value as number | bigint);
}

export function restoreGlobals(
  instances: ReadonlyMap<string, WebAssembly.Instance>,
  values: ReadonlyArray<number | bigint>,
): void {
  const globals = exportedGlobals(instances);
  if (globals.length !== values.length) {
    throw new Error(`the guest exports ${globals.length} globals, but ${values.length} values were saved`);
  }
  globals.forEach((global, i) => (global.value = values[i]));
}

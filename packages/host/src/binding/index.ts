/** Our own component binding for the sandbox world: see instantiate.ts. */
export {
  instantiateGuest,
  type EvalResult,
  type ExecResult,
  type GuestBinding,
  type InstantiateOptions,
  type RunResult,
} from './instantiate.js';
export { NO_HOST_FUNCTIONS, type HostFunctionsImport } from './host-interface.js';
export { saveGlobals, restoreGlobals, GLOBAL_EXPORT_PREFIX } from './globals.js';
export { HandleTables, restoreTables, snapshotTables, type SerializedTable, type SerializedTables } from './handles.js';
export { ComponentTrap } from './trap.js';
export { UnsupportedImportError } from './wasi-imports.js';

export {
  createSandbox,
  inspectFunctions,
  restoreSandbox,
  Sandbox,
  type CallKind,
  type FunctionInfo,
  type RunOptions,
  type EvalResult,
  type ExecResult,
  type SandboxOptions,
  type SandboxState,
} from './sandbox.js';
export {
  createInProcessSandbox,
  InProcessSandbox,
  type InProcessRunOptions,
  type InProcessSandboxOptions,
} from './in-process/in-process-sandbox.js';
export { CALL_STATUSES, parseGuestError, type CallError, type CallResult, type CallStatus } from './call-result.js';
export { configureEngine } from './engine/default-engine.js';
export { GUEST_THREAD_STACK_MB } from './engine/guest-stack.js';
export type { EngineOptions } from './engine/engine-options.js';
export { createSandboxPool, SandboxPool, type SandboxPoolOptions } from './pool.js';
export { loadGuest, type LoadedGuest } from './guest.js';
export { findGuestArtifact, GuestUnavailableError, type PackageImporter } from './guest-packages.js';
export {
  LANGUAGES,
  GUEST_PACKAGES,
  isLanguage,
  type Language,
  PYTHON_STDLIB_GUEST_PATH,
  PYTHON_APP_GUEST_PATH,
  PYTHON_PACKAGES_GUEST_PATH,
  SCRATCH_GUEST_PATH,
} from '@component-sandbox/wit';
export { MAX_MOUNTS, type Mount } from './mounts.js';
export type { FileEntry } from './file-entry.js';
export {
  DEFAULT_MEMORY_LIMIT_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_OUTPUT_LIMIT_BYTES,
  DEFAULT_MAX_CODE_BYTES,
  DEFAULT_MAX_QUEUED_CALLS,
  DEFAULT_MAX_HOST_CALLS,
  DEFAULT_TMP_LIMIT_BYTES,
  MAX_TIMEOUT_MS,
  MAX_MEMORY_LIMIT_BYTES,
  MAX_TMP_LIMIT_BYTES,
  type SandboxLimits,
  type ResolvedLimits,
} from './options.js';
export * from './errors.js';
export { SUPPORTED_INTERFACES } from './wasi/index.js';
export { tuneForLongRuns, LONG_RUN_TIERING_BUDGET } from './engine.js';
export type { HostFunction, FunctionPlace } from './functions/resolve.js';
export {
  runCells,
  runProgram,
  type CellProgram,
  type Program,
  type ProgramResult,
  type ProgramTarget,
} from './program.js';
export { parseDuration, parseSize, parseCount, formatBytes, formatDuration } from './units.js';

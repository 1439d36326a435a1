export { buildGuest, type BuildGuestOptions, type BuildGuestResult } from './build.js';
export { GuestBuildError, type GuestBuildErrorCode } from './errors.js';
export type {
  Backend,
  BackendInput,
  BackendInterruptWords,
  BackendOutput,
  GuestLanguage,
  ReadOnlyTree,
} from './backend.js';
export { HARD_STOP_VALUE } from './interrupt.js';
export { allBackends, backendsFor } from './backends/registry.js';

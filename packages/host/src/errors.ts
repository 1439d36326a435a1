/**
 * Every way a sandbox call can fail, as classes callers can tell apart with `instanceof`
 * (or by `code`, which survives serialisation, e.g. across HTTP).
 */
export type SandboxErrorCode =
  | 'GUEST_ERROR'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'MEMORY_LIMIT'
  | 'GUEST_CRASHED'
  | 'SANDBOX_CLOSED'
  | 'SANDBOX_DEAD'
  | 'SANDBOX_BUSY'
  | 'INVALID_INPUT'
  | 'UNSUPPORTED_CALL'
  | 'INVALID_OPTIONS'
  | 'ARTIFACT_INVALID'
  | 'UNSUPPORTED_IMPORT'
  | 'FILE_ERROR';

export abstract class SandboxError extends Error {
  abstract readonly code: SandboxErrorCode;
}

/** What the guest printed before the call failed; kept so nothing is lost. */
export interface CapturedOutput {
  stdout: string;
  stderr: string;
}

/** The guest raised an error (`ExcType: message`); the sandbox and its globals are intact. */
export class GuestError extends SandboxError {
  override name = 'GuestError';
  readonly code = 'GUEST_ERROR';
  constructor(
    /** The guest's own text, e.g. `NameError: name 'x' is not defined`. */
    readonly guestMessage: string,
    readonly output: CapturedOutput,
    readonly durationMs: number,
    /** The guest's traceback, when it gave one. */
    readonly traceback?: string,
  ) {
    super(guestMessage);
  }

  /** The exception type the guest named, e.g. `NameError`. */
  get guestType(): string {
    return /^([\w.]+)(?::|$)/.exec(this.guestMessage)?.[1] ?? 'Error';
  }
}

const NO_OUTPUT: CapturedOutput = Object.freeze({ stdout: '', stderr: '' });

/**
 * The call ran past its time limit and was stopped. `stateKept`: the code was interrupted at a
 * check and the sandbox keeps its globals; otherwise it had to be stopped hard and is dead.
 */
export class TimeoutError extends SandboxError {
  override name = 'TimeoutError';
  readonly code = 'TIMEOUT';
  constructor(
    readonly timeoutMs: number,
    readonly stateKept = false,
    readonly output: CapturedOutput = NO_OUTPUT,
  ) {
    super(
      stateKept
        ? `the call did not finish within ${timeoutMs} ms; it was interrupted and the sandbox keeps its state`
        : `the call did not finish within ${timeoutMs} ms and had to be stopped; the sandbox is dead`,
    );
  }
}

/**
 * The caller's AbortSignal stopped the call (or kept it from starting). `stateKept` when the
 * soft stop caught it and the sandbox keeps its globals; otherwise the sandbox is dead.
 */
export class CancelledError extends SandboxError {
  override name = 'CancelledError';
  readonly code = 'CANCELLED';
  constructor(
    readonly stateKept = true,
    readonly output: CapturedOutput = NO_OUTPUT,
  ) {
    super(
      stateKept
        ? 'the call was cancelled; the sandbox keeps its state'
        : 'the call was cancelled and had to be stopped hard; the sandbox is dead',
    );
  }
}

/** The guest trapped while at its memory limit; the sandbox is dead. */
export class MemoryLimitError extends SandboxError {
  override name = 'MemoryLimitError';
  readonly code = 'MEMORY_LIMIT';
  constructor(
    readonly memoryLimitBytes: number,
    detail: string,
    readonly output: CapturedOutput = NO_OUTPUT,
  ) {
    super(detail.startsWith('the guest ran out of memory') ? detail : memoryLimitMessage(memoryLimitBytes, detail));
  }
}

export function memoryLimitMessage(memoryLimitBytes: number, detail: string): string {
  return `the guest ran out of memory at its limit of ${memoryLimitBytes} bytes (${detail})`;
}

/** The guest trapped or exited for another reason; the sandbox is dead. */
export class GuestCrashedError extends SandboxError {
  override name = 'GuestCrashedError';
  readonly code = 'GUEST_CRASHED';
  constructor(
    message: string,
    readonly output: CapturedOutput = NO_OUTPUT,
  ) {
    super(message);
  }
}

export class SandboxClosedError extends SandboxError {
  override name = 'SandboxClosedError';
  readonly code = 'SANDBOX_CLOSED';
  constructor() {
    super('the sandbox is closed');
  }
}

/** A call on a sandbox that an earlier timeout or crash killed. */
export class SandboxDeadError extends SandboxError {
  override name = 'SandboxDeadError';
  readonly code = 'SANDBOX_DEAD';
  constructor(readonly reason: string) {
    super(`the sandbox is dead: ${reason}; call reset() for a fresh one, or create a new sandbox`);
  }
}

/** Too many calls are already waiting on this sandbox. */
export class SandboxBusyError extends SandboxError {
  override name = 'SandboxBusyError';
  readonly code = 'SANDBOX_BUSY';
  constructor(readonly queued: number) {
    super(`the sandbox already has ${queued} calls waiting`);
  }
}

/** Code that is not a string, or too long. */
export class InvalidInputError extends SandboxError {
  override name = 'InvalidInputError';
  readonly code = 'INVALID_INPUT';
}

/** A call the guest cannot take: a cell (`run`) on a guest built for world `sandbox`. */
export class UnsupportedCallError extends SandboxError {
  override name = 'UnsupportedCallError';
  readonly code = 'UNSUPPORTED_CALL';
}

/** Options that cannot work (e.g. a memory limit below the guest's initial memory). */
export class InvalidOptionsError extends SandboxError {
  override name = 'InvalidOptionsError';
  readonly code = 'INVALID_OPTIONS';
}

/** An artifact directory that is missing, corrupt, or from an incompatible build. */
export class ArtifactError extends SandboxError {
  override name = 'ArtifactError';
  readonly code = 'ARTIFACT_INVALID';
}

/** The component imports an interface the host does not grant. */
export class UnsupportedImportError extends SandboxError {
  override name = 'UnsupportedImportError';
  readonly code = 'UNSUPPORTED_IMPORT';
  constructor(readonly imports: string[]) {
    super(`the guest imports interfaces this host does not provide: ${imports.join(', ')}`);
  }
}

/** Why a host-side file operation on a sandbox's `/tmp` failed. */
export type FileErrorReason = 'NOT_FOUND' | 'NO_SPACE' | 'IS_DIRECTORY' | 'NOT_DIRECTORY' | 'NO_SCRATCH';

const FILE_ERROR_TEXT: Record<FileErrorReason, string> = {
  NOT_FOUND: 'no such file or directory',
  NO_SPACE: "it would not fit in the sandbox's tmpLimitBytes",
  IS_DIRECTORY: 'it is a directory',
  NOT_DIRECTORY: 'a part of the path is a file, not a directory',
  NO_SCRATCH: 'this guest has no /tmp (it was built without a virtual root)',
};

/** `writeFile`, `readFile` or `listFiles` could not do what was asked; nothing was changed. */
export class FileError extends SandboxError {
  override name = 'FileError';
  readonly code = 'FILE_ERROR';
  constructor(
    readonly path: string,
    readonly reason: FileErrorReason,
  ) {
    super(`${path}: ${FILE_ERROR_TEXT[reason]}`);
  }
}

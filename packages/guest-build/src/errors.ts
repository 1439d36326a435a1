export type GuestBuildErrorCode =
  | 'SOURCE_NOT_FOUND'
  | 'INVALID_INPUT'
  | 'WIT_INVALID'
  | 'WORLD_NOT_FOUND'
  | 'BACKEND_UNAVAILABLE'
  | 'UNKNOWN_BACKEND'
  | 'COMPONENTIZE_FAILED'
  | 'TOOLCHAIN_FAILED'
  | 'TRANSPILE_FAILED';

/** Every failure of a guest build, with a code callers can branch on and a message for humans. */
export class GuestBuildError extends Error {
  override name = 'GuestBuildError';
  constructor(
    readonly code: GuestBuildErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The first line of an error from a tool, without the tool's own stack trace. */
export function describeToolError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split('\n').slice(0, 12).join('\n');
}

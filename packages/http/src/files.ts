/**
 * Files in a sandbox's /tmp over HTTP: the `files` field of run and session requests (path ->
 * base64) and the host's FileError / InvalidInputError as API errors. The paths, the quota and
 * what a guest without /tmp does are the host's rules; this module only names them for clients.
 */
import { FileError, InvalidInputError, type Sandbox } from '@component-sandbox/host';
import { ApiError, fileField, invalidBase64 } from './errors.js';
import { misuseError } from './outcome.js';

/** The host's file failures as API errors; anything else as misuseError does (or unchanged). */
export function fileApiError(error: unknown, limits: { tmpLimitBytes: number }): unknown {
  if (error instanceof FileError) {
    switch (error.reason) {
      case 'NOT_FOUND':
        return new ApiError(404, 'FILE_NOT_FOUND', error.message, {}, { path: error.path });
      case 'NO_SPACE':
        return new ApiError(
          413,
          'TMP_QUOTA_EXCEEDED',
          `${error.path} does not fit in the sandbox's /tmp (tmpLimitBytes ${limits.tmpLimitBytes}, counted in ` +
            '4 KiB blocks with what is already there); nothing was written',
          {},
          { path: error.path, tmpLimitBytes: limits.tmpLimitBytes },
        );
      case 'IS_DIRECTORY':
      case 'NOT_DIRECTORY':
        return new ApiError(409, 'FILE_CONFLICT', error.message, {}, { path: error.path, reason: error.reason });
      case 'NO_SCRATCH':
        return new ApiError(
          400,
          'FILES_UNSUPPORTED',
          "this sandbox's guest has no /tmp (JavaScript guests have none; files are for Python)",
        );
    }
  }
  // The host refuses paths outside /tmp, with `..`, with NUL, or naming /tmp itself.
  if (error instanceof InvalidInputError) return new ApiError(400, 'INVALID_FILE_PATH', error.message);
  return misuseError(error) ?? error;
}

/** Standard base64 with its padding, nothing else (Buffer.from would skip what is not base64). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A request's `files`, decoded; 400 INVALID_BASE64 names the first that is not base64. */
export function decodeRequestFiles(files: Record<string, string> | undefined): [string, Buffer][] {
  return Object.entries(files ?? {}).map(([path, base64]) => {
    if (!BASE64.test(base64)) throw invalidBase64(path);
    return [path, Buffer.from(base64, 'base64')];
  });
}

/** Writes decoded files into a fresh sandbox, in order; the first failure is the answer. */
export async function writeRequestFiles(
  sandbox: Sandbox,
  files: readonly [string, Buffer][],
  limits: { tmpLimitBytes: number },
): Promise<void> {
  for (const [path, bytes] of files) {
    try {
      await sandbox.writeFile(path, bytes);
    } catch (error) {
      const apiError = fileApiError(error, limits);
      if (apiError instanceof ApiError) {
        // The client named the file by its key in `files`.
        throw new ApiError(
          apiError.statusCode,
          apiError.code,
          `files[${JSON.stringify(path)}]: ${apiError.message}`,
          {},
          { ...(apiError.details as object | undefined), field: fileField(path) },
        );
      }
      throw apiError;
    }
  }
}

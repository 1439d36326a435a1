/**
 * Files the command line brings in: `--file HOST[:GUEST]` copies, `--mount HOST:GUEST` read-only
 * directories. Parsing only checks the shape; the host checks the paths themselves.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { FileError, SCRATCH_GUEST_PATH, type Mount, type Sandbox } from '@component-sandbox/host';

export interface FileCopy {
  hostPath: string;
  /** Where it goes in the sandbox: absolute below /tmp, or relative to /tmp. */
  guestPath: string;
}

/** A copy that cannot be made: a usage error, reported before any code runs. */
export class FileCopyError extends Error {
  override name = 'FileCopyError';
}

/** `HOST:GUEST` split at the last colon, so a host path may hold colons itself. */
function splitPair(text: string): [string, string | undefined] {
  const at = text.lastIndexOf(':');
  return at <= 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

export function parseFileCopy(text: string): FileCopy {
  const [hostPath, guest] = splitPair(text);
  if (hostPath === '') throw new Error('--file needs a host path');
  return { hostPath, guestPath: guest || `${SCRATCH_GUEST_PATH}/${basename(hostPath)}` };
}

export function parseMount(text: string): Mount {
  const [hostPath, guestPath] = splitPair(text);
  if (guestPath === undefined || guestPath === '' || hostPath === '') {
    throw new Error(`--mount takes HOST:GUEST (e.g. ./data:/data), got ${JSON.stringify(text)}`);
  }
  return { hostPath, guestPath };
}

export async function copyFilesIn(sandbox: Sandbox, copies: readonly FileCopy[]): Promise<void> {
  for (const copy of copies) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(copy.hostPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code);
      throw new FileCopyError(`--file ${copy.hostPath}: ${reason}`);
    }
    try {
      await sandbox.writeFile(copy.guestPath, bytes);
    } catch (error) {
      if (error instanceof FileError || (error as { code?: string }).code === 'INVALID_INPUT') {
        throw new FileCopyError(`--file ${copy.hostPath}: ${(error as Error).message}`);
      }
      throw error;
    }
  }
}

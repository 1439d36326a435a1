import { DEFAULT_MEMORY_LIMIT_BYTES, DEFAULT_TIMEOUT_MS, WASM_PAGE_BYTES } from '@component-sandbox/wit';
import { InvalidOptionsError } from './errors.js';
import type { LoadedGuest } from './guest.js';

export { DEFAULT_MEMORY_LIMIT_BYTES, DEFAULT_TIMEOUT_MS };
export const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CODE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_QUEUED_CALLS = 64;
export const DEFAULT_MAX_HOST_CALLS = 10_000;
export const DEFAULT_TMP_LIMIT_BYTES = 16 * 1024 * 1024;

export interface SandboxLimits {
  /** Wall-clock limit of one call, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Limit of guest linear memory, in bytes. Enforced to the 64 KiB page: a value that is not a
   * multiple of 64 KiB is rounded down. Default 20 MiB.
   */
  memoryLimitBytes?: number;
  /** Cap on what one call may write to stdout, and separately to stderr. Default 1 MiB. */
  outputLimitBytes?: number;
  /** Longest code string, and longest stdin text, a call accepts, in UTF-8 bytes. Default 1 MiB. */
  maxCodeBytes?: number;
  /** Calls that may wait behind the running one before new calls are refused. Default 64. */
  maxQueuedCalls?: number;
  /**
   * Host calls one guest call may make; beyond it, each one raises a HostError in the guest
   * without reaching the function. Default 10000.
   */
  maxHostCalls?: number;
  /**
   * Bytes the sandbox's writable `/tmp` may hold, counted in 4 KiB blocks (a file takes at least
   * one); past it a write fails with `ENOSPC` in the guest and the sandbox lives on. Guests
   * built without a `/` preopen have no `/tmp`. Default 16 MiB.
   */
  tmpLimitBytes?: number;
}

export type ResolvedLimits = Required<SandboxLimits> & { memoryLimitPages: number };

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** A 32-bit WebAssembly memory has at most 65536 pages of 64 KiB: 4 GiB. */
export const MAX_MEMORY_LIMIT_BYTES = 65536 * WASM_PAGE_BYTES;
export const MAX_TMP_LIMIT_BYTES = 4 * 1024 * 1024 * 1024;

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionsError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function tmpLimit(value: number | undefined): number {
  const bytes = positiveInteger('tmpLimitBytes', value, DEFAULT_TMP_LIMIT_BYTES);
  if (bytes > MAX_TMP_LIMIT_BYTES) {
    throw new InvalidOptionsError(
      `tmpLimitBytes ${bytes} is above the largest scratch directory, ${MAX_TMP_LIMIT_BYTES} (4 GiB)`,
    );
  }
  return bytes;
}

export function resolveLimits(limits: SandboxLimits, guest: LoadedGuest): ResolvedLimits {
  const timeoutMs = positiveInteger('timeoutMs', limits.timeoutMs, DEFAULT_TIMEOUT_MS);
  if (timeoutMs > MAX_TIMEOUT_MS) {
    throw new InvalidOptionsError(
      `timeoutMs ${timeoutMs} is above the longest time limit the host can keep, ${MAX_TIMEOUT_MS} ms (about 24.8 days)`,
    );
  }
  const memoryLimitBytes = positiveInteger('memoryLimitBytes', limits.memoryLimitBytes, DEFAULT_MEMORY_LIMIT_BYTES);
  if (memoryLimitBytes > MAX_MEMORY_LIMIT_BYTES) {
    throw new InvalidOptionsError(
      `memoryLimitBytes ${memoryLimitBytes} is above ${MAX_MEMORY_LIMIT_BYTES} (4 GiB: 65536 pages of 64 KiB), ` +
        'the most a WebAssembly memory can hold',
    );
  }
  const memoryLimitPages = Math.floor(memoryLimitBytes / WASM_PAGE_BYTES);
  if (memoryLimitPages * WASM_PAGE_BYTES < guest.initialMemoryBytes) {
    throw new InvalidOptionsError(
      `memoryLimitBytes ${memoryLimitBytes} is below the ${guest.manifest.language} guest's initial memory of ` +
        `${guest.initialMemoryBytes} bytes (${guest.manifest.initialMemoryPages} pages of 64 KiB); ` +
        `the limit must be at least ${guest.initialMemoryBytes}`,
    );
  }
  return {
    timeoutMs,
    memoryLimitBytes: memoryLimitPages * WASM_PAGE_BYTES,
    memoryLimitPages,
    outputLimitBytes: positiveInteger('outputLimitBytes', limits.outputLimitBytes, DEFAULT_OUTPUT_LIMIT_BYTES),
    maxCodeBytes: positiveInteger('maxCodeBytes', limits.maxCodeBytes, DEFAULT_MAX_CODE_BYTES),
    maxQueuedCalls: positiveInteger('maxQueuedCalls', limits.maxQueuedCalls, DEFAULT_MAX_QUEUED_CALLS),
    maxHostCalls: positiveInteger('maxHostCalls', limits.maxHostCalls, DEFAULT_MAX_HOST_CALLS),
    tmpLimitBytes: tmpLimit(limits.tmpLimitBytes),
  };
}

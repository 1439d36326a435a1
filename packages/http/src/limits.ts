/**
 * Per-request limits: what a request asks for, checked against the server's maxima. A request
 * that asks for more than the maximum is refused with 400 LIMIT_EXCEEDED (never clamped), and a
 * memory limit must be one of the server's allowed sizes (400 INVALID_LIMIT). The /tmp quota may
 * be anything up to `--tmp-limit`, which is also its default.
 */
import type { ServerConfig } from './config.js';
import { ApiError } from './errors.js';
import { formatBytes } from '@component-sandbox/host';

export interface CallLimits {
  timeoutMs: number;
  memoryLimitBytes: number;
  /** What the sandbox's /tmp may hold (Python). */
  tmpLimitBytes: number;
}

export interface RequestedLimits {
  timeoutMs?: number | undefined;
  memoryLimitBytes?: number | undefined;
  tmpLimitBytes?: number | undefined;
}

export function resolveLimits(requested: RequestedLimits, config: ServerConfig): CallLimits {
  const timeoutMs = requested.timeoutMs ?? config.defaultTimeoutMs;
  if (timeoutMs > config.maxTimeoutMs) {
    throw new ApiError(
      400,
      'LIMIT_EXCEEDED',
      `timeoutMs ${timeoutMs} is above this server's maximum of ${config.maxTimeoutMs}`,
      {},
      { field: 'timeoutMs', maximum: config.maxTimeoutMs },
    );
  }
  const memoryLimitBytes = requested.memoryLimitBytes ?? config.defaultMemoryLimitBytes;
  const allowed = config.memoryLimitsBytes;
  const maximum = allowed[allowed.length - 1]!;
  if (memoryLimitBytes > maximum) {
    throw new ApiError(
      400,
      'LIMIT_EXCEEDED',
      `memoryLimitBytes ${memoryLimitBytes} is above this server's maximum of ${maximum} (${formatBytes(maximum)})`,
      {},
      { field: 'memoryLimitBytes', maximum },
    );
  }
  if (!allowed.includes(memoryLimitBytes)) {
    throw new ApiError(
      400,
      'INVALID_LIMIT',
      `memoryLimitBytes must be one of ${allowed.map((b) => `${b} (${formatBytes(b)})`).join(', ')}`,
      {},
      { field: 'memoryLimitBytes', allowed },
    );
  }
  const tmpLimitBytes = requested.tmpLimitBytes ?? config.tmpLimitBytes;
  if (tmpLimitBytes > config.tmpLimitBytes) {
    throw new ApiError(
      400,
      'LIMIT_EXCEEDED',
      `tmpLimitBytes ${tmpLimitBytes} is above this server's maximum of ${config.tmpLimitBytes} ` +
        `(${formatBytes(config.tmpLimitBytes)}, --tmp-limit)`,
      {},
      { field: 'tmpLimitBytes', maximum: config.tmpLimitBytes },
    );
  }
  return { timeoutMs, memoryLimitBytes, tmpLimitBytes };
}

/** Refuses a stdin text longer than the server accepts (the code limit applies to it too). */
export function checkStdin(config: ServerConfig, stdin: string | undefined): void {
  if (stdin === undefined) return;
  const bytes = Buffer.byteLength(stdin, 'utf8');
  if (bytes > config.maxCodeBytes) {
    throw new ApiError(
      400,
      'INPUT_TOO_LONG',
      `stdin is ${bytes} bytes long, above this server's limit of ${config.maxCodeBytes} bytes (--max-code)`,
      {},
      { maximum: config.maxCodeBytes },
    );
  }
}

/** Refuses code longer than the server accepts, naming which piece is too long. */
export function checkCode(config: ServerConfig, code: string, what: string): void {
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > config.maxCodeBytes) {
    throw new ApiError(
      400,
      'CODE_TOO_LONG',
      `${what} is ${bytes} bytes long, above this server's limit of ${config.maxCodeBytes} bytes`,
      {},
      { maximum: config.maxCodeBytes },
    );
  }
}

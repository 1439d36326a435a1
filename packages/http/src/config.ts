/**
 * The server's configuration: one plain object, its defaults, and the checks that make a
 * configuration safe to serve (limits that fit together, no open binding without API keys).
 */
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import { LANGUAGES, type Language } from './guests.js';
import { formatBytes } from '@component-sandbox/host';

const MiB = 1024 * 1024;

export interface ServerConfig {
  /** Interface to bind; without API keys only a loopback address is allowed. */
  host: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Accepted bearer tokens. Empty: no authentication, loopback only. */
  apiKeys: string[];
  /** Language of requests that name none. */
  defaultLanguage: Language;
  /** Artifact directories that override the guest packages, by language. */
  guestDirs: Partial<Record<Language, string>>;
  /** Largest request body, in bytes. */
  bodyLimitBytes: number;
  /** Longest single code string (a statement block or an expression), in UTF-8 bytes. */
  maxCodeBytes: number;
  /** Most statement blocks in one `POST /v1/run`. */
  maxStatements: number;
  /** Cap on what one call may print to stdout, and separately to stderr. */
  maxOutputBytes: number;
  /** Time limit of a call when the request names none. */
  defaultTimeoutMs: number;
  /** Largest time limit a request may ask for. */
  maxTimeoutMs: number;
  /**
   * The guest memory limits a request may choose from (bytes, ascending); the largest is the
   * maximum. A fixed set because the host compiles and keeps the guest's modules once per limit.
   */
  memoryLimitsBytes: number[];
  /** Memory limit when the request names none; always allowed, even if not in `memoryLimitsBytes`. */
  defaultMemoryLimitBytes: number;
  /** Most live sessions, all keys together. */
  maxSessions: number;
  /** Idle time after which a session is closed. */
  sessionTtlMs: number;
  /** Sandbox calls (runs, session calls, session creations and resets) running at once. */
  maxConcurrentRuns: number;
  /** Calls that may wait for a free slot; past that, 429 at once. */
  maxQueuedRuns: number;
  /** Longest wait for a free slot before 429. */
  queueTimeoutMs: number;
  /** How long a shutdown waits for in-flight calls before stopping their sandboxes. */
  shutdownTimeoutMs: number;
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  logLevel: string;
  /** Warm sandboxes (default limits) kept ready per language by the host's pool; 0: no pool. */
  poolSize: number;
  /** Start each available language's pool (compiling its guest) before serving. */
  warmup: boolean;
  /** Include the default Node.js process metrics in `/metrics`. */
  processMetrics: boolean;
  /**
   * The bin only: call the host's process-wide `tuneForLongRuns()` (faster guest code in steady
   * state) before starting. `createServer` never changes engine flags itself.
   */
  tuneEngine: boolean;
}

export function defaultConfig(): ServerConfig {
  const cores = availableParallelism();
  return {
    host: '127.0.0.1',
    port: 8080,
    apiKeys: [],
    defaultLanguage: 'python',
    guestDirs: {},
    bodyLimitBytes: 1 * MiB,
    maxCodeBytes: 256 * 1024,
    maxStatements: 64,
    maxOutputBytes: 256 * 1024,
    defaultTimeoutMs: 5000,
    maxTimeoutMs: 30_000,
    memoryLimitsBytes: [20 * MiB, 32 * MiB, 64 * MiB, 128 * MiB],
    defaultMemoryLimitBytes: 20 * MiB,
    maxSessions: 32,
    sessionTtlMs: 5 * 60_000,
    maxConcurrentRuns: Math.max(2, cores),
    maxQueuedRuns: Math.max(8, cores * 4),
    queueTimeoutMs: 2000,
    shutdownTimeoutMs: 30_000,
    logLevel: 'info',
    poolSize: 2,
    warmup: true,
    processMetrics: true,
    tuneEngine: true,
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Defaults filled in, then every rule checked; throws ConfigError with what to change. */
export function resolveConfig(partial: Partial<ServerConfig> = {}): ServerConfig {
  const config: ServerConfig = { ...defaultConfig(), ...stripUndefined(partial) };
  // The default memory limit is always one of the allowed ones.
  config.memoryLimitsBytes = [...new Set([...config.memoryLimitsBytes, config.defaultMemoryLimitBytes])].sort(
    (a, b) => a - b,
  );
  const problems: string[] = [];
  const positive = (name: keyof ServerConfig) => {
    const value = config[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      problems.push(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
    }
  };
  for (const name of [
    'bodyLimitBytes',
    'maxCodeBytes',
    'maxStatements',
    'maxOutputBytes',
    'defaultTimeoutMs',
    'maxTimeoutMs',
    'defaultMemoryLimitBytes',
    'maxSessions',
    'sessionTtlMs',
    'maxConcurrentRuns',
    'queueTimeoutMs',
    'shutdownTimeoutMs',
  ] as const) {
    positive(name);
  }
  for (const name of ['maxQueuedRuns', 'poolSize'] as const) {
    if (!Number.isSafeInteger(config[name]) || config[name] < 0) {
      problems.push(`${name} must be zero or more, got ${config[name]}`);
    }
  }
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    problems.push(`port must be 0..65535, got ${config.port}`);
  }
  if (!LANGUAGES.includes(config.defaultLanguage)) {
    problems.push(`defaultLanguage must be one of ${LANGUAGES.join(', ')}, got ${config.defaultLanguage}`);
  }
  if (config.defaultTimeoutMs > config.maxTimeoutMs) {
    problems.push(
      `the default timeout (${config.defaultTimeoutMs} ms) is above the maximum (${config.maxTimeoutMs} ms)`,
    );
  }
  if (
    config.memoryLimitsBytes.length === 0 ||
    config.memoryLimitsBytes.some((b) => !Number.isSafeInteger(b) || b <= 0)
  ) {
    problems.push('memoryLimitsBytes must list one or more positive sizes');
  } else if (config.memoryLimitsBytes.length > 16) {
    problems.push(
      `memoryLimitsBytes lists ${config.memoryLimitsBytes.length} sizes (${config.memoryLimitsBytes.map(formatBytes).join(', ')}); ` +
        'allow at most 16: the host compiles the guest once per size and keeps it',
    );
  }
  if (config.apiKeys.some((key) => key.length < 8 || /\s/.test(key))) {
    problems.push('API keys must be at least 8 characters long and contain no whitespace');
  }
  if (config.apiKeys.length === 0 && !isLoopback(config.host)) {
    problems.push(
      `refusing to listen on ${config.host} without API keys: anyone who can reach it could run code. ` +
        'Give one or more keys (--api-key, --api-keys-file or SANDBOX_HTTP_API_KEYS), ' +
        'or bind to a loopback address (--host 127.0.0.1)',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return config;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Every server setting, once: its config key, flag, environment variable, default, parser, check
 * and help text. The `ServerConfig` type, the defaults, the commander program, the variables and
 * the README's settings table are all derived from this table, so a setting cannot be documented
 * without being wired, or wired under two names.
 */
import { availableParallelism, hostname } from 'node:os';
import {
  DEFAULT_MAX_HOST_CALLS,
  DEFAULT_MEMORY_LIMIT_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TMP_LIMIT_BYTES,
  LANGUAGES,
  MAX_MEMORY_LIMIT_BYTES,
  MAX_TIMEOUT_MS,
  MAX_TMP_LIMIT_BYTES,
  formatBytes,
  formatDuration,
  isLanguage,
  parseCount,
  parseDuration,
  parseSize,
  type Language,
} from '@component-sandbox/host';

export const ENV_PREFIX = 'SANDBOX_HTTP_';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface Setting<T> {
  /** Commander flags: `-p, --port <port>`, or `--no-warmup` for a switch that is on by default. */
  readonly flags: string;
  /** Environment variables, without {@link ENV_PREFIX}; a flag on the command line wins over them. */
  readonly env: readonly string[];
  readonly help: string;
  readonly default: () => T;
  /** The default as the docs state it, when it depends on the machine. */
  readonly defaultText?: string;
  /**
   * A flag argument or a variable's text -> value; throws Error with a message for people.
   * `previous` is the value so far for a repeatable flag; `variable` names the variable read.
   */
  readonly parse: (text: string, previous: T | undefined, variable?: string) => T;
  /** A value given to `createServer` directly; returns what is wrong with it. */
  readonly check: (value: unknown) => string | undefined;
  readonly format: (value: T) => string;
  /** The flag may be given more than once (its parser accumulates). */
  readonly repeatable?: boolean;
  /** A `--no-…` switch: no argument; its variable takes 1/true/yes or 0/false/no. */
  readonly negatable?: boolean;
}

const setting = <T>(row: Setting<T>): Setting<T> => row;

const MiB = 1024 * 1024;

const isInt = (value: unknown, min: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
const positive = (value: unknown) => (isInt(value, 1) ? undefined : `must be a positive integer, got ${show(value)}`);
const zeroOrMore = (value: unknown) => (isInt(value, 0) ? undefined : `must be zero or more, got ${show(value)}`);
const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/** `0` or a positive count. */
function parseCountOrZero(text: string): number {
  return text.trim() === '0' ? 0 : parseCount(text);
}

function parsePort(text: string): number {
  const port = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || port > 65535) throw new Error(`"${text}" is not a port (0-65535)`);
  return port;
}

function parseChoice<T extends string>(choices: readonly T[]) {
  return (text: string): T => {
    if (!(choices as readonly string[]).includes(text)) {
      throw new Error(`"${text}" is not one of ${choices.join(', ')}`);
    }
    return text as T;
  };
}

const splitList = (text: string) =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/** Positive and at most `max` (what the host can honour), said in the setting's own units. */
const positiveUpTo = (max: number, format: (value: number) => string, why: string) => (value: unknown) =>
  positive(value) ??
  ((value as number) > max ? `must be at most ${format(max)} (${why}), got ${format(value as number)}` : undefined);
const durationRow = (row: Omit<Setting<number>, 'parse' | 'check' | 'format'>): Setting<number> => ({
  ...row,
  parse: parseDuration,
  check: positive,
  format: formatDuration,
});
/** A time limit of guest calls: bounded by the longest timer the host can keep. */
const timeLimitRow = (row: Omit<Setting<number>, 'parse' | 'check' | 'format'>): Setting<number> => ({
  ...durationRow(row),
  check: positiveUpTo(MAX_TIMEOUT_MS, formatDuration, 'the longest time limit the host can keep'),
});
const sizeRow = (row: Omit<Setting<number>, 'parse' | 'check' | 'format'>): Setting<number> => ({
  ...row,
  parse: parseSize,
  check: positive,
  format: formatBytes,
});
const memoryLimitCheck = positiveUpTo(MAX_MEMORY_LIMIT_BYTES, formatBytes, 'the most a WebAssembly memory can hold');
const countRow = (
  row: Omit<Setting<number>, 'parse' | 'check' | 'format'>,
  { zero = false } = {},
): Setting<number> => ({
  ...row,
  parse: zero ? parseCountOrZero : parseCount,
  check: zero ? zeroOrMore : positive,
  format: String,
});
const switchRow = (flag: string, env: string, help: string): Setting<boolean> => ({
  flags: flag,
  env: [env],
  help,
  negatable: true,
  default: () => true,
  parse: (text) => {
    // The variable names the negative (NO_WARMUP=1 turns warm-up off).
    if (/^(1|true|yes)$/i.test(text.trim())) return false;
    if (/^(0|false|no|)$/i.test(text.trim())) return true;
    throw new Error(`"${text}" is not 1/true/yes or 0/false/no`);
  },
  check: (value) => (typeof value === 'boolean' ? undefined : `must be true or false, got ${show(value)}`),
  format: (value) => (value ? 'on' : 'off'),
});

/** A Redis URL (redis:// or rediss://), or an Error saying what is wrong with it. */
function parseStoreUrl(text: string): string {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`"${redactedUrl(trimmed)}" is not a URL; use redis://HOST:PORT`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`"${redactedUrl(trimmed)}" is not a redis:// or rediss:// URL`);
  }
  if (!url.hostname) throw new Error(`"${redactedUrl(trimmed)}" names no host; use redis://HOST:PORT`);
  return trimmed;
}

/** A URL with its password hidden (for logs, --help and messages). */
export function redactedUrl(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

const guestVariable = (language: Language) => `GUEST_${language.toUpperCase()}`;

export const SETTINGS = {
  host: setting<string>({
    flags: '--host <host>',
    env: ['HOST'],
    help: 'interface to bind; without API keys only a loopback address is allowed',
    default: () => '127.0.0.1',
    parse: (text) => text.trim(),
    check: (value) => (typeof value === 'string' && value ? undefined : `must be a host name or address`),
    format: String,
  }),
  port: setting<number>({
    flags: '-p, --port <port>',
    env: ['PORT'],
    help: 'port to listen on (0 picks a free one)',
    default: () => 8080,
    parse: parsePort,
    check: (value) => (isInt(value, 0) && value <= 65535 ? undefined : `must be 0..65535, got ${show(value)}`),
    format: String,
  }),
  apiKeys: setting<string[]>({
    flags: '-k, --api-key <key>',
    env: ['API_KEYS'],
    help: 'accepted API key (repeatable; the variable takes a comma-separated list); 8+ characters, no spaces',
    default: () => [],
    repeatable: true,
    parse: (text, previous) => [...(previous ?? []), ...splitList(text)],
    check: (value) =>
      Array.isArray(value) && value.every((key) => typeof key === 'string' && key.length >= 8 && !/\s/.test(key))
        ? undefined
        : 'API keys must be at least 8 characters long and contain no whitespace',
    format: (keys) => (keys.length ? `${keys.length} keys` : 'none'),
  }),
  apiKeysFile: setting<string | undefined>({
    flags: '--api-keys-file <path>',
    env: ['API_KEYS_FILE'],
    help: 'file with one API key per line (# comments); its keys are added to the others',
    default: () => undefined,
    parse: (text) => text,
    check: (value) => (value === undefined || typeof value === 'string' ? undefined : 'must be a file path'),
    format: (value) => value ?? 'none',
  }),
  defaultLanguage: setting<Language>({
    flags: '-l, --default-language <language>',
    env: ['DEFAULT_LANGUAGE'],
    help: `language when a request names none (${LANGUAGES.join(', ')})`,
    default: () => 'python',
    parse: parseChoice(LANGUAGES),
    check: (value) => (isLanguage(value) ? undefined : `must be one of ${LANGUAGES.join(', ')}, got ${show(value)}`),
    format: String,
  }),
  guestDirs: setting<Partial<Record<Language, string>>>({
    flags: '--guest <language=dir>',
    env: LANGUAGES.map(guestVariable),
    help: 'use this guest artifact directory for a language instead of its guest package (repeatable); the variables take the directory',
    default: () => ({}),
    defaultText: 'the guest packages',
    repeatable: true,
    parse: (text, previous, variable) => {
      if (variable !== undefined) {
        const language = LANGUAGES.find((l) => guestVariable(l) === variable)!;
        return { ...previous, [language]: text };
      }
      const match = /^([a-z]+)=(.+)$/.exec(text);
      if (!match || !isLanguage(match[1])) {
        throw new Error(`"${text}" is not LANGUAGE=ARTIFACT_DIR (languages: ${LANGUAGES.join(', ')})`);
      }
      return { ...previous, [match[1]]: match[2]! };
    },
    check: (value) =>
      typeof value === 'object' &&
      value !== null &&
      Object.entries(value).every(([language, dir]) => isLanguage(language) && typeof dir === 'string')
        ? undefined
        : `must map ${LANGUAGES.join(' or ')} to a directory`,
    format: (dirs) =>
      Object.entries(dirs)
        .map(([language, dir]) => `${language}=${dir}`)
        .join(',') || 'the guest packages',
  }),
  bodyLimitBytes: sizeRow({
    flags: '--body-limit <size>',
    env: ['BODY_LIMIT'],
    help: 'largest request body',
    default: () => MiB,
  }),
  maxCodeBytes: sizeRow({
    flags: '--max-code <size>',
    env: ['MAX_CODE'],
    help: 'longest code string (a statement block or an expression), in UTF-8',
    default: () => 256 * 1024,
  }),
  maxStatements: countRow({
    flags: '--max-statements <n>',
    env: ['MAX_STATEMENTS'],
    help: 'most statements in one run',
    default: () => 64,
  }),
  maxOutputBytes: sizeRow({
    flags: '--max-output <size>',
    env: ['MAX_OUTPUT'],
    help: 'stdout/stderr cap per call (each); past it the output is cut',
    default: () => 256 * 1024,
  }),
  maxResultBytes: sizeRow({
    flags: '--max-result <size>',
    env: ['MAX_RESULT'],
    help: 'largest value an eval may return (its JSON text); past it the call is an eval_error ResultTooLarge',
    default: () => MiB,
  }),
  defaultTimeoutMs: timeLimitRow({
    flags: '-t, --timeout <duration>',
    env: ['TIMEOUT'],
    help: 'default time limit per call',
    default: () => DEFAULT_TIMEOUT_MS,
  }),
  maxTimeoutMs: timeLimitRow({
    flags: '--max-timeout <duration>',
    env: ['MAX_TIMEOUT'],
    help: 'largest time limit a request may ask, and the time budget of all the calls of one request together',
    default: () => 30_000,
  }),
  defaultMemoryLimitBytes: {
    ...sizeRow({
      flags: '-m, --memory <size>',
      env: ['MEMORY'],
      help: 'default guest memory limit (always allowed)',
      default: () => DEFAULT_MEMORY_LIMIT_BYTES,
    }),
    check: memoryLimitCheck,
  },
  memoryLimitsBytes: setting<number[]>({
    flags: '--memory-limits <sizes>',
    env: ['MEMORY_LIMITS'],
    help: 'comma-separated guest memory limits a request may choose (at most 16); the largest is the maximum',
    default: () => [DEFAULT_MEMORY_LIMIT_BYTES, 32 * MiB, 64 * MiB, 128 * MiB],
    parse: (text) => text.split(',').map(parseSize),
    check: (value) =>
      Array.isArray(value) && value.length > 0
        ? value.map(memoryLimitCheck).find((problem) => problem !== undefined)
        : 'must list one or more positive sizes',
    format: (sizes) => sizes.map(formatBytes).join(', '),
  }),
  tmpLimitBytes: {
    ...sizeRow({
      flags: '--tmp-limit <size>',
      env: ['TMP_LIMIT'],
      help:
        "what each Python sandbox's writable /tmp may hold (files a request sends, and what the guest writes); " +
        'the default and the most a request may ask (tmpLimitBytes)',
      default: () => DEFAULT_TMP_LIMIT_BYTES,
    }),
    check: positiveUpTo(MAX_TMP_LIMIT_BYTES, formatBytes, 'the largest /tmp the host can make'),
  },
  packagesDir: setting<string | undefined>({
    flags: '--packages <dir>',
    env: ['PACKAGES'],
    help:
      'a directory of pure-Python packages (pip install --target DIR) that every Python sandbox imports from, ' +
      'read-only at /packages; checked at start-up',
    default: () => undefined,
    parse: (text) => text,
    check: (value) =>
      value === undefined || (typeof value === 'string' && value !== '') ? undefined : 'must be a directory path',
    format: (value) => value ?? 'none',
  }),
  functionsModule: setting<string | undefined>({
    flags: '--functions <module>',
    env: ['FUNCTIONS'],
    help: 'an ES module (path or URL) whose exported functions the guest code of every sandbox may call (host functions; listed at GET /v1/functions)',
    default: () => undefined,
    parse: (text) => text.trim(),
    check: (value) =>
      value === undefined || (typeof value === 'string' && value !== '') ? undefined : 'must be a module path or URL',
    format: (value) => value ?? 'none',
  }),
  maxHostCalls: countRow({
    flags: '--max-host-calls <n>',
    env: ['MAX_HOST_CALLS'],
    help: 'host function calls one guest call may make; past it, each raises HostError in the guest',
    default: () => DEFAULT_MAX_HOST_CALLS,
  }),
  maxSessions: countRow({
    flags: '--max-sessions <n>',
    env: ['MAX_SESSIONS'],
    help: 'live sessions, all API keys together',
    default: () => 32,
  }),
  maxSessionsPerKey: countRow({
    flags: '--max-sessions-per-key <n>',
    env: ['MAX_SESSIONS_PER_KEY'],
    help: 'live sessions of one API key, so that one key cannot take every session (servers with API keys)',
    default: () => 8,
  }),
  sessionTtlMs: durationRow({
    flags: '--session-ttl <duration>',
    env: ['SESSION_TTL'],
    help: 'idle time before a session is closed',
    default: () => 5 * 60_000,
  }),
  rateLimit: countRow(
    {
      flags: '--rate-limit <n>',
      env: ['RATE_LIMIT'],
      help: 'requests per minute one API key may make to /v1 (0: no limit); past it 429 RATE_LIMITED; shared by the replicas of a --store',
      default: () => 0,
    },
    { zero: true },
  ),
  maxRunsPerKey: countRow(
    {
      flags: '--max-runs-per-key <n>',
      env: ['MAX_RUNS_PER_KEY'],
      help: 'sandbox calls one API key may run at once (0: no cap); past it 429 TOO_MANY_RUNS; shared by the replicas of a --store',
      default: () => 0,
    },
    { zero: true },
  ),
  maxConcurrentRuns: countRow({
    flags: '--max-concurrent-runs <n>',
    env: ['MAX_CONCURRENT_RUNS'],
    help: 'sandbox calls running at once',
    default: () => Math.max(2, availableParallelism()),
    defaultText: 'cores, at least 2',
  }),
  maxQueuedRuns: countRow(
    {
      flags: '--max-queued-runs <n>',
      env: ['MAX_QUEUED_RUNS'],
      help: 'calls that may wait for a slot before 429 (0: none)',
      default: () => Math.max(8, availableParallelism() * 4),
      defaultText: '4 × cores, at least 8',
    },
    { zero: true },
  ),
  queueTimeoutMs: durationRow({
    flags: '--queue-timeout <duration>',
    env: ['QUEUE_TIMEOUT'],
    help: 'longest wait for a slot before 429',
    default: () => 2000,
  }),
  requestTimeoutMs: durationRow({
    flags: '--request-timeout <duration>',
    env: ['REQUEST_TIMEOUT'],
    help: 'time a client has to send its whole request (headers and body); slower clients are disconnected',
    default: () => 30_000,
  }),
  idleTimeoutMs: durationRow({
    flags: '--idle-timeout <duration>',
    env: ['IDLE_TIMEOUT'],
    help:
      'a connection on which nothing moves for this long is closed, e.g. a client that does not read its answer; ' +
      'longer than --max-timeout plus --queue-timeout',
    default: () => 2 * 60_000,
  }),
  keepAliveTimeoutMs: durationRow({
    flags: '--keep-alive-timeout <duration>',
    env: ['KEEP_ALIVE_TIMEOUT'],
    help: 'how long an idle keep-alive connection stays open between requests',
    default: () => 5000,
  }),
  shutdownTimeoutMs: durationRow({
    flags: '--shutdown-timeout <duration>',
    env: ['SHUTDOWN_TIMEOUT'],
    help: 'on SIGTERM/SIGINT, how long in-flight calls may finish',
    default: () => 30_000,
  }),
  poolSize: countRow(
    {
      flags: '--pool-size <n>',
      env: ['POOL_SIZE'],
      help: 'warm sandboxes (default limits) kept ready per language (0: no pool)',
      default: () => 2,
    },
    { zero: true },
  ),
  store: setting<string | undefined>({
    flags: '--store <url>',
    env: ['STORE'],
    help:
      'keep sessions in Redis (redis://[:password@]host:port[/db], rediss:// for TLS) so that any replica serves any ' +
      'session and sessions outlive restarts; without it sessions live in this process',
    default: () => undefined,
    defaultText: 'none (sessions in this process)',
    parse: (text) => parseStoreUrl(text),
    check: (value) => {
      if (value === undefined) return undefined;
      try {
        parseStoreUrl(value as string);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    },
    format: (value) => (value === undefined ? 'none (sessions in this process)' : redactedUrl(value)),
  }),
  storePrefix: setting<string>({
    flags: '--store-prefix <prefix>',
    env: ['STORE_PREFIX'],
    help: 'prefix of every key this server writes in the store, so that several deployments can share one Redis',
    default: () => 'component-sandbox:',
    parse: (text) => text,
    check: (value) =>
      typeof value === 'string' && value.length <= 100 && !/\s/.test(value)
        ? undefined
        : 'must be at most 100 characters without spaces',
    format: String,
  }),
  storeWrite: setting<'call' | 'idle'>({
    flags: '--store-write <when>',
    env: ['STORE_WRITE'],
    help:
      'with --store, when a call is saved: call (before its answer: an answer means it is saved) or idle ' +
      '(right after the answer: faster, but a replica that dies then loses that call)',
    default: () => 'call',
    parse: parseChoice(['call', 'idle'] as const),
    check: (value) => (value === 'call' || value === 'idle' ? undefined : `must be call or idle, got ${show(value)}`),
    format: String,
  }),
  replicaId: setting<string>({
    flags: '--replica-id <name>',
    env: ['REPLICA_ID'],
    help: "this replica's name in the store (leases name it) and in the X-Replica response header; unique per replica",
    default: () => `${hostname()}-${process.pid}`,
    defaultText: 'host name and process id',
    parse: (text) => text.trim(),
    check: (value) =>
      typeof value === 'string' && /^[\w.:-]{1,100}$/.test(value)
        ? undefined
        : 'must be 1-100 letters, digits or . _ : -',
    format: String,
  }),
  leaseTtlMs: durationRow({
    flags: '--lease-ttl <duration>',
    env: ['LEASE_TTL'],
    help:
      "with --store, how long a call's lease on its session lasts unless renewed: a replica that dies during a call " +
      'blocks that session for at most this long',
    default: () => 10_000,
  }),
  leaseWaitMs: {
    ...durationRow({
      flags: '--lease-wait <duration>',
      env: ['LEASE_WAIT'],
      help: 'with --store, how long a call waits for another call on the same session to end before 409 SESSION_BUSY (0: not at all)',
      default: () => 0,
    }),
    parse: (text: string) => (text.trim() === '0' ? 0 : parseDuration(text)),
    check: zeroOrMore,
  },
  hotSessions: countRow({
    flags: '--hot-sessions <n>',
    env: ['HOT_SESSIONS'],
    help:
      'with --store, sandboxes of sessions this replica keeps in memory; past it the least recently used are closed ' +
      '(they stay in the store and are restored on their next call)',
    default: () => 64,
  }),
  logLevel: setting<string>({
    flags: '--log-level <level>',
    env: ['LOG_LEVEL'],
    help: `pino log level: ${LOG_LEVELS.join(', ')}`,
    default: () => 'info',
    parse: parseChoice(LOG_LEVELS),
    check: (value) =>
      (LOG_LEVELS as readonly unknown[]).includes(value)
        ? undefined
        : `must be one of ${LOG_LEVELS.join(', ')}, got ${show(value)}`,
    format: String,
  }),
  warmup: switchRow('--no-warmup', 'NO_WARMUP', 'do not start the pools (compile the guests) before serving'),
  processMetrics: switchRow(
    '--no-process-metrics',
    'NO_PROCESS_METRICS',
    'leave the Node.js process metrics out of /metrics',
  ),
  tuneEngine: switchRow(
    '--no-tune-engine',
    'NO_TUNE_ENGINE',
    "the bin only: do not apply the host's tuneForLongRuns() (a process-wide V8 flag that makes steady-state guest code faster)",
  ),
} as const;

export type SettingKey = keyof typeof SETTINGS;
type ValueOf<S> = S extends Setting<infer T> ? T : never;

/** The server's configuration: one field per row of {@link SETTINGS}, of that row's type. */
export type ServerConfig = { -readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** A row with its value type erased, for code that walks the whole table. */
export function row(key: SettingKey): Setting<unknown> {
  return SETTINGS[key] as unknown as Setting<unknown>;
}

export const envName = (variable: string) => `${ENV_PREFIX}${variable}`;

/** The long flag of a row (`--max-sessions`), as messages name it. */
export function longFlag(key: SettingKey): string {
  return /--[\w-]+/.exec(SETTINGS[key].flags)![0];
}

/** The default as the docs and `--help` state it. */
export function defaultText(key: SettingKey): string {
  const r = row(key);
  return r.defaultText ?? r.format(r.default());
}

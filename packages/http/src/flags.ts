/**
 * Command line flags and environment variables -> a partial ServerConfig (commander). Every flag
 * has an environment variable; a flag given on the command line wins over its variable.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultConfig, type ServerConfig } from './config.js';
import { LANGUAGES, type Language } from './guests.js';
import { formatBytes, parseCount, parseDuration, parseSize } from '@component-sandbox/host';

export const ENV_PREFIX = 'SANDBOX_HTTP_';

function asArgument<T>(parse: (text: string) => T) {
  return (text: string): T => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

function collectKeys(text: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...text
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  ];
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65535) throw new Error(`"${text}" is not a port (0-65535)`);
  return port;
}

function parseGuest(text: string, previous: Partial<Record<Language, string>> | undefined) {
  const match = /^([a-z]+)=(.+)$/.exec(text);
  if (!match || !LANGUAGES.includes(match[1] as Language)) {
    throw new InvalidArgumentError(`"${text}" is not LANGUAGE=ARTIFACT_DIR (languages: ${LANGUAGES.join(', ')})`);
  }
  return { ...previous, [match[1]!]: match[2]! };
}

function readKeysFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read the API keys file ${path}: ${(error as Error).message}`);
  }
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

export function buildProgram(): Command {
  const d = defaultConfig();
  const env = (name: string) => `${ENV_PREFIX}${name}`;
  const option = (flags: string, description: string, name: string) => new Option(flags, description).env(env(name));
  return new Command()
    .name('component-sandbox-http')
    .description(
      'Serve component-sandbox over HTTP: one-shot runs and sessions of Python or JavaScript in WebAssembly sandboxes.',
    )
    .addOption(
      option(
        '--host <host>',
        `interface to bind (default ${d.host}; without API keys only loopback is allowed)`,
        'HOST',
      ),
    )
    .addOption(
      option('-p, --port <port>', `port (default ${d.port}; 0 picks a free one)`, 'PORT').argParser(
        asArgument(parsePort),
      ),
    )
    .addOption(
      option(
        '-k, --api-key <key>',
        'accepted API key (repeatable; the variable takes a comma-separated list)',
        'API_KEYS',
      ).argParser(collectKeys),
    )
    .addOption(option('--api-keys-file <path>', 'file with one API key per line (# comments)', 'API_KEYS_FILE'))
    .addOption(
      option(
        '-l, --default-language <language>',
        `language when a request names none (default ${d.defaultLanguage})`,
        'DEFAULT_LANGUAGE',
      ).choices(LANGUAGES),
    )
    .addOption(
      new Option(
        '--guest <language=dir>',
        'use this artifact directory for a language instead of its guest package (repeatable)',
      ).argParser(parseGuest),
    )
    .addOption(
      option(
        '--body-limit <size>',
        `largest request body (default ${formatBytes(d.bodyLimitBytes)})`,
        'BODY_LIMIT',
      ).argParser(asArgument(parseSize)),
    )
    .addOption(
      option('--max-code <size>', `longest code string (default ${formatBytes(d.maxCodeBytes)})`, 'MAX_CODE').argParser(
        asArgument(parseSize),
      ),
    )
    .addOption(
      option(
        '--max-statements <n>',
        `most statements in one run (default ${d.maxStatements})`,
        'MAX_STATEMENTS',
      ).argParser(asArgument(parseCount)),
    )
    .addOption(
      option(
        '--max-output <size>',
        `stdout/stderr cap per call (default ${formatBytes(d.maxOutputBytes)})`,
        'MAX_OUTPUT',
      ).argParser(asArgument(parseSize)),
    )
    .addOption(
      option(
        '-t, --timeout <duration>',
        `default time limit per call (default ${d.defaultTimeoutMs}ms)`,
        'TIMEOUT',
      ).argParser(asArgument(parseDuration)),
    )
    .addOption(
      option(
        '--max-timeout <duration>',
        `largest time limit a request may ask (default ${d.maxTimeoutMs}ms)`,
        'MAX_TIMEOUT',
      ).argParser(asArgument(parseDuration)),
    )
    .addOption(
      option(
        '-m, --memory <size>',
        `default guest memory limit (default ${formatBytes(d.defaultMemoryLimitBytes)})`,
        'MEMORY',
      ).argParser(asArgument(parseSize)),
    )
    .addOption(
      option(
        '--memory-limits <sizes>',
        `comma-separated memory limits a request may choose; the largest is the maximum (default ${d.memoryLimitsBytes.map(formatBytes).join(',').replaceAll(' ', '')})`,
        'MEMORY_LIMITS',
      ).argParser(asArgument((text) => text.split(',').map(parseSize))),
    )
    .addOption(
      option('--max-sessions <n>', `most live sessions (default ${d.maxSessions})`, 'MAX_SESSIONS').argParser(
        asArgument(parseCount),
      ),
    )
    .addOption(
      option(
        '--session-ttl <duration>',
        `idle time before a session is closed (default ${d.sessionTtlMs / 1000}s)`,
        'SESSION_TTL',
      ).argParser(asArgument(parseDuration)),
    )
    .addOption(
      option(
        '--max-concurrent-runs <n>',
        `sandbox calls running at once (default ${d.maxConcurrentRuns}: the cores, at least 2)`,
        'MAX_CONCURRENT_RUNS',
      ).argParser(asArgument(parseCount)),
    )
    .addOption(
      option(
        '--max-queued-runs <n>',
        `calls that may wait for a slot before 429 (default ${d.maxQueuedRuns})`,
        'MAX_QUEUED_RUNS',
      ).argParser(asArgument((text) => (text.trim() === '0' ? 0 : parseCount(text)))),
    )
    .addOption(
      option(
        '--queue-timeout <duration>',
        `longest wait for a slot before 429 (default ${d.queueTimeoutMs}ms)`,
        'QUEUE_TIMEOUT',
      ).argParser(asArgument(parseDuration)),
    )
    .addOption(
      option(
        '--shutdown-timeout <duration>',
        `on SIGTERM/SIGINT, how long in-flight calls may finish (default ${d.shutdownTimeoutMs / 1000}s)`,
        'SHUTDOWN_TIMEOUT',
      ).argParser(asArgument(parseDuration)),
    )
    .addOption(
      option('--log-level <level>', `pino log level (default ${d.logLevel})`, 'LOG_LEVEL').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .addOption(
      option(
        '--pool-size <n>',
        `warm sandboxes (default limits) kept ready per language (default ${d.poolSize}; 0: none)`,
        'POOL_SIZE',
      ).argParser(asArgument((text) => (text.trim() === '0' ? 0 : parseCount(text)))),
    )
    .addOption(
      new Option('--no-warmup', 'do not start the pools (compile the guests) before serving').env(env('NO_WARMUP')),
    )
    .addOption(
      new Option('--no-process-metrics', 'leave the Node.js process metrics out of /metrics').env(
        env('NO_PROCESS_METRICS'),
      ),
    )
    .addHelpText(
      'after',
      `
Every option can also be set with an environment variable: ${ENV_PREFIX}<NAME> as shown
([env: ...] above); for example ${ENV_PREFIX}API_KEYS=key1,key2. Guest directories can also be
set with ${ENV_PREFIX}GUEST_PYTHON and ${ENV_PREFIX}GUEST_JAVASCRIPT.

Without API keys the server only binds to a loopback address (127.0.0.1, ::1, localhost) and
refuses anything else with exit code 2.

Exit codes: 0 after a clean shutdown (SIGTERM, SIGINT), 1 if the server fails, 2 for a bad
command line or configuration.

Examples:
  component-sandbox-http --port 8080
  ${ENV_PREFIX}API_KEYS=$(openssl rand -hex 24) component-sandbox-http --host 0.0.0.0
  component-sandbox-http --default-language javascript --max-concurrent-runs 4 --session-ttl 10m`,
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

interface ParsedOptions {
  host?: string;
  port?: number;
  apiKey?: string[];
  apiKeysFile?: string;
  defaultLanguage?: Language;
  guest?: Partial<Record<Language, string>>;
  bodyLimit?: number;
  maxCode?: number;
  maxStatements?: number;
  maxOutput?: number;
  timeout?: number;
  maxTimeout?: number;
  memory?: number;
  memoryLimits?: number[];
  maxSessions?: number;
  sessionTtl?: number;
  maxConcurrentRuns?: number;
  maxQueuedRuns?: number;
  queueTimeout?: number;
  shutdownTimeout?: number;
  logLevel?: string;
  poolSize?: number;
  warmup: boolean;
  processMetrics: boolean;
  tuneEngine: boolean;
}

/**
 * `argv` as process.argv (node, script, ...flags); reads `env` for the variables. Throws
 * commander's CommanderError (with exitCode) on bad input or --help, after writing the message
 * to `output` (default: stdout/stderr).
 */
export function parseFlags(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  output?: { writeOut: (text: string) => void; writeErr: (text: string) => void },
): Partial<ServerConfig> {
  const program = buildProgram();
  if (output) program.configureOutput(output);
  const saved = process.env;
  process.env = env; // commander reads variables from process.env
  try {
    program.parse(argv);
  } finally {
    process.env = saved;
  }
  const o = program.opts<ParsedOptions>();
  const guestDirs: Partial<Record<Language, string>> = {};
  if (env[`${ENV_PREFIX}GUEST_PYTHON`]) guestDirs.python = env[`${ENV_PREFIX}GUEST_PYTHON`];
  if (env[`${ENV_PREFIX}GUEST_JAVASCRIPT`]) guestDirs.javascript = env[`${ENV_PREFIX}GUEST_JAVASCRIPT`];
  Object.assign(guestDirs, o.guest);
  const apiKeys = [...(o.apiKey ?? []), ...(o.apiKeysFile ? readKeysFile(o.apiKeysFile) : [])];
  return {
    host: o.host,
    port: o.port,
    apiKeys,
    defaultLanguage: o.defaultLanguage,
    guestDirs,
    bodyLimitBytes: o.bodyLimit,
    maxCodeBytes: o.maxCode,
    maxStatements: o.maxStatements,
    maxOutputBytes: o.maxOutput,
    defaultTimeoutMs: o.timeout,
    maxTimeoutMs: o.maxTimeout,
    defaultMemoryLimitBytes: o.memory,
    memoryLimitsBytes: o.memoryLimits,
    maxSessions: o.maxSessions,
    sessionTtlMs: o.sessionTtl,
    maxConcurrentRuns: o.maxConcurrentRuns,
    maxQueuedRuns: o.maxQueuedRuns,
    queueTimeoutMs: o.queueTimeout,
    shutdownTimeoutMs: o.shutdownTimeout,
    logLevel: o.logLevel,
    poolSize: o.poolSize,
    warmup: o.warmup,
    processMetrics: o.processMetrics,
    tuneEngine: o.tuneEngine,
  };
}

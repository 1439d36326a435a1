/**
 * The server's configuration: the defaults of the settings table, each value checked by its row,
 * then the rules that make a configuration safe to serve (limits that fit together, no open
 * binding without API keys).
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { formatBytes, formatDuration } from '@component-sandbox/host';
import { SETTING_KEYS, longFlag, row, type ServerConfig, type SettingKey } from './settings.js';

export type { ServerConfig } from './settings.js';

export function defaultConfig(): ServerConfig {
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, row(key).default()])) as ServerConfig;
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

function readKeysFile(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** Defaults filled in, then every rule checked; throws ConfigError listing everything to change. */
export function resolveConfig(partial: Partial<ServerConfig> = {}): ServerConfig {
  const config: ServerConfig = { ...defaultConfig(), ...stripUndefined(partial) };
  const problems: string[] = [];
  const invalid = new Set<SettingKey>();
  for (const key of SETTING_KEYS) {
    const problem = row(key).check(config[key]);
    if (problem) {
      problems.push(`${key} ${problem} (${longFlag(key)})`);
      invalid.add(key);
    }
  }
  // Rules across settings, each only when the settings it reads are valid themselves.
  const valid = (...keys: SettingKey[]) => keys.every((key) => !invalid.has(key));

  if (config.apiKeysFile !== undefined && valid('apiKeysFile', 'apiKeys')) {
    try {
      config.apiKeys = [...new Set([...config.apiKeys, ...readKeysFile(config.apiKeysFile)])];
    } catch (error) {
      problems.push(`cannot read the API keys file ${config.apiKeysFile}: ${(error as Error).message}`);
    }
    const problem = row('apiKeys').check(config.apiKeys);
    if (problem) problems.push(`${config.apiKeysFile}: ${problem}`);
  }
  // The packages directory is mounted into every Python sandbox: a missing one would fail each of them.
  if (config.packagesDir !== undefined && valid('packagesDir')) {
    const problem = directoryProblem(config.packagesDir);
    if (problem) problems.push(`the packages directory (--packages ${config.packagesDir}) ${problem}`);
  }
  // The default memory limit is always one of the allowed ones.
  if (valid('memoryLimitsBytes', 'defaultMemoryLimitBytes')) {
    config.memoryLimitsBytes = [...new Set([...config.memoryLimitsBytes, config.defaultMemoryLimitBytes])].sort(
      (a, b) => a - b,
    );
    if (config.memoryLimitsBytes.length > 16) {
      problems.push(
        `memoryLimitsBytes (--memory-limits) lists ${config.memoryLimitsBytes.length} sizes ` +
          `(${config.memoryLimitsBytes.map(formatBytes).join(', ')}); allow at most 16: ` +
          'the host compiles the guest once per size and keeps it',
      );
    }
  }
  if (valid('defaultTimeoutMs', 'maxTimeoutMs') && config.defaultTimeoutMs > config.maxTimeoutMs) {
    problems.push(
      `the default timeout (--timeout ${formatDuration(config.defaultTimeoutMs)}) is above the maximum ` +
        `(--max-timeout ${formatDuration(config.maxTimeoutMs)})`,
    );
  }
  // The socket is silent while a call runs: an idle timeout shorter than the longest wait for a
  // slot plus the longest request would cut answers that are on their way.
  if (
    valid('idleTimeoutMs', 'maxTimeoutMs', 'queueTimeoutMs') &&
    config.idleTimeoutMs <= config.maxTimeoutMs + config.queueTimeoutMs
  ) {
    problems.push(
      `the idle timeout (--idle-timeout ${formatDuration(config.idleTimeoutMs)}) must be longer than ` +
        `--max-timeout plus --queue-timeout (${formatDuration(config.maxTimeoutMs + config.queueTimeoutMs)})`,
    );
  }
  if (valid('apiKeys', 'host') && config.apiKeys.length === 0 && !isLoopback(config.host)) {
    problems.push(
      `refusing to listen on ${config.host} without API keys: anyone who can reach it could run code. ` +
        'Give one or more keys (--api-key, --api-keys-file or SANDBOX_HTTP_API_KEYS), ' +
        'or bind to a loopback address (--host 127.0.0.1)',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return config;
}

function directoryProblem(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? undefined : 'is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (error as Error).message})`;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export { createServer, closeGracefully, type ServerOptions } from './server.js';
export { resolveConfig, defaultConfig, isLoopback, ConfigError, type ServerConfig } from './config.js';
export { parseFlags, buildProgram } from './flags.js';
export { SETTINGS, ENV_PREFIX, type Setting, type SettingKey } from './settings.js';
export { LANGUAGES, GUEST_PACKAGES, type Language } from './guests.js';
export { RUN_STATUSES, type RunStatus, type CallResult } from './outcome.js';
export { METRIC_PREFIX } from './metrics.js';
export type { ErrorCode, ErrorBody } from './errors.js';
export type { App } from './context.js';

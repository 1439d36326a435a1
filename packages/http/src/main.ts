/** The `component-sandbox-http` bin: flags -> config -> server; graceful shutdown on signals. */
import { CommanderError } from 'commander';
import { SandboxError, inspectFunctions, tuneForLongRuns } from '@component-sandbox/host';
import { ConfigError, resolveConfig, type ServerConfig } from './config.js';
import { parseFlags } from './flags.js';
import { closeGracefully, createServer } from './server.js';

const CONFIG_EXIT = 2;

let config: ServerConfig;
try {
  config = resolveConfig(parseFlags(process.argv));
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : CONFIG_EXIT);
  if (error instanceof ConfigError) {
    process.stderr.write(`component-sandbox-http: ${error.message.replaceAll('\n', '\ncomponent-sandbox-http: ')}\n`);
    process.exit(CONFIG_EXIT);
  }
  throw error;
}

// The functions module is checked before anything listens: a broken one is a configuration error.
if (config.functionsModule !== undefined) {
  try {
    await inspectFunctions({ functionsModule: config.functionsModule });
  } catch (error) {
    if (!(error instanceof SandboxError)) throw error;
    process.stderr.write(`component-sandbox-http: --functions: ${error.message}\n`);
    process.exit(CONFIG_EXIT);
  }
}

// A server runs guests for a long time: let V8 optimise hot guest code sooner (process-wide).
if (config.tuneEngine) tuneForLongRuns();

// Logs go through process.stdout, and a log reader that goes away (EPIPE) only loses the logs:
// pino's default synchronous writer retries a broken pipe forever when flushing at exit.
process.stdout.on('error', () => {});
const app = createServer(config, { logStream: process.stdout });
try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  app.log.fatal({ err: error }, 'cannot start the server');
  process.stderr.write(
    `component-sandbox-http: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}\n`,
  );
  process.exit(1);
}
// Handlers first: a supervisor may signal as soon as it reads the line below.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) {
      app.log.warn({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    app.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: finishing in-flight requests');
    closeGracefully(app, config.shutdownTimeoutMs).then(
      (clean) => {
        app.log.info({ clean }, 'shut down');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
app.log.info(
  { event: 'listening', host: config.host, port, auth: config.apiKeys.length > 0, tuneEngine: config.tuneEngine },
  'component-sandbox-http ready',
);

/**
 * The server factory: `createServer(config)` wires configuration, auth, guests, sandboxes,
 * sessions, the run limiter, metrics and routes into a fastify instance (not yet listening), and
 * `closeGracefully` shuts one down.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController } from 'fastify';
import swagger from '@fastify/swagger';
import { inspectFunctions, type FunctionInfo } from '@component-sandbox/host';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiKeys } from './auth.js';
import { resolveConfig, type ServerConfig } from './config.js';
import type { App, AppContext } from './context.js';
import { ApiError, installErrorHandlers, sendError, toApiError } from './errors.js';
import { GuestRegistry } from './guests.js';
import { Metrics } from './metrics.js';
import { fileRoutes } from './routes/files.js';
import { playgroundRoutes } from './routes/playground.js';
import { functionRoutes } from './routes/functions.js';
import { runRoutes } from './routes/run.js';
import { sessionRoutes } from './routes/sessions.js';
import { languageRoutes, systemRoutes } from './routes/system.js';
import { RunLimiter } from './run-limiter.js';
import { Sandboxes } from './sandboxes.js';
import { swaggerOptions } from './openapi.js';
import { buildSchemas } from './schemas.js';
import { createStores } from './store/create.js';

const REQUEST_ID = /^[\w.:-]{1,100}$/;

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface ServerOptions {
  /** Where the JSON log lines go (default: pino's own stdout writer). */
  logStream?: NodeJS.WritableStream;
}

/** A fastify instance for `config` (defaults filled in, checked); call `listen` to serve. */
export function createServer(partial: Partial<ServerConfig> = {}, options: ServerOptions = {}): App {
  const config = resolveConfig(partial);
  const app: App = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization'],
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: config.bodyLimitBytes,
    // Slow or stalled clients must not hold connections (and the answers waiting for them)
    // forever: the whole request within requestTimeoutMs, no silence longer than idleTimeoutMs.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.idleTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      // Node checks request deadlines on this interval (30 s by default); check often enough
      // that the timeout means what it says.
      connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs),
    },
    // Honour a sane incoming X-Request-Id, otherwise make one; it is logged as requestId.
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // Our own 503 (in the common error shape) replaces fastify's during shutdown.
    return503OnClosing: false,
    // Router-level errors (bad URL encoding, over-long path parameters) in the same error shape.
    frameworkErrors: (error, request, reply) => sendError(reply, toApiError(error, request)),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const guests = new GuestRegistry(config.guestDirs);
  const sandboxes = new Sandboxes(guests, config);
  const state = { ready: false, closing: false };
  // The gauges read the limiter and the session store (declared below) when scraped.
  const metrics: Metrics = new Metrics(
    {
      sessionsLive: () => sessions.live(),
      sessionsHot: () => sessions.hot,
      sessionsParked: () => sessions.parked,
      sandboxesAlive: () => sandboxes.alive,
      poolIdle: () => sandboxes.poolIdle(),
      poolSize: config.poolSize,
      runsInFlight: () => limiter.active,
      runsQueued: () => limiter.queued,
    },
    { processMetrics: config.processMetrics },
  );
  const limiter = new RunLimiter(
    { maxConcurrent: config.maxConcurrentRuns, maxQueued: config.maxQueuedRuns, queueTimeoutMs: config.queueTimeoutMs },
    (reason) => metrics.rejected.inc({ reason }),
  );
  const { sessions, quotas, slot } = createStores(config, { sandboxes, limiter, metrics, log: app.log });
  let functions: Promise<FunctionInfo[]> | undefined;
  const ctx: AppContext = {
    config,
    keys: new ApiKeys(config.apiKeys),
    guests,
    sandboxes,
    sessions,
    limiter,
    quotas,
    slot,
    metrics,
    schemas: buildSchemas(config),
    functions: () =>
      (functions ??=
        config.functionsModule === undefined
          ? Promise.resolve([])
          : inspectFunctions({ functionsModule: config.functionsModule })),
    state,
  };
  app.decorate('sandboxContext', ctx);
  app.decorateRequest('owner', '');
  installErrorHandlers(app);
  // JSON only: a text/plain body is 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  // An empty JSON body is no body: routes whose body is optional accept it, the others answer
  // MISSING_BODY from their schema.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // Snapshots (POST /v1/sessions/restore) and files (PUT /v1/sessions/{id}/files/...) arrive as raw bytes.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') done(null, undefined);
    else parseJson(request, body as string, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    if (state.closing) {
      metrics.rejected.inc({ reason: 'shutting_down' });
      reply.header('connection', 'close');
      return sendError(reply, new ApiError(503, 'SHUTTING_DOWN', 'the server is shutting down'));
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (config.store !== undefined) reply.header('x-replica', config.replicaId);
    // During shutdown, answers end their keep-alive connection, so the server can close.
    if (state.closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
    metrics.requestDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.register(swagger, swaggerOptions(PACKAGE_VERSION));

  app.register(async (routes: App) => {
    // Everything under /v1 needs an API key (when the server has keys).
    await routes.register(async (secured: App) => {
      secured.addHook('onRequest', async (request) => {
        request.owner = ctx.keys.authenticate(request);
        await ctx.quotas.request(request.owner);
      });
      runRoutes(secured, ctx);
      sessionRoutes(secured, ctx);
      fileRoutes(secured, ctx);
      languageRoutes(secured, ctx);
      functionRoutes(secured, ctx);
    });
    systemRoutes(routes, ctx);
    playgroundRoutes(routes);
  });

  app.addHook('onReady', async () => {
    // With a store: connected before serving (an unreachable store fails the start).
    await sessions.start();
    // A functions module that cannot be loaded stops the server from starting.
    await ctx.functions();
    if (config.warmup) {
      const available = (await guests.status()).filter((l) => l.available).map((l) => l.name);
      try {
        await sandboxes.warm(available);
      } catch (error) {
        app.log.warn({ err: error }, 'warm-up failed; sandboxes will start on demand');
      }
    }
    state.ready = true;
  });
  app.addHook('preClose', async () => {
    state.closing = true;
    limiter.close();
  });
  app.addHook('onClose', async () => {
    // Runs after the HTTP server has stopped and its in-flight requests have been answered.
    await limiter.idle();
    await sessions.closeAll();
    await sandboxes.closeAll();
  });
  return app;
}

/**
 * Stops accepting requests, lets in-flight calls finish (each is bounded by its time limit),
 * closes every sandbox. Past `timeoutMs`, the remaining sandboxes are stopped (their calls answer
 * `crashed`) and open connections are closed. Resolves true if everything finished in time.
 */
export async function closeGracefully(app: App, timeoutMs: number): Promise<boolean> {
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    app.log.warn({ timeoutMs }, 'shutdown deadline passed: stopping the remaining sandboxes');
    void app.sandboxContext.sandboxes.closeAll().then(() => {
      setTimeout(() => app.server.closeAllConnections(), 1000).unref();
    });
  }, timeoutMs);
  timer.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  return !forced;
}

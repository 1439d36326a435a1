/** Languages, health, readiness, Prometheus metrics and the OpenAPI document. */
import type { App, AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { servedDocument } from '../openapi.js';

/** `GET /v1/languages`, which needs an API key like all of /v1. */
export function languageRoutes(secured: App, ctx: AppContext): void {
  const { config, schemas, guests } = ctx;
  secured.get(
    '/v1/languages',
    {
      schema: {
        operationId: 'listLanguages',
        summary: 'The languages this server knows and which of them it can run now',
        tags: ['system'],
        security: [{ bearerAuth: [] }],
        response: { 200: schemas.LanguagesResponse, '4xx': schemas.ErrorResponse, '5xx': schemas.ErrorResponse },
      },
    },
    async () => ({ default: config.defaultLanguage, languages: await guests.status() }),
  );
}

/** Public endpoints: health, readiness, metrics, OpenAPI. */
export function systemRoutes(app: App, ctx: AppContext): void {
  const { schemas, guests, metrics, state, sessions } = ctx;

  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process is serving requests',
        tags: ['system'],
        security: [],
        response: { 200: schemas.Health, '5xx': schemas.ErrorResponse },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: started, not shutting down, and at least one language available',
        tags: ['system'],
        security: [],
        response: { 200: schemas.Readiness, '4xx': schemas.ErrorResponse, 503: schemas.ErrorResponse },
      },
    },
    async () => {
      if (state.closing) throw new ApiError(503, 'SHUTTING_DOWN', 'the server is shutting down');
      if (!state.ready) throw new ApiError(503, 'NOT_READY', 'the server is starting');
      if (!sessions.reachable) throw new ApiError(503, 'NOT_READY', 'the session store cannot be reached');
      const available = (await guests.status()).filter((l) => l.available).map((l) => l.name);
      if (available.length === 0) throw new ApiError(503, 'NOT_READY', 'no guest language is available');
      return { status: 'ready' as const, languages: available };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['system'],
        security: [],
        response: {
          200: {
            description: 'The metrics in the Prometheus text format.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '4xx': { description: 'An error.', content: { 'application/json': { schema: schemas.ErrorResponse } } },
        },
      },
    },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async (request) =>
    servedDocument(app.swagger() as unknown as Record<string, unknown>, request),
  );
}

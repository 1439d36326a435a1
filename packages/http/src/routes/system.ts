/** Languages, health, readiness, Prometheus metrics and the OpenAPI document. */
import type { App, AppContext } from '../context.js';
import { ApiError } from '../errors.js';

/** `GET /v1/languages`, which needs an API key like all of /v1. */
export function languageRoutes(secured: App, ctx: AppContext): void {
  const { config, schemas, guests } = ctx;
  secured.get(
    '/v1/languages',
    {
      schema: {
        summary: 'The languages this server knows and which of them it can run now',
        tags: ['system'],
        security: [{ bearerAuth: [] }],
        response: { 200: schemas.LanguagesResponse, '4xx': schemas.ErrorResponse },
      },
    },
    async () => ({ default: config.defaultLanguage, languages: await guests.status() }),
  );
}

/** Public endpoints: health, readiness, metrics, OpenAPI. */
export function systemRoutes(app: App, ctx: AppContext): void {
  const { schemas, guests, metrics, state } = ctx;

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process is serving requests',
        tags: ['system'],
        response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: started, not shutting down, and at least one language available',
        tags: ['system'],
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string', enum: ['ready'] },
              languages: { type: 'array', items: { type: 'string' } },
            },
          },
          503: schemas.ErrorResponse,
        },
      },
    },
    async () => {
      if (state.closing) throw new ApiError(503, 'SHUTTING_DOWN', 'the server is shutting down');
      if (!state.ready) throw new ApiError(503, 'NOT_READY', 'the server is starting');
      const available = (await guests.status()).filter((l) => l.available).map((l) => l.name);
      if (available.length === 0) throw new ApiError(503, 'NOT_READY', 'no guest language is available');
      return { status: 'ready' as const, languages: available };
    },
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['system'] } },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

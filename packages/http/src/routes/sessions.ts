/**
 * Sessions: a sandbox that keeps its globals between calls, owned by the API key that created
 * it, closed after an idle TTL. A timeout, memory trap or crash leaves it dead until reset.
 */
import type { App, AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { checkCode, resolveLimits } from '../limits.js';
import { OPTIONAL_BODY } from '../openapi.js';
import { call, capResult } from '../outcome.js';
import { sendResult } from '../response.js';
import type { SessionView } from '../schemas.js';
import type { Session } from '../session-store.js';

export function sessionRoutes(app: App, ctx: AppContext): void {
  const { config, schemas, sandboxes, sessions, limiter, metrics } = ctx;

  const view = (session: Session): SessionView => {
    const dead = session.death !== undefined || session.sandbox.state === 'dead';
    return {
      id: session.id,
      language: session.language,
      state: dead ? 'dead' : 'ready',
      busy: session.busy,
      ...(dead ? { deadReason: session.death ?? { status: 'crashed', message: 'the sandbox died' } } : {}),
      limits: session.limits,
      calls: session.calls,
      createdAt: new Date(session.createdAt).toISOString(),
      lastUsedAt: new Date(session.lastUsedAt).toISOString(),
      expiresAt: new Date(sessions.expiresAt(session)).toISOString(),
    };
  };

  const errors = { '4xx': schemas.ErrorResponse, '5xx': schemas.ErrorResponse };
  const common = { tags: ['sessions'], security: [{ bearerAuth: [] }] };

  app.post(
    '/v1/sessions',
    {
      schema: {
        ...common,
        operationId: 'createSession',
        summary: 'Create a session (a sandbox whose globals persist between calls)',
        description:
          'The body may be omitted (or empty). 429 TOO_MANY_SESSIONS when the API key is at its own session cap ' +
          '(--max-sessions-per-key) or the server at its cap (--max-sessions).',
        [OPTIONAL_BODY]: true,
        body: schemas.SessionCreateRequest,
        response: { 201: schemas.Session, ...errors },
      },
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const language = request.body.language ?? config.defaultLanguage;
      const limits = resolveLimits(request.body, config);
      await sandboxes.guest(language);
      sessions.reserve(request.owner);
      let session: Session;
      try {
        const sandbox = await limiter.run(() => sandboxes.open(language, limits));
        session = sessions.add(request.owner, language, limits, sandbox);
      } catch (error) {
        sessions.release(request.owner);
        throw error;
      }
      metrics.sessionsCreated.inc({ language });
      request.log.info({ sessionId: session.id, language }, 'session created');
      return reply.code(201).send(view(session));
    },
  );

  app.get(
    '/v1/sessions/:id',
    {
      schema: {
        ...common,
        operationId: 'getSession',
        summary: 'Describe a session: state (ready or dead, with the reason), limits, expiry',
        params: schemas.SessionParams,
        response: { 200: schemas.Session, ...errors },
      },
    },
    async (request) => view(sessions.get(request.params.id, request.owner)),
  );

  app.delete(
    '/v1/sessions/:id',
    {
      schema: {
        ...common,
        operationId: 'deleteSession',
        summary: 'Close a session and its sandbox',
        params: schemas.SessionParams,
        response: { 204: { type: 'null', description: 'Closed.' }, ...errors },
      },
    },
    async (request, reply) => {
      const session = sessions.get(request.params.id, request.owner);
      await sessions.delete(session);
      request.log.info({ sessionId: session.id }, 'session deleted');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/sessions/:id/reset',
    {
      schema: {
        ...common,
        operationId: 'resetSession',
        summary: "Replace the session's guest with a fresh one (globals lost, limits kept); revives a dead session",
        params: schemas.SessionParams,
        response: { 200: schemas.Session, ...errors },
      },
    },
    async (request) => {
      const session = sessions.get(request.params.id, request.owner);
      await sessions.use(session, () => limiter.run(() => session.sandbox.reset()));
      delete session.death;
      request.log.info({ sessionId: session.id }, 'session reset');
      return view(session);
    },
  );

  for (const kind of ['exec', 'eval'] as const) {
    const field = kind === 'exec' ? 'statements' : 'expression';
    app.post(
      `/v1/sessions/:id/${kind}`,
      {
        schema: {
          ...common,
          operationId: kind === 'exec' ? 'execInSession' : 'evalInSession',
          summary:
            kind === 'exec'
              ? 'Run statements in the session (globals they define persist)'
              : 'Evaluate an expression in the session and return its value',
          description:
            'Guest errors, timeouts and memory errors are results (200, see status); after a timeout, memory ' +
            'trap or crash the session is dead (409 SESSION_DEAD on later calls) until reset. One call at a time ' +
            'per session: a concurrent call gets 409 SESSION_BUSY.',
          params: schemas.SessionParams,
          body: kind === 'exec' ? schemas.ExecRequest : schemas.EvalRequest,
          response: { 200: schemas.SessionCallResponse, ...errors },
        },
      },
      async (request, reply) => {
        const session = sessions.get(request.params.id, request.owner);
        const code = (request.body as Record<string, string>)[field]!;
        checkCode(config, code, field);
        if (session.death || session.sandbox.state === 'dead') {
          const reason = session.death?.message ?? 'the sandbox died';
          throw new ApiError(
            409,
            'SESSION_DEAD',
            `the session is dead (${session.death?.status ?? 'crashed'}: ${reason}); POST /v1/sessions/${session.id}/reset to revive it`,
            {},
            { deadReason: session.death },
          );
        }
        const started = performance.now();
        const result = capResult(
          await sessions.use(session, () => limiter.run(() => call(session.sandbox, kind, code))),
          config.maxResultBytes,
        );
        metrics.observeRun(kind, session.language, result.status, (performance.now() - started) / 1000);
        session.calls += 1;
        if (!sessions.has(session)) {
          throw new ApiError(409, 'SESSION_CLOSED', 'the session was deleted or expired while the call ran');
        }
        if (result.sandbox === 'dead') session.death = { status: result.status, message: result.error?.message ?? '' };
        request.log.info(
          { sessionId: session.id, kind, status: result.status, durationMs: Math.round(result.durationMs) },
          `session ${kind}`,
        );
        return sendResult(reply, { ...result, session: view(session) });
      },
    );
  }
}

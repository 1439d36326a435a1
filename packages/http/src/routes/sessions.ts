/**
 * Sessions: a sandbox that keeps its globals between calls, owned by the API key that created
 * it, closed after an idle TTL. A timeout, memory trap or crash leaves it dead until reset.
 */
import type { App, AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { decodeRequestFiles, writeRequestFiles } from '../files.js';
import { checkCode, checkStdin, resolveLimits } from '../limits.js';
import { OPTIONAL_BODY } from '../openapi.js';
import { LANGUAGES, restoreSandbox } from '@component-sandbox/host';
import { call, capResult } from '../outcome.js';
import { resultBody, sendResult } from '../response.js';
import { openStream, wantsStream } from '../stream.js';
import type { SessionView } from '../schemas.js';
import { sessionDead, type Reservation, type Session } from '../store/session-store.js';
import type { RunOptions, Sandbox } from '@component-sandbox/host';

export function sessionRoutes(app: App, ctx: AppContext): void {
  const { config, schemas, sandboxes, sessions, slot, metrics } = ctx;
  /** The calls running in this process, by session, for cancels. */
  const running = new Map<string, AbortController>();
  sessions.onSignal((sessionId, kind) => {
    if (kind === 'cancel') running.get(sessionId)?.abort();
  });

  const view = (session: Session): SessionView => {
    const dead = session.death !== undefined;
    return {
      id: session.id,
      language: session.language,
      state: dead ? 'dead' : 'ready',
      busy: session.busy,
      parked: sessions.parkedOf(session),
      ...(session.death ? { deadReason: session.death } : {}),
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
          'The body may be omitted (or empty); `files` are written into /tmp before the first call. ' +
          '429 TOO_MANY_SESSIONS when the API key is at its own session cap ' +
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
      const files = decodeRequestFiles(request.body.files);
      await sandboxes.guest(language);
      const place = await sessions.reserve(request.owner);
      let session: Session;
      try {
        const sandbox = await slot(request.owner, () => sandboxes.open(language, limits));
        // A file that cannot be written leaves nothing behind: no sandbox, no session.
        await writeRequestFiles(sandbox, files, limits).catch(async (error: unknown) => {
          await sandboxes.close(sandbox);
          throw error;
        });
        session = await sessions.add(place, language, limits, sandbox);
      } catch (error) {
        await sessions.release(place);
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
    async (request) => view(await sessions.get(request.params.id, request.owner)),
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
      const session = await sessions.get(request.params.id, request.owner);
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
      const found = await sessions.get(request.params.id, request.owner);
      const { session } = await sessions.use(found, (sandbox) => sandbox.reset(), { change: () => ({ death: null }) });
      request.log.info({ sessionId: session.id }, 'session reset');
      return view(session);
    },
  );

  app.post(
    '/v1/sessions/:id/cancel',
    {
      schema: {
        ...common,
        operationId: 'cancelSession',
        summary: "Stop the session's running call (its response reports status cancelled)",
        description:
          'Stops the call the way its time limit would: a soft stop first (a Python session keeps its globals), ' +
          'then a hard one (the session is dead until reset). 204 whether or not a call was running: with none ' +
          'it does nothing, so a client need not race the call it wants to stop.',
        params: schemas.SessionParams,
        response: { 204: { type: 'null', description: 'Cancelled, or nothing was running.' }, ...errors },
      },
    },
    async (request, reply) => {
      const session = await sessions.get(request.params.id, request.owner);
      // The signal reaches the replica running the call (with a store, through Redis).
      if (await sessions.signal(session, 'cancel')) {
        request.log.info({ sessionId: session.id }, 'session call cancelled');
      }
      return reply.code(204).send(null);
    },
  );

  /** Registers a sandbox made from another as a new session of `owner`. */
  const adoptSession = async (
    owner: string,
    language: Session['language'],
    limits: Session['limits'],
    make: () => Promise<Sandbox>,
  ) => {
    const place: Reservation = await sessions.reserve(owner);
    try {
      const sandbox = await sandboxes.adopt(make);
      return await sessions.add(place, language, limits, sandbox);
    } catch (error) {
      await sessions.release(place);
      throw error;
    }
  };

  app.post(
    '/v1/sessions/:id/fork',
    {
      schema: {
        ...common,
        operationId: 'forkSession',
        summary: "A new session starting from this one's globals (taken between calls); the two then diverge",
        params: schemas.SessionParams,
        response: { 201: schemas.Session, ...errors },
      },
    },
    async (request, reply) => {
      const parent = await sessions.get(request.params.id, request.owner);
      const session = await adoptSession(request.owner, parent.language, parent.limits, async () => {
        const { result } = await sessions.use(parent, (sandbox) => sandbox.fork());
        return result;
      });
      metrics.sessionsCreated.inc({ language: session.language });
      request.log.info({ sessionId: session.id, parentId: parent.id }, 'session forked');
      return reply.code(201).send(view(session));
    },
  );

  app.get(
    '/v1/sessions/:id/snapshot',
    {
      schema: {
        ...common,
        operationId: 'snapshotSession',
        summary: "The session's state as bytes (application/octet-stream), for POST /v1/sessions/restore",
        params: schemas.SessionParams,
        response: {
          200: {
            description: 'The snapshot.',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const session = await sessions.get(request.params.id, request.owner);
      const { result: bytes } = await sessions.use(session, (sandbox) => sandbox.snapshot());
      return reply
        .type('application/octet-stream')
        .header('x-session-language', session.language)
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as string); // binary: the schema's `format: binary`;
    },
  );

  app.post(
    '/v1/sessions/restore',
    {
      // Memory and /tmp travel in a snapshot.
      bodyLimit: Math.max(...config.memoryLimitsBytes) + config.tmpLimitBytes + 1024 * 1024,
      schema: {
        ...common,
        operationId: 'restoreSession',
        summary: 'A new session from a snapshot (GET /v1/sessions/{id}/snapshot) of the same guest artifact',
        description:
          'Body: the snapshot bytes, Content-Type application/octet-stream. Query: language and limits as for ' +
          "POST /v1/sessions. 400 INVALID_SNAPSHOT for bytes that are not a snapshot of this server's guest.",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            language: { type: 'string', enum: [...LANGUAGES] },
            timeoutMs: { type: 'integer', minimum: 1 },
            memoryLimitBytes: { type: 'integer', minimum: 1 },
            tmpLimitBytes: { type: 'integer', minimum: 1 },
          },
        },
        response: { 201: schemas.Session, ...errors },
      },
      // A query is text: limits written as whole numbers become numbers (the server never coerces).
      preValidation: async (request) => {
        const query = request.query as Record<string, unknown>;
        for (const [key, value] of Object.entries(query)) {
          if (key !== 'language' && typeof value === 'string' && /^\d{1,15}$/.test(value)) query[key] = Number(value);
        }
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) {
        throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the snapshot as application/octet-stream');
      }
      const query = request.query as {
        language?: Session['language'];
        timeoutMs?: number;
        memoryLimitBytes?: number;
        tmpLimitBytes?: number;
      };
      const language = query.language ?? config.defaultLanguage;
      const limits = resolveLimits(query, config);
      const options = await sandboxes.optionsFor(language, limits);
      const body = request.body;
      const session = await adoptSession(request.owner, language, limits, () =>
        slot(request.owner, () => restoreSandbox(new Uint8Array(body), options)),
      );
      metrics.sessionsCreated.inc({ language });
      request.log.info({ sessionId: session.id, language }, 'session restored');
      return reply.code(201).send(view(session));
    },
  );

  const calls = {
    exec: {
      field: 'statements',
      operationId: 'execInSession',
      summary: 'Run statements in the session (globals they define persist)',
      body: schemas.ExecRequest,
    },
    eval: {
      field: 'expression',
      operationId: 'evalInSession',
      summary: 'Evaluate an expression in the session and return its value',
      body: schemas.EvalRequest,
    },
    run: {
      field: 'code',
      operationId: 'runCellInSession',
      summary: "Run a cell in the session: its statements, then its last expression's value, if it has one",
      body: schemas.CellRequest,
    },
  } as const;
  for (const [kind, { field, operationId, summary, body }] of Object.entries(calls) as Array<
    [keyof typeof calls, (typeof calls)[keyof typeof calls]]
  >) {
    app.post(
      `/v1/sessions/:id/${kind}`,
      {
        schema: {
          ...common,
          operationId,
          summary,
          description:
            'Guest errors, timeouts and memory errors are results (200, see status); after a timeout, memory ' +
            'trap or crash the session is dead (409 SESSION_DEAD on later calls) until reset. One call at a time ' +
            'per session: a concurrent call gets 409 SESSION_BUSY. With `Accept: application/x-ndjson` the answer ' +
            'streams: one JSON object a line, `{"type":"stdout"|"stderr","data":...}` as the guest writes, and ' +
            'last `{"type":"result",...}` (the usual response) or `{"type":"error","error":{...}}`. ' +
            'POST /v1/sessions/{id}/cancel stops the call (status cancelled).',
          params: schemas.SessionParams,
          body,
          response: { 200: schemas.SessionCallResponse, ...errors },
        },
      },
      async (request, reply) => {
        const found = await sessions.get(request.params.id, request.owner);
        const code = (request.body as Record<string, string>)[field]!;
        const stdin = (request.body as { stdin?: string }).stdin;
        checkCode(config, code, field);
        checkStdin(config, stdin);
        if (found.death) throw sessionDead(found.id, found.death);
        const started = performance.now();
        const streaming = wantsStream(request.headers.accept);
        const abort = new AbortController();
        const stream = streaming ? openStream(request, reply, abort) : undefined;
        const options: RunOptions = {
          signal: abort.signal,
          ...(stdin === undefined ? {} : { stdin }),
          ...(stream
            ? {
                onStdout: (data: string) => stream.line({ type: 'stdout', data }),
                onStderr: (data: string) => stream.line({ type: 'stderr', data }),
              }
            : {}),
        };
        let result;
        let session: Session;
        try {
          const used = await sessions.use(
            found,
            async (sandbox) => {
              // A cancel for this session, from whichever replica it reached, stops this call.
              running.set(found.id, abort);
              try {
                return await call(sandbox, kind, code, options);
              } finally {
                running.delete(found.id);
              }
            },
            {
              alive: true,
              change: (outcome) => ({
                call: true,
                ...(outcome.sandbox === 'dead'
                  ? { death: { status: outcome.status, message: outcome.error?.message ?? '' } }
                  : {}),
              }),
            },
          );
          session = used.session;
          result = capResult(used.result, config.maxResultBytes);
          metrics.observeRun(kind, session.language, result.status, (performance.now() - started) / 1000);
        } catch (error) {
          if (!stream) throw error;
          // The headers are gone: the error is the stream's last line.
          stream.error(error);
          return reply;
        }
        request.log.info(
          { sessionId: session.id, kind, status: result.status, durationMs: Math.round(result.durationMs) },
          `session ${kind}`,
        );
        if (stream) {
          stream.end(`{"type":"result",${resultBody({ ...result, session: view(session) }).slice(1)}`);
          return reply;
        }
        return sendResult(reply, { ...result, session: view(session) });
      },
    );
  }
}

/**
 * A session's /tmp: list it, fetch a file, put a file. Owned by the API key like every session
 * route; one operation at a time with the session's calls (409 SESSION_BUSY while a call runs);
 * refused on a dead session (409 SESSION_DEAD: its guest is gone, and reset starts an empty
 * /tmp). Paths are the host's rules: below /tmp, never `..`.
 */
import type { App, AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { fileApiError } from '../files.js';
import { BINARY_BODY } from '../openapi.js';
import type { Sandbox } from '@component-sandbox/host';
import { posix } from 'node:path';
import { SCRATCH_GUEST_PATH } from '@component-sandbox/host';

const OCTET_STREAM = 'application/octet-stream';

export function fileRoutes(app: App, ctx: AppContext): void {
  const { config, schemas, sessions } = ctx;
  const errors = { '4xx': schemas.ErrorResponse, '5xx': schemas.ErrorResponse };
  const common = { tags: ['sessions'], security: [{ bearerAuth: [] }] };

  /**
   * Runs a file operation on the owner's live session, its failures as API errors. `writes`: it
   * changes the session (saved to the store like a call).
   */
  const withFiles = async <T>(
    id: string,
    owner: string,
    work: (sandbox: Sandbox) => Promise<T>,
    writes = false,
  ): Promise<T> => {
    const session = await sessions.get(id, owner);
    if (session.death) {
      throw new ApiError(
        409,
        'SESSION_DEAD',
        `the session is dead (${session.death.status}: ${session.death.message}); ` +
          `its files went with its guest. POST /v1/sessions/${session.id}/reset to revive it (with an empty /tmp)`,
        {},
        { deadReason: session.death },
      );
    }
    try {
      const used = await sessions.use(session, work, {
        alive: true,
        slot: false,
        ...(writes ? { change: () => ({}) } : {}),
      });
      return used.result;
    } catch (error) {
      throw fileApiError(error, session.limits);
    }
  };

  /** The wildcard's path below /tmp, as the host takes it (it refuses `..`); an empty one names no file. */
  const filePath = (path: string) => {
    if (path === '') {
      throw new ApiError(400, 'INVALID_FILE_PATH', 'name a file below /tmp, e.g. /v1/sessions/{id}/files/out.csv');
    }
    return `${SCRATCH_GUEST_PATH}/${path}`;
  };
  /** A path the host accepted, as answers show it: absolute, normalised. */
  const shown = (path: string) => posix.normalize(path.startsWith('/') ? path : `${SCRATCH_GUEST_PATH}/${path}`);

  app.get(
    '/v1/sessions/:id/files',
    {
      schema: {
        ...common,
        operationId: 'listSessionFiles',
        summary: "List a directory of the session's /tmp (one level; default /tmp itself)",
        description:
          'Python sessions; a JavaScript session has no /tmp (400 FILES_UNSUPPORTED). 404 FILE_NOT_FOUND for a ' +
          'directory that does not exist, 409 FILE_CONFLICT for a path that is a file.',
        params: schemas.SessionParams,
        querystring: schemas.FileListQuery,
        response: { 200: schemas.FileList, ...errors },
      },
    },
    async (request) => {
      const path = request.query.path ?? SCRATCH_GUEST_PATH;
      const entries = await withFiles(request.params.id, request.owner, (sandbox) => sandbox.listFiles(path));
      return { path: shown(path).replace(/(?<=.)\/$/, ''), entries };
    },
  );

  app.get(
    '/v1/sessions/:id/files/*',
    {
      schema: {
        ...common,
        operationId: 'getSessionFile',
        summary: "A file from the session's /tmp, as bytes (path relative to /tmp)",
        description: '404 FILE_NOT_FOUND when there is no such file; 409 FILE_CONFLICT when the path is a directory.',
        params: schemas.FileParams,
        response: {
          200: {
            description: 'The file.',
            content: { [OCTET_STREAM]: { schema: { type: 'string', format: 'binary' } } },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const path = filePath(request.params['*']);
      const bytes = await withFiles(request.params.id, request.owner, (sandbox) => sandbox.readFile(path));
      return reply
        .type(OCTET_STREAM)
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as string); // binary: the schema's `format: binary`
    },
  );

  app.put(
    '/v1/sessions/:id/files/*',
    {
      // A file can be no larger than the largest /tmp; the session's own quota decides the rest.
      bodyLimit: config.tmpLimitBytes,
      config: { bodyType: OCTET_STREAM },
      schema: {
        ...common,
        operationId: 'putSessionFile',
        summary: "Write a file into the session's /tmp (path relative to /tmp; parent directories are made)",
        description:
          'Body: the bytes, Content-Type application/octet-stream; an existing file is replaced. 413 ' +
          "TMP_QUOTA_EXCEEDED when it would not fit in the session's tmpLimitBytes (nothing is changed), 413 " +
          'BODY_TOO_LARGE above --tmp-limit.',
        [BINARY_BODY]: true,
        params: schemas.FileParams,
        response: { 200: schemas.FileWritten, ...errors },
      },
    },
    async (request) => {
      const path = filePath(request.params['*']);
      const body = request.body;
      if (!Buffer.isBuffer(body)) {
        throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the file as ${OCTET_STREAM}`);
      }
      await withFiles(request.params.id, request.owner, (sandbox) => sandbox.writeFile(path, body), true);
      request.log.info({ sessionId: request.params.id, bytes: body.length }, 'session file written');
      return { path: shown(path), size: body.length };
    },
  );
}

/**
 * Every error answer has one shape, `{ error: { code, message } }`. This module names the codes,
 * turns framework errors (bad JSON, schema failures, body limits) into them, and installs the
 * error and not-found handlers.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type ErrorCode =
  | 'MALFORMED_JSON'
  | 'MISSING_BODY'
  | 'MISSING_FIELD'
  | 'UNKNOWN_FIELD'
  | 'INVALID_TYPE'
  | 'INVALID_REQUEST'
  | 'UNKNOWN_LANGUAGE'
  | 'CODE_TOO_LONG'
  | 'INPUT_TOO_LONG'
  | 'CELLS_UNSUPPORTED'
  | 'LIMIT_EXCEEDED'
  | 'INVALID_LIMIT'
  | 'MISSING_API_KEY'
  | 'INVALID_API_KEY'
  | 'NOT_FOUND'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_BUSY'
  | 'SESSION_DEAD'
  | 'SESSION_CLOSED'
  | 'SESSION_MOVED'
  | 'SESSION_INCOMPATIBLE'
  | 'RATE_LIMITED'
  | 'STORE_UNAVAILABLE'
  | 'INVALID_SNAPSHOT'
  | 'INVALID_FILE_PATH'
  | 'INVALID_BASE64'
  | 'FILE_NOT_FOUND'
  | 'FILE_CONFLICT'
  | 'FILES_UNSUPPORTED'
  | 'TMP_QUOTA_EXCEEDED'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'TOO_MANY_RUNS'
  | 'TOO_MANY_SESSIONS'
  | 'LANGUAGE_UNAVAILABLE'
  | 'NOT_READY'
  | 'SHUTTING_DOWN'
  | 'INTERNAL_ERROR';

export interface ErrorBody {
  error: { code: ErrorCode | string; message: string; details?: unknown };
}

/** An error with its HTTP answer: status, code, message and any headers (e.g. Retry-After). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The field a client wrote a file under (`files` of run and session requests), as details name it. */
export const fileField = (path: string) => `files.${path}`;

export function invalidBase64(path: string): ApiError {
  return new ApiError(
    400,
    'INVALID_BASE64',
    `files[${JSON.stringify(path)}] is not base64 (RFC 4648: A-Z a-z 0-9 + /, with = padding, no line breaks)`,
    {},
    { field: fileField(path) },
  );
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldName(path: string, part: string): string {
  const field = path.replace(/^\//, '').replaceAll('/', '.');
  return field ? `${part}.${field}` : part;
}

/** One schema failure, as the most specific code we have for it. */
function fromValidation(error: FastifyError, request: FastifyRequest): ApiError {
  const issue = (error.validation?.[0] ?? { keyword: '', instancePath: '', params: {} }) as AjvError;
  const part = error.validationContext ?? 'body';
  const where = fieldName(issue.instancePath, part);
  switch (issue.keyword) {
    case 'additionalProperties': {
      const field = String(issue.params.additionalProperty);
      return new ApiError(400, 'UNKNOWN_FIELD', `unknown field "${field}" in ${where}`, {}, { field });
    }
    case 'required': {
      const field = String(issue.params.missingProperty);
      return new ApiError(400, 'MISSING_FIELD', `${where} must have the field "${field}"`, {}, { field });
    }
    case 'enum':
      if (issue.instancePath === '/language') {
        const body = request.body as { language?: unknown } | undefined;
        const allowed = (issue.params.allowedValues as unknown[] | undefined)?.join(', ') ?? '';
        return new ApiError(
          400,
          'UNKNOWN_LANGUAGE',
          `unknown language ${JSON.stringify(body?.language)}; known languages: ${allowed}`,
        );
      }
      break;
    case 'format': {
      // `files` values: base64 (OpenAPI's `format: byte`), named by their path in `files`.
      const [field, ...name] = issue.instancePath.split('/').slice(1);
      if (issue.params.format === 'byte' && field === 'files') {
        return invalidBase64(name.join('/').replaceAll('~1', '/').replaceAll('~0', '~'));
      }
      break;
    }
    case 'type':
      if (part === 'body' && issue.instancePath === '' && (request.body === undefined || request.body === null)) {
        return new ApiError(400, 'MISSING_BODY', 'this request needs a JSON body (Content-Type: application/json)');
      }
      return new ApiError(
        400,
        'INVALID_TYPE',
        `${where} ${issue.message ?? 'has the wrong type'}`,
        {},
        {
          field: where,
          expected: issue.params.type,
        },
      );
  }
  return new ApiError(400, 'INVALID_REQUEST', `${where} ${issue.message ?? 'is invalid'}`, {}, { field: where });
}

/** The media type a route takes: JSON, unless its config says otherwise (`{ bodyType }`). */
export function bodyType(request: FastifyRequest): string {
  const config = request.routeOptions.config as { bodyType?: string } | undefined;
  return config?.bodyType ?? 'application/json';
}

/** Any thrown error as the ApiError the client sees. */
export function toApiError(error: FastifyError | ApiError | Error, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return fromValidation(fastifyError, request);
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'MALFORMED_JSON', 'the body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'MISSING_BODY', 'the body is empty; send a JSON object');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'BODY_TOO_LARGE', 'the body is larger than this server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the body as ${bodyType(request)}`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(
        414,
        'INVALID_REQUEST',
        'a path parameter is longer than this server accepts (100 characters)',
      );
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, 'INVALID_REQUEST', 'the URL is not valid');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'INVALID_REQUEST', 'the Content-Length does not match the body');
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ApiError(fastifyError.statusCode, 'INVALID_REQUEST', fastifyError.message);
  }
  return new ApiError(500, 'INTERNAL_ERROR', 'internal error; the request id in the logs has the details');
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details;
  return reply.code(error.statusCode).headers(error.headers).send(body);
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const apiError = toApiError(error, request);
    if (apiError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: apiError.code }, apiError.message);
    return sendError(reply, apiError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`),
    ),
  );
}

/**
 * The streaming form of a session call (`Accept: application/x-ndjson`): one JSON object a
 * line, output as the guest writes it, and the call's result (or an error) as the last line.
 * The status line (200) goes before the call runs, so a failure after it is a line too.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toApiError, type ErrorBody } from './errors.js';

export const NDJSON = 'application/x-ndjson';

/** True when the client asked for the streaming form. */
export function wantsStream(accept: string | undefined): boolean {
  return accept !== undefined && accept.toLowerCase().includes(NDJSON);
}

export interface CallStream {
  /** Writes one line (an object). */
  line(value: object): void;
  /** Writes the last line (JSON text) and ends the answer. */
  end(json: string): void;
  /** Writes an error as the last line and ends the answer. */
  error(error: unknown): void;
}

/**
 * Takes the reply over from Fastify and sends the headers. A client that goes away before the
 * result stops the call (through `abort`).
 */
export function openStream(request: FastifyRequest, reply: FastifyReply, abort: AbortController): CallStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': `${NDJSON}; charset=utf-8`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': String(request.id),
  });
  raw.flushHeaders();
  let ended = false;
  raw.on('close', () => {
    if (!ended) abort.abort();
  });
  const write = (text: string) => {
    if (!raw.destroyed) raw.write(`${text}\n`);
  };
  return {
    line: (value) => write(JSON.stringify(value)),
    end: (json) => {
      ended = true;
      if (!raw.destroyed) raw.end(`${json}\n`);
    },
    error: (error) => {
      const apiError = toApiError(error as Error, request);
      if (apiError.statusCode >= 500) request.log.error({ err: error }, 'streamed call failed');
      const body: ErrorBody = { error: { code: apiError.code, message: apiError.message } };
      if (apiError.details !== undefined) body.error.details = apiError.details;
      ended = true;
      if (!raw.destroyed) raw.end(`${JSON.stringify({ type: 'error', ...body })}\n`);
    },
  };
}

/**
 * Call results as response bodies. The guest's value arrives as JSON text that the host already
 * checked; it goes into the body as that text, never decoded and re-encoded, because encoding a
 * deeply nested value recurses once per level and overflows the stack (the result would be lost
 * as a 500). The documented response schema is unchanged: `value` is that JSON.
 */
import type { FastifyReply } from 'fastify';

export interface WithValue {
  value?: unknown;
  json?: string;
}

/** `result` as JSON text, its `value` spliced in from `json`. */
export function resultBody<T extends WithValue>(result: T): string {
  const { value: _decoded, json, ...rest } = result;
  if (json === undefined) return JSON.stringify(rest);
  const head = JSON.stringify({ ...rest, json });
  return `${head.slice(0, -1)},"value":${json}}`;
}

export function sendResult<T extends WithValue>(reply: FastifyReply, result: T, statusCode = 200): FastifyReply {
  return reply.code(statusCode).type('application/json; charset=utf-8').send(resultBody(result));
}

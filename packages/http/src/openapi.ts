/**
 * The OpenAPI document: @fastify/swagger builds it from the route schemas, which stay inline so
 * that fastify validates and TypeBox types them. This module then gives clients named types:
 * every schema with a `title` moves to `components.schemas` under that title and is referred to
 * with `$ref`, and the few things swagger cannot express from a route are set here.
 */
import type { SwaggerOptions } from '@fastify/swagger';
import type { FastifyRequest } from 'fastify';

type Json = Record<string, unknown>;

/** Marks a route whose JSON body may be omitted (swagger always marks a body required). */
export const OPTIONAL_BODY = 'x-optional-body';
/** Marks a route whose body is raw bytes (application/octet-stream), which has no JSON schema to validate. */
export const BINARY_BODY = 'x-binary-body';

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Replaces every titled schema under `node` with a `$ref` to `components.schemas[title]`,
 * innermost first, so named schemas refer to each other too. Two different schemas with one
 * title would make the document lie, so that throws.
 */
export function hoistNamedSchemas(document: Json): Json {
  const named: Record<string, Json> = {};
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (!isObject(node)) return node;
    const copy: Json = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, visit(value)]));
    const title = copy.title;
    if (typeof title !== 'string' || !('type' in copy || 'enum' in copy)) return copy;
    const { title: _title, ...schema } = copy;
    const known = named[title];
    if (known && JSON.stringify(known) !== JSON.stringify(schema)) {
      throw new Error(`two different schemas are both named ${title}`);
    }
    named[title] = schema;
    return { $ref: `#/components/schemas/${title}` };
  };
  const paths = visit(document.paths);
  const components = isObject(document.components) ? document.components : {};
  return { ...document, paths, components: { ...components, schemas: sortKeys(named) } };
}

const sortKeys = (value: Json): Json =>
  Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));

/**
 * Request bodies marked {@link OPTIONAL_BODY} become optional and those marked {@link BINARY_BODY}
 * are documented as bytes; the markers go.
 */
function markedBodies(document: Json): Json {
  for (const item of Object.values((document.paths ?? {}) as Record<string, Json>)) {
    for (const operation of Object.values(item)) {
      if (!isObject(operation)) continue;
      if (OPTIONAL_BODY in operation) {
        delete operation[OPTIONAL_BODY];
        if (isObject(operation.requestBody)) operation.requestBody.required = false;
      }
      if (BINARY_BODY in operation) {
        delete operation[BINARY_BODY];
        operation.requestBody = {
          required: true,
          content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        };
      }
    }
  }
  return document;
}

/**
 * Fastify's wildcard (`/files/*`, which swagger writes `{*}`) as the parameter `{path}`: a path
 * below /tmp, whose slashes may be sent as they are or as %2F.
 */
function wildcardPaths(document: Json): Json {
  const paths = (document.paths ?? {}) as Record<string, Json>;
  document.paths = Object.fromEntries(
    Object.entries(paths).map(([path, item]) => {
      if (!path.endsWith('/{*}')) return [path, item];
      for (const operation of Object.values(item)) {
        if (!isObject(operation) || !Array.isArray(operation.parameters)) continue;
        for (const parameter of operation.parameters as Json[]) {
          if (parameter.in === 'path' && parameter.name === '*') parameter.name = 'path';
        }
      }
      return [path.replace(/\{\*\}$/, '{path}'), item];
    }),
  );
  return document;
}

export function swaggerOptions(version: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'component-sandbox HTTP API',
        description:
          'Run untrusted Python and JavaScript snippets in WebAssembly sandboxes with time and memory limits. ' +
          'Every 4xx/5xx answer is an `Error`: `{ "error": { "code", "message" } }`.',
        version,
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key of this server.' } },
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'runs', description: 'One-shot runs in a fresh sandbox' },
        { name: 'sessions', description: 'Sandboxes whose globals persist between calls' },
        { name: 'system', description: 'Languages, health, metrics' },
      ],
    },
    transformObject: (documentObject) => {
      const document = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
      return hoistNamedSchemas(wildcardPaths(markedBodies(structuredClone(document) as Json))) as typeof document;
    },
  };
}

/** The document as served: with this server's own address, as the client reached it. */
export function servedDocument(document: Json, request: FastifyRequest): Json {
  return { ...document, servers: [{ url: `${request.protocol}://${request.host}`, description: 'This server' }] };
}

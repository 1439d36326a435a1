/**
 * A client written only against the types generated from the served OpenAPI document
 * (openapi-typescript) and called through openapi-fetch: if the document lacks a schema or an
 * operation, this file stops type-checking.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/schema.js';

type Schemas = components['schemas'];

export interface RoundTrip {
  created: Schemas['Session'];
  exec: Schemas['CallResult'];
  eval: Schemas['CallResult'];
  deleteStatus: number;
  afterDelete: Schemas['Error'] | undefined;
}

export async function sessionRoundTrip(
  baseUrl: string,
  language: Schemas['Language'],
  statements: string,
  expression: string,
): Promise<RoundTrip> {
  const client = createClient<paths>({ baseUrl });
  const created = await client.POST('/v1/sessions', { body: { language } });
  if (!created.data) throw new Error(`createSession failed: ${created.error?.error.code}`);
  const params = { path: { id: created.data.id } };
  const exec = await client.POST('/v1/sessions/{id}/exec', { params, body: { statements } });
  if (!exec.data) throw new Error(`execInSession failed: ${exec.error?.error.code}`);
  const evaluated = await client.POST('/v1/sessions/{id}/eval', { params, body: { expression } });
  if (!evaluated.data) throw new Error(`evalInSession failed: ${evaluated.error?.error.code}`);
  const deleted = await client.DELETE('/v1/sessions/{id}', { params });
  const after = await client.GET('/v1/sessions/{id}', { params });
  return {
    created: created.data,
    exec: exec.data,
    eval: evaluated.data,
    deleteStatus: deleted.response.status,
    afterDelete: after.error,
  };
}

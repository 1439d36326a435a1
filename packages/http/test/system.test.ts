/** Languages, health, readiness, metrics, OpenAPI, request ids. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers.js';

describe('system endpoints', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultLanguage: 'javascript', processMetrics: true, warmup: true });
  });
  afterAll(() => server.close());

  it('GET /v1/languages lists both languages with their availability', async () => {
    const { status, body } = await server.call('GET', '/v1/languages');
    expect(status).toBe(200);
    expect(body.default).toBe('javascript');
    expect(body.languages.map((l: { name: string }) => l.name)).toEqual(['python', 'javascript']);
    expect(body.languages[1]).toEqual({
      name: 'javascript',
      package: '@component-sandbox/guest-javascript',
      available: true,
    });
    const python = body.languages[0];
    expect(python.package).toBe('@component-sandbox/guest-python');
    if (!python.available) expect(python.reason).toMatch(/python guest/);
  });

  it('GET /healthz and /readyz', async () => {
    expect((await server.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await server.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.languages).toContain('javascript');
  });

  it('GET /readyz is 503 NOT_READY when no language is available', async () => {
    const none = await startServer({ guestDirs: { python: '/nonexistent', javascript: '/nonexistent' } });
    try {
      const reply = await none.call('GET', '/readyz');
      expect(reply.status).toBe(503);
      expect(reply.body.error.code).toBe('NOT_READY');
    } finally {
      await none.close();
    }
  });

  it('GET /metrics exposes runs by status, durations, sessions, sandboxes and the pool', async () => {
    await server.call('POST', '/v1/run', { body: { expression: '1' } });
    await server.call('POST', '/v1/run', { body: { expression: 'nope' } });
    const session = await server.call('POST', '/v1/sessions', { body: {} });
    await server.call('POST', `/v1/sessions/${session.body.id}/eval`, { body: { expression: '1' } });
    const reply = await server.call('GET', '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = reply.text;
    expect(text).toMatch(/^sandbox_http_runs_total\{kind="run",language="javascript",status="ok"\} 1$/m);
    expect(text).toMatch(/^sandbox_http_runs_total\{kind="run",language="javascript",status="eval_error"\} 1$/m);
    expect(text).toMatch(/^sandbox_http_runs_total\{kind="eval",language="javascript",status="ok"\} 1$/m);
    expect(text).toMatch(
      /^sandbox_http_run_duration_seconds_bucket\{le="0.1",kind="run",language="javascript",status="ok"\} \d+$/m,
    );
    expect(text).toMatch(/^sandbox_http_sessions_live 1$/m);
    expect(text).toMatch(/^sandbox_http_sessions_created_total\{language="javascript"\} 1$/m);
    expect(text).toMatch(/^sandbox_http_sandboxes_alive 1$/m);
    expect(text).toMatch(/^sandbox_http_pool_size 2$/m);
    expect(text).toMatch(/^sandbox_http_pool_idle\{language="javascript"\} \d$/m);
    expect(text).toMatch(/^sandbox_http_runs_in_flight 0$/m);
    expect(text).toMatch(/^sandbox_http_runs_queued 0$/m);
    expect(text).toMatch(/^sandbox_http_requests_total\{method="POST",route="\/v1\/run",status_code="200"\} 2$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('GET /openapi.json is an OpenAPI 3 document of every endpoint', async () => {
    const { status, body } = await server.call('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths).sort()).toEqual(
      [
        '/healthz',
        '/metrics',
        '/readyz',
        '/v1/functions',
        '/v1/languages',
        '/v1/run',
        '/v1/sessions',
        '/v1/sessions/restore',
        '/v1/sessions/{id}',
        '/v1/sessions/{id}/eval',
        '/v1/sessions/{id}/exec',
        '/v1/sessions/{id}/files',
        '/v1/sessions/{id}/files/{path}',
        '/v1/sessions/{id}/cancel',
        '/v1/sessions/{id}/fork',
        '/v1/sessions/{id}/reset',
        '/v1/sessions/{id}/run',
        '/v1/sessions/{id}/snapshot',
      ].sort(),
    );
    // A file's path is one parameter (slashes and all); its bytes travel as they are.
    const file = body.paths['/v1/sessions/{id}/files/{path}'];
    expect(file.put.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['id', 'path']);
    expect(Object.keys(file.put.requestBody.content)).toEqual(['application/octet-stream']);
    expect(Object.keys(file.get.responses['200'].content)).toEqual(['application/octet-stream']);
    const run = body.paths['/v1/run'].post;
    expect(run.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/RunRequest' });
    const schema = body.components.schemas.RunRequest;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['expression']);
    expect(run.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(run.responses)).toEqual(expect.arrayContaining(['200', '4XX', '5XX']));
    expect(body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('echoes a sane X-Request-Id, and makes one otherwise', async () => {
    const given = await server.call('GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await server.call('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

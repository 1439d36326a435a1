/** Every bad input gets its own clear 4xx in the one error shape, over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Reply, type TestServer } from './helpers.js';

function expectError(reply: Reply, status: number, code: string, message?: RegExp) {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.body.error).toMatchObject({ code, message: expect.any(String) });
  expect(Object.keys(reply.body)).toEqual(['error']);
  if (message) expect(reply.body.error.message).toMatch(message);
}

describe('bad input', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      defaultLanguage: 'javascript',
      maxCodeBytes: 1024,
      bodyLimitBytes: 16 * 1024,
      maxStatements: 3,
      maxTimeoutMs: 10_000,
    });
  });
  afterAll(() => server.close());

  const run = (body: unknown) => server.call('POST', '/v1/run', { body });
  const json = { 'content-type': 'application/json' };

  it('malformed JSON: 400 MALFORMED_JSON', async () => {
    expectError(
      await server.call('POST', '/v1/run', { raw: '{"expression": "1",', headers: json }),
      400,
      'MALFORMED_JSON',
    );
  });

  it('missing or empty body: 400 MISSING_BODY', async () => {
    expectError(await server.call('POST', '/v1/run'), 400, 'MISSING_BODY');
    expectError(await server.call('POST', '/v1/run', { raw: '', headers: json }), 400, 'MISSING_BODY');
    expectError(await server.call('POST', '/v1/run', { raw: 'null', headers: json }), 400, 'MISSING_BODY');
  });

  it('a body that is not JSON: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const reply = await server.call('POST', '/v1/run', { raw: '2 + 2', headers: { 'content-type': 'text/plain' } });
    expectError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('wrong types: 400 INVALID_TYPE naming the field', async () => {
    expectError(await run({ expression: 42 }), 400, 'INVALID_TYPE', /body\.expression must be string/);
    expectError(
      await run({ expression: '1', statements: 'x = 1' }),
      400,
      'INVALID_TYPE',
      /body\.statements must be array/,
    );
    expectError(await run({ expression: '1', statements: [1] }), 400, 'INVALID_TYPE', /body\.statements\.0/);
    expectError(await run({ expression: '1', timeoutMs: '500' }), 400, 'INVALID_TYPE', /timeoutMs must be integer/);
    expectError(await run({ expression: '1', timeoutMs: 1.5 }), 400, 'INVALID_TYPE', /timeoutMs/);
    expectError(await run([{ expression: '1' }]), 400, 'INVALID_TYPE', /body must be object/);
  });

  it('missing required fields: 400 MISSING_FIELD', async () => {
    expectError(await run({ statements: [] }), 400, 'MISSING_FIELD', /"expression"/);
    const session = await server.call('POST', '/v1/sessions', { body: {} });
    expectError(
      await server.call('POST', `/v1/sessions/${session.body.id}/eval`, { body: {} }),
      400,
      'MISSING_FIELD',
      /"expression"/,
    );
  });

  it('unknown fields: 400 UNKNOWN_FIELD naming the field', async () => {
    const reply = await run({ expression: '1', timeout: 5 });
    expectError(reply, 400, 'UNKNOWN_FIELD', /"timeout"/);
    expect(reply.body.error.details).toEqual({ field: 'timeout' });
    expectError(
      await server.call('POST', '/v1/sessions', { body: { lang: 'python' } }),
      400,
      'UNKNOWN_FIELD',
      /"lang"/,
    );
    const session = await server.call('POST', '/v1/sessions', { body: {} });
    const exec = await server.call('POST', `/v1/sessions/${session.body.id}/exec`, {
      body: { statements: 'x', code: 'y' },
    });
    expectError(exec, 400, 'UNKNOWN_FIELD', /"code"/);
  });

  it('unknown language: 400 UNKNOWN_LANGUAGE listing the known ones', async () => {
    expectError(
      await run({ language: 'cobol', expression: '1' }),
      400,
      'UNKNOWN_LANGUAGE',
      /"cobol".*python, javascript/,
    );
    expectError(await server.call('POST', '/v1/sessions', { body: { language: 'ruby' } }), 400, 'UNKNOWN_LANGUAGE');
  });

  it('unavailable language: 503 LANGUAGE_UNAVAILABLE', async () => {
    const missing = await startServer({ guestDirs: { python: '/nonexistent/artifact' } });
    try {
      expectError(
        await missing.call('POST', '/v1/run', { body: { expression: '1' } }),
        503,
        'LANGUAGE_UNAVAILABLE',
        /python/,
      );
      const languages = await missing.call('GET', '/v1/languages');
      expect(languages.body.languages).toContainEqual(expect.objectContaining({ name: 'python', available: false }));
    } finally {
      await missing.close();
    }
  });

  it('unknown session: 404 SESSION_NOT_FOUND', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/sessions/ses_doesnotexist', undefined],
      ['DELETE', '/v1/sessions/ses_doesnotexist', undefined],
      ['POST', '/v1/sessions/ses_doesnotexist/exec', { statements: 'x' }],
      ['POST', '/v1/sessions/ses_doesnotexist/eval', { expression: 'x' }],
      ['POST', '/v1/sessions/ses_doesnotexist/reset', undefined],
    ] as const) {
      expectError(await server.call(method, path, { body }), 404, 'SESSION_NOT_FOUND');
    }
  });

  it('unknown route or method: 404 NOT_FOUND in the same shape', async () => {
    expectError(await server.call('GET', '/v2/run'), 404, 'NOT_FOUND', /GET \/v2\/run/);
    expectError(await server.call('PUT', '/v1/run', { body: {} }), 404, 'NOT_FOUND');
    expectError(await server.call('GET', '/v1/sessions/a/b/c'), 404, 'NOT_FOUND');
  });

  it('body over the limit: 413 BODY_TOO_LARGE', async () => {
    expectError(await run({ expression: `"${'x'.repeat(20 * 1024)}"` }), 413, 'BODY_TOO_LARGE');
  });

  it('code over the limit: 400 CODE_TOO_LONG', async () => {
    expectError(await run({ expression: `"${'x'.repeat(2000)}"` }), 400, 'CODE_TOO_LONG', /expression is 2002 bytes/);
    expectError(
      await run({ statements: ['1', 'y'.repeat(1025)], expression: '1' }),
      400,
      'CODE_TOO_LONG',
      /statements\[1\]/,
    );
  });

  it('too many statements: 400 INVALID_REQUEST', async () => {
    expectError(await run({ statements: ['1', '2', '3', '4'], expression: '1' }), 400, 'INVALID_REQUEST', /statements/);
  });

  it('limits above the server maximum: 400 LIMIT_EXCEEDED (never clamped)', async () => {
    const timeout = await run({ expression: '1', timeoutMs: 10_001 });
    expectError(timeout, 400, 'LIMIT_EXCEEDED', /maximum of 10000/);
    expect(timeout.body.error.details).toEqual({ field: 'timeoutMs', maximum: 10_000 });
    expectError(await run({ expression: '1', memoryLimitBytes: 1024 ** 3 }), 400, 'LIMIT_EXCEEDED', /memoryLimitBytes/);
    expectError(await server.call('POST', '/v1/sessions', { body: { timeoutMs: 60_000 } }), 400, 'LIMIT_EXCEEDED');
  });

  it('a memory limit that is not one of the allowed sizes: 400 INVALID_LIMIT', async () => {
    expectError(await run({ expression: '1', memoryLimitBytes: 30 * 1024 * 1024 }), 400, 'INVALID_LIMIT', /one of/);
    expectError(await run({ expression: '1', timeoutMs: 0 }), 400, 'INVALID_REQUEST', /timeoutMs must be >= 1/);
  });

  it('a session id that is too long or a broken URL: 414 / 400 INVALID_REQUEST', async () => {
    expectError(await server.call('GET', `/v1/sessions/${'a'.repeat(300)}`), 414, 'INVALID_REQUEST');
    expectError(await server.call('GET', '/v1/sessions/%E0%A4%A'), 400, 'INVALID_REQUEST');
  });
});

/**
 * The OpenAPI document the server serves: named schemas behind every JSON body of /v1, an
 * operationId everywhere, Redocly's recommended rules, and a client generated from it that
 * type-checks and runs a session round trip against the real server.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers.js';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLIENT_DIR = join(HERE, 'openapi-client');
const REDOCLY = join(HERE, '../node_modules/.bin/redocly');
const OPENAPI_TS = join(HERE, '../node_modules/.bin/openapi-typescript');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let server: TestServer;
let document: Json;

beforeAll(async () => {
  server = await startServer({ defaultLanguage: 'javascript' });
  document = (await server.call('GET', '/openapi.json')).body;
});
afterAll(() => server.close());

const operations = () =>
  Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );

describe('the served OpenAPI document', () => {
  it('names its schemas, and every JSON body of /v1 refers to one', () => {
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['Session', 'CallResult', 'RunResult', 'RunRequest', 'Error', 'Languages']),
    );
    let bodies = 0;
    for (const { path, operation } of operations().filter((o) => o.path.startsWith('/v1'))) {
      const contents = [
        operation.requestBody?.content,
        ...Object.values(operation.responses as Record<string, Json>).map((r) => r.content),
      ];
      // Snapshots travel as application/octet-stream; every JSON body is named.
      for (const content of contents.filter((c) => c?.['application/json'])) {
        const schema = content['application/json'].schema;
        expect(schema.$ref, `${path}: ${JSON.stringify(schema)}`).toMatch(/^#\/components\/schemas\/\w+$/);
        bodies += 1;
      }
    }
    expect(bodies).toBeGreaterThan(20);
  });

  it('gives every operation an operationId; public routes need no key; it names its server', () => {
    const ids = operations().map((o) => o.operation.operationId);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(document.paths[path].get.security).toEqual([]);
    expect(document.paths['/v1/run'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(document.servers).toEqual([expect.objectContaining({ url: server.url })]);
    expect(document.paths['/metrics'].get.responses['200'].content['text/plain'].schema).toEqual({ type: 'string' });
  });

  it('marks the body of POST /v1/sessions optional, and the server accepts it empty', async () => {
    expect(document.paths['/v1/sessions'].post.requestBody.required).toBe(false);
    expect(document.paths['/v1/run'].post.requestBody.required).toBe(true);
    const created = await server.call('POST', '/v1/sessions', {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(created.status).toBe(201);
    const reset = await server.call('POST', `/v1/sessions/${created.body.id}/reset`, {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(reset.status).toBe(200);
    // A body that is required is still required.
    const run = await server.call('POST', '/v1/run', { raw: '', headers: { 'content-type': 'application/json' } });
    expect(run.body.error.code).toBe('MISSING_BODY');
  });

  it("passes Redocly's recommended rules with no errors (offline)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-openapi-'));
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(document));
    const { stdout } = await run(REDOCLY, ['lint', '--extends=recommended', '--format=json', file], {
      cwd: dir,
      // No telemetry, no update check: the lint must not need the network.
      env: { PATH: process.env.PATH, HOME: dir, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).catch((error: { stdout: string }) => error);
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { totals: { errors: number }; problems: unknown[] };
    expect(report.totals.errors, JSON.stringify(report.problems, null, 2)).toBe(0);
  }, 120_000);

  it('generates a client (openapi-typescript + openapi-fetch) that type-checks and runs a session', async () => {
    await mkdir(join(CLIENT_DIR, 'generated'), { recursive: true });
    const source = join(CLIENT_DIR, 'generated/openapi.json');
    await writeFile(source, JSON.stringify(document));
    await run(OPENAPI_TS, [source, '--output', join(CLIENT_DIR, 'generated/schema.ts')]);
    await run(process.execPath, [TSC, '-p', join(CLIENT_DIR, 'tsconfig.json')]).catch((error: { stdout: string }) => {
      throw new Error(`the generated client does not type-check:\n${error.stdout}`);
    });
    // Not a literal specifier: the package's own type check must not need the generated file,
    // which exists only once this test has generated it (the tsc run above checks the client).
    const roundTripModule = './openapi-client/round-trip.js';
    const { sessionRoundTrip } = (await import(roundTripModule)) as {
      sessionRoundTrip: (
        baseUrl: string,
        language: string,
        statements: string,
        expression: string,
      ) => Promise<{
        created: unknown;
        exec: unknown;
        eval: unknown;
        deleteStatus: number;
        afterDelete?: { error: { code: string } };
      }>;
    };
    const result = await sessionRoundTrip(server.url, 'javascript', 'var answer = 6 * 7;', '({ answer, deep: [[1]] })');
    expect(result.created).toMatchObject({ language: 'javascript', state: 'ready' });
    expect(result.exec).toMatchObject({ status: 'ok' });
    expect(result.eval).toMatchObject({ status: 'ok', value: { answer: 42, deep: [[1]] } });
    expect(result.deleteStatus).toBe(204);
    expect(result.afterDelete?.error.code).toBe('SESSION_NOT_FOUND');
  }, 120_000);
});

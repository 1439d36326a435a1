/** Parked sessions over real HTTP: a session idle past the engine's parkIdleMs answers with its globals. */
import { configureEngine } from '@component-sandbox/host';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPythonGuest, sleep, startServer, type TestServer } from './helpers.js';

// Before any sandbox exists in this test process (each test file runs in its own).
configureEngine({ parkIdleMs: 50 });

const python = await findPythonGuest();
if (!python.dir) console.warn(`\n*** python parking tests ${python.reason} ***\n`);

describe.runIf(python.dir)('a parked session', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultLanguage: 'python', guestDirs: { python: python.dir! } });
  });
  afterAll(() => server.close());

  it('is listed as parked, then answers with its globals and is hot again', async () => {
    const created = await server.call('POST', '/v1/sessions', { body: { language: 'python' } });
    expect(created.status).toBe(201);
    expect(created.body.parked).toBe(false);
    const id = created.body.id as string;
    expect((await server.call('POST', `/v1/sessions/${id}/exec`, { body: { statements: 'x = 41' } })).status).toBe(200);
    let described = await server.call('GET', `/v1/sessions/${id}`);
    for (let waited = 0; !described.body.parked && waited < 20_000; waited += 20) {
      await sleep(20);
      described = await server.call('GET', `/v1/sessions/${id}`);
    }
    expect(described.body).toMatchObject({ id, state: 'ready', parked: true, busy: false });
    expect((await server.call('GET', '/metrics')).text).toMatch(/^sandbox_http_sessions_parked 1$/m);
    const answered = await server.call('POST', `/v1/sessions/${id}/eval`, { body: { expression: 'x + 1' } });
    expect(answered.body).toMatchObject({ status: 'ok', value: 42, session: { state: 'ready', parked: false } });
  });
});

/**
 * Files over real HTTP, with the real guests: `files` in runs and session requests, a session's
 * /tmp listed, fetched and written, the quota, paths that leave /tmp, other keys, JavaScript
 * (no /tmp), and a packages directory (--packages) that Python sandboxes import from.
 */
import http from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPythonGuest, startServer, type TestServer } from './helpers.js';

const python = await findPythonGuest();
if (!python.dir) console.warn(`\n*** python file tests ${python.reason} ***\n`);

const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-9876543210';
const KiB = 1024;

const b64 = (data: string | Uint8Array) => Buffer.from(data).toString('base64');
/** Every byte value, so text decoding or re-encoding anywhere would show. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** A request whose path goes to the server exactly as written (fetch would resolve `..`). */
function rawRequest(url: string, method: string, path: string, key: string, body?: Buffer) {
  const { port } = new URL(url);
  return new Promise<{ status: number; json: { error?: { code: string; message: string } } }>((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body ? { 'content-type': 'application/octet-stream', 'content-length': body.length } : {}),
        },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, json: JSON.parse(text) }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe.skipIf(!python.dir)(`files, python (${python.reason})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      apiKeys: [ALICE, BOB],
      guestDirs: { python: python.dir! },
      tmpLimitBytes: 256 * KiB,
      maxSessionsPerKey: 4,
    });
  });
  afterAll(() => server.close());

  const as = (key: string) => ({
    call: (method: string, path: string, body?: unknown) => server.call(method, path, { key, body }),
    /** The bytes of a file, or the error body. */
    get: async (path: string) => {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const bytes = new Uint8Array(await response.arrayBuffer());
      const json = (response.headers.get('content-type') ?? '').includes('json')
        ? JSON.parse(Buffer.from(bytes).toString())
        : undefined;
      return { status: response.status, type: response.headers.get('content-type'), bytes, json };
    },
    put: async (path: string, data: Uint8Array | string, contentType = 'application/octet-stream') => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
        body: typeof data === 'string' ? data : Buffer.from(data),
      });
      return { status: response.status, body: await response.json() };
    },
  });
  const alice = as(ALICE);
  const bob = as(BOB);

  /** Sessions a test made, deleted after it (the key may hold only 4). */
  const made: string[] = [];
  afterEach(async () => {
    for (const id of made.splice(0)) await alice.call('DELETE', `/v1/sessions/${id}`);
  });
  const createSession = async (body: object = {}) => {
    const reply = await alice.call('POST', '/v1/sessions', body);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    made.push(reply.body.id as string);
    return reply.body.id as string;
  };
  const evaluate = (id: string, expression: string) =>
    alice.call('POST', `/v1/sessions/${id}/eval`, { expression }).then((reply) => reply.body);
  const exec = (id: string, statements: string) =>
    alice.call('POST', `/v1/sessions/${id}/exec`, { statements }).then((reply) => reply.body);
  const liveSandboxes = async () => {
    const text = (await server.call('GET', '/metrics')).text;
    return Number(/^sandbox_http_sandboxes_alive (\d+)$/m.exec(text)![1]);
  };

  it('POST /v1/run: the guest reads the files it was sent (relative, absolute, nested, binary)', async () => {
    const reply = await alice.call('POST', '/v1/run', {
      files: {
        'in.csv': b64('a,b\n1,2\n3,4\n'),
        '/tmp/data/bytes.bin': b64(ALL_BYTES),
      },
      statements: ['import csv\nrows = list(csv.DictReader(open("in.csv")))'],
      expression:
        '[sum(int(r["b"]) for r in rows), list(open("/tmp/data/bytes.bin", "rb").read()) == list(range(256)), __import__("os").getcwd()]',
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ status: 'ok', value: [6, true, '/tmp'] });
  });

  it('a session starts with its files; what the guest writes is listed and fetched as bytes', async () => {
    const id = await createSession({ files: { 'notes/hello.txt': b64('hello from the client') } });
    expect(await evaluate(id, 'open("notes/hello.txt").read()')).toMatchObject({
      status: 'ok',
      value: 'hello from the client',
    });
    expect(await exec(id, 'open("/tmp/out.bin", "wb").write(bytes(range(256)))')).toMatchObject({ status: 'ok' });

    const listed = await alice.call('GET', `/v1/sessions/${id}/files`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      path: '/tmp',
      entries: [
        { name: 'notes', type: 'directory' },
        { name: 'out.bin', type: 'file', size: 256 },
      ],
    });
    const nested = await alice.call('GET', `/v1/sessions/${id}/files?path=notes`);
    expect(nested.body).toEqual({
      path: '/tmp/notes',
      entries: [{ name: 'hello.txt', type: 'file', size: 21 }],
    });

    const fetched = await alice.get(`/v1/sessions/${id}/files/out.bin`);
    expect(fetched.status).toBe(200);
    expect(fetched.type).toBe('application/octet-stream');
    expect(fetched.bytes).toEqual(ALL_BYTES);
    // Slashes of the path may come encoded.
    expect(Buffer.from((await alice.get(`/v1/sessions/${id}/files/notes%2Fhello.txt`)).bytes).toString()).toBe(
      'hello from the client',
    );
    // Reading files is no call, and keeps the session as it was.
    expect((await alice.call('GET', `/v1/sessions/${id}`)).body).toMatchObject({ state: 'ready', calls: 2 });
    // A symlink the guest made is listed as one, with its target.
    expect(await exec(id, '__import__("os").symlink("hello.txt", "notes/link")')).toMatchObject({ status: 'ok' });
    const withLink = await alice.call('GET', `/v1/sessions/${id}/files?path=notes`);
    expect(withLink.body).toEqual({
      path: '/tmp/notes',
      entries: [
        { name: 'hello.txt', type: 'file', size: 21 },
        { name: 'link', type: 'symlink', target: 'hello.txt' },
      ],
    });
  });

  it('PUT writes a file (making directories, replacing one) that the next call reads', async () => {
    const id = await createSession();
    const put = await alice.put(`/v1/sessions/${id}/files/in/data.bin`, ALL_BYTES);
    expect(put).toEqual({ status: 200, body: { path: '/tmp/in/data.bin', size: 256 } });
    expect(await evaluate(id, 'list(open("in/data.bin", "rb").read()) == list(range(256))')).toMatchObject({
      value: true,
    });
    expect((await alice.put(`/v1/sessions/${id}/files/in/data.bin`, 'replaced')).status).toBe(200);
    expect(await evaluate(id, 'open("/tmp/in/data.bin").read()')).toMatchObject({ value: 'replaced' });
    // An empty body is an empty file.
    expect((await alice.put(`/v1/sessions/${id}/files/empty`, '')).body).toEqual({ path: '/tmp/empty', size: 0 });
    expect(await evaluate(id, 'open("empty").read()')).toMatchObject({ value: '' });
  });

  it('answers FILE_NOT_FOUND, FILE_CONFLICT and a clear code for a body that is not bytes', async () => {
    const id = await createSession({ files: { 'dir/file.txt': b64('x') } });
    expect((await alice.get(`/v1/sessions/${id}/files/missing.txt`)).json.error.code).toBe('FILE_NOT_FOUND');
    expect((await alice.get(`/v1/sessions/${id}/files/missing.txt`)).status).toBe(404);
    expect((await alice.call('GET', `/v1/sessions/${id}/files?path=nowhere`)).body.error.code).toBe('FILE_NOT_FOUND');
    const directory = await alice.get(`/v1/sessions/${id}/files/dir`);
    expect(directory.status).toBe(409);
    expect(directory.json.error).toMatchObject({ code: 'FILE_CONFLICT', details: { reason: 'IS_DIRECTORY' } });
    const under = await alice.put(`/v1/sessions/${id}/files/dir/file.txt/inner`, 'x');
    expect(under.body.error).toMatchObject({ code: 'FILE_CONFLICT', details: { reason: 'NOT_DIRECTORY' } });
    expect((await alice.get(`/v1/sessions/${id}/files/`)).json.error.code).toBe('INVALID_FILE_PATH');
    const json = await alice.put(`/v1/sessions/${id}/files/x.json`, '{"a": 1}', 'application/json');
    expect(json.status).toBe(415);
    expect(json.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: /application\/octet-stream/ });
    const text = await alice.put(`/v1/sessions/${id}/files/x.txt`, 'x', 'text/plain');
    expect(text.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: /application\/octet-stream/ });
    expect((await alice.get(`/v1/sessions/${id}/files/x.txt`)).status).toBe(404);
  });

  it('refuses paths with .. or outside /tmp, in every route and in `files`', async () => {
    const id = await createSession({ files: { 'a/secret.txt': b64('s') } });
    for (const path of [
      `/v1/sessions/${id}/files/a/../a/secret.txt`,
      `/v1/sessions/${id}/files/../../etc/passwd`,
      `/v1/sessions/${id}/files/a/%2e%2e/a/secret.txt`,
      `/v1/sessions/${id}/files/a%2F..%2F..%2Fetc%2Fpasswd`,
    ]) {
      const read = await rawRequest(server.url, 'GET', path, ALICE);
      expect([read.status, read.json.error?.code], path).toEqual([400, 'INVALID_FILE_PATH']);
      const write = await rawRequest(server.url, 'PUT', path, ALICE, Buffer.from('x'));
      expect([write.status, write.json.error?.code], path).toEqual([400, 'INVALID_FILE_PATH']);
    }
    for (const path of ['..', '/etc', '/tmp/../etc', 'a/..']) {
      const listed = await alice.call('GET', `/v1/sessions/${id}/files?path=${encodeURIComponent(path)}`);
      expect([listed.status, listed.body.error?.code], path).toEqual([400, 'INVALID_FILE_PATH']);
    }
    for (const name of ['../escape.txt', '/etc/passwd', '/tmp/../etc/x', 'a/../../x', '/tmp']) {
      const run = await alice.call('POST', '/v1/run', { files: { [name]: b64('x') }, expression: '1' });
      expect([run.status, run.body.error?.code], name).toEqual([400, 'INVALID_FILE_PATH']);
      expect(run.body.error.details.field).toBe(`files.${name}`);
    }
    // Nothing was written anywhere: /tmp holds what it held.
    expect((await alice.call('GET', `/v1/sessions/${id}/files`)).body.entries).toEqual([
      { name: 'a', type: 'directory' },
    ]);
  });

  it('refuses content that is not base64 with INVALID_BASE64, naming the file', async () => {
    for (const content of ['not base64!', 'aGVsbG8', 'aGVs\nbG8=', '!!!!\naGk=', 'aGk=\n', 'aG k=', '====']) {
      const run = await alice.call('POST', '/v1/run', {
        files: { 'ok.txt': 'aGk=', 'in/x.txt': content },
        expression: '1',
      });
      expect(run.status, JSON.stringify(content)).toBe(400);
      expect(run.body.error).toMatchObject({ code: 'INVALID_BASE64', details: { field: 'files.in/x.txt' } });
      expect(run.body.error.message).toContain('"in/x.txt"');
    }
    const before = await liveSandboxes();
    const created = await alice.call('POST', '/v1/sessions', { files: { 'x.txt': '%%%' } });
    expect(created.body.error.code).toBe('INVALID_BASE64');
    expect(await liveSandboxes()).toBe(before);
  });

  it('quota: files that do not fit are 413 TMP_QUOTA_EXCEEDED, nothing changes, the session answers', async () => {
    const id = await createSession({ tmpLimitBytes: 64 * KiB, files: { 'small.txt': b64('small') } });
    expect((await alice.call('GET', `/v1/sessions/${id}`)).body.limits.tmpLimitBytes).toBe(64 * KiB);

    const tooBig = await alice.put(`/v1/sessions/${id}/files/big.bin`, new Uint8Array(80 * KiB));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toMatchObject({ code: 'TMP_QUOTA_EXCEEDED', details: { tmpLimitBytes: 64 * KiB } });
    // Replacing a file with one too big leaves the old one.
    expect((await alice.put(`/v1/sessions/${id}/files/small.txt`, new Uint8Array(80 * KiB))).status).toBe(413);
    expect((await alice.get(`/v1/sessions/${id}/files/big.bin`)).status).toBe(404);
    expect(Buffer.from((await alice.get(`/v1/sessions/${id}/files/small.txt`)).bytes).toString()).toBe('small');
    // The guest meets the same quota as ENOSPC, and the session lives on.
    const guestWrite = await exec(id, 'open("/tmp/guest.bin", "wb").write(bytes(80 * 1024))');
    expect(guestWrite).toMatchObject({ status: 'exec_error', error: { type: 'OSError' }, session: { state: 'ready' } });
    expect(guestWrite.error.message).toMatch(/No space left on device/);
    expect(await evaluate(id, 'open("small.txt").read()')).toMatchObject({ status: 'ok', value: 'small' });
    // Whatever the guest wrote before it ran out is its own to remove; then there is room again.
    expect(await exec(id, 'import os\nos.remove("/tmp/guest.bin")')).toMatchObject({ status: 'ok' });
    expect((await alice.put(`/v1/sessions/${id}/files/fits.bin`, new Uint8Array(16 * KiB))).status).toBe(200);

    // Above the server's --tmp-limit a body is not even read.
    const aboveServer = await alice.put(`/v1/sessions/${id}/files/huge.bin`, new Uint8Array(300 * KiB));
    expect([aboveServer.status, aboveServer.body.error.code]).toEqual([413, 'BODY_TOO_LARGE']);

    const run = await alice.call('POST', '/v1/run', {
      tmpLimitBytes: 16 * KiB,
      files: { 'a.bin': b64(new Uint8Array(10 * KiB)), 'b.bin': b64(new Uint8Array(10 * KiB)) },
      expression: '1',
    });
    expect(run.status).toBe(413);
    expect(run.body.error).toMatchObject({ code: 'TMP_QUOTA_EXCEEDED', details: { field: 'files.b.bin' } });
    const above = await alice.call('POST', '/v1/run', { tmpLimitBytes: 512 * KiB, expression: '1' });
    expect(above.body.error).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { field: 'tmpLimitBytes', maximum: 256 * KiB },
    });
  });

  it('a session request whose files fail leaves nothing behind (no session, no sandbox, no place taken)', async () => {
    const before = await liveSandboxes();
    // More failed creations than this key may hold sessions (4): none of them took a place.
    for (const files of [
      { 'ok.txt': b64('x'), '../bad.txt': b64('x') },
      { 'big.bin': b64(new Uint8Array(200 * KiB)) },
      { 'a.txt': b64('x'), 'a.txt/b.txt': b64('x') },
      { 'ok.txt': b64('x'), '/etc/x': b64('x') },
      { 'ok.txt': b64('x'), '/tmp/../x': b64('x') },
    ]) {
      const reply = await alice.call('POST', '/v1/sessions', { tmpLimitBytes: 128 * KiB, files });
      expect(reply.status, JSON.stringify(reply.body)).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
    }
    expect(await liveSandboxes()).toBe(before);
    for (let i = 0; i < 4; i += 1) await createSession();
    expect(await liveSandboxes()).toBe(before + 4);
  });

  it("another API key cannot list, read or write a session's files", async () => {
    const id = await createSession({ files: { 'private.txt': b64('alice only') } });
    const paths = [`/v1/sessions/${id}/files`, `/v1/sessions/${id}/files/private.txt`];
    for (const path of paths) {
      const reply = await bob.get(path);
      expect([reply.status, reply.json.error.code], path).toEqual([404, 'SESSION_NOT_FOUND']);
      expect(Buffer.from(reply.bytes).toString()).not.toContain('alice only');
    }
    const overwrite = await bob.put(`/v1/sessions/${id}/files/private.txt`, 'bob was here');
    expect([overwrite.status, overwrite.body.error.code]).toEqual([404, 'SESSION_NOT_FOUND']);
    expect(Buffer.from((await alice.get(`/v1/sessions/${id}/files/private.txt`)).bytes).toString()).toBe('alice only');
  });

  it('file routes wait for no call: while one runs they answer 409 SESSION_BUSY', async () => {
    const id = await createSession();
    const running = exec(id, 'import time\ntime.sleep(2)');
    // Wait until the session says the call has started (no timing assumption).
    for (;;) {
      const { body } = await alice.call('GET', `/v1/sessions/${id}`);
      if (body.busy) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await alice.put(`/v1/sessions/${id}/files/x.txt`, 'x')).body.error.code).toBe('SESSION_BUSY');
    expect((await alice.call('GET', `/v1/sessions/${id}/files`)).body.error.code).toBe('SESSION_BUSY');
    expect((await running).status).toBe('ok');
    expect((await alice.put(`/v1/sessions/${id}/files/x.txt`, 'x')).status).toBe(200);
  });

  it("a snapshot carries /tmp; a restore's tmpLimitBytes (query) must hold it", async () => {
    const id = await createSession({ files: { 'kept.bin': b64(new Uint8Array(20 * KiB).fill(7)) } });
    const snapshot = Buffer.from(await (await alice.get(`/v1/sessions/${id}/snapshot`)).bytes);
    const restore = (query: string) =>
      fetch(`${server.url}/v1/sessions/restore${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/octet-stream' },
        body: snapshot,
      }).then(async (response) => ({ status: response.status, body: await response.json() }));
    const tooSmall = await restore('?tmpLimitBytes=8192');
    expect([tooSmall.status, tooSmall.body.error.code]).toEqual([400, 'INVALID_SNAPSHOT']);
    const restored = await restore('?tmpLimitBytes=65536');
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    made.push(restored.body.id as string);
    expect(restored.body.limits.tmpLimitBytes).toBe(64 * KiB);
    const file = await alice.get(`/v1/sessions/${restored.body.id}/files/kept.bin`);
    expect(file.bytes).toEqual(new Uint8Array(20 * KiB).fill(7));
    expect((await restore('?tmpLimitBytes=1048576')).body.error.code).toBe('LIMIT_EXCEEDED');
  });

  it('a fork takes a copy of /tmp; the two then diverge', async () => {
    const id = await createSession({ files: { 'shared.txt': b64('v1') } });
    const fork = await alice.call('POST', `/v1/sessions/${id}/fork`);
    expect(fork.status).toBe(201);
    made.push(fork.body.id as string);
    expect((await alice.put(`/v1/sessions/${fork.body.id}/files/shared.txt`, 'v2')).status).toBe(200);
    expect(await evaluate(id, 'open("shared.txt").read()')).toMatchObject({ value: 'v1' });
    expect(await evaluate(fork.body.id, 'open("shared.txt").read()')).toMatchObject({ value: 'v2' });
  });
});

describe('files, javascript (no /tmp)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultLanguage: 'javascript', bodyLimitBytes: 64 * KiB });
  });
  afterAll(() => server.close());

  it('refuses `files` with 400 FILES_UNSUPPORTED, in runs and session requests', async () => {
    const run = await server.call('POST', '/v1/run', { body: { files: { 'a.txt': b64('x') }, expression: '1' } });
    expect([run.status, run.body.error.code]).toEqual([400, 'FILES_UNSUPPORTED']);
    const created = await server.call('POST', '/v1/sessions', { body: { files: { 'a.txt': b64('x') } } });
    expect([created.status, created.body.error.code]).toEqual([400, 'FILES_UNSUPPORTED']);
    // No files is no problem.
    expect((await server.call('POST', '/v1/run', { body: { files: {}, expression: '1 + 1' } })).body.value).toBe(2);
  });

  it("answers 400 FILES_UNSUPPORTED on a session's file routes, and the session still answers", async () => {
    const { body } = await server.call('POST', '/v1/sessions');
    for (const [method, path] of [
      ['GET', `/v1/sessions/${body.id}/files`],
      ['GET', `/v1/sessions/${body.id}/files/a.txt`],
    ] as const) {
      const reply = await server.call(method, path);
      expect([reply.status, reply.body.error.code], path).toEqual([400, 'FILES_UNSUPPORTED']);
    }
    const put = await server.call('PUT', `/v1/sessions/${body.id}/files/a.txt`, {
      raw: 'x',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect([put.status, put.body.error.code]).toEqual([400, 'FILES_UNSUPPORTED']);
    const evaluated = await server.call('POST', `/v1/sessions/${body.id}/eval`, { body: { expression: '6 * 7' } });
    expect(evaluated.body.value).toBe(42);
  });

  it('refuses the file routes of a dead session with 409 SESSION_DEAD', async () => {
    const { body } = await server.call('POST', '/v1/sessions', { body: { timeoutMs: 300 } });
    const timedOut = await server.call('POST', `/v1/sessions/${body.id}/exec`, {
      body: { statements: 'while (true) {}' },
    });
    expect(timedOut.body.session.state).toBe('dead');
    const reply = await server.call('GET', `/v1/sessions/${body.id}/files`);
    expect([reply.status, reply.body.error.code]).toEqual([409, 'SESSION_DEAD']);
  });

  it('counts `files` against the body limit (413 BODY_TOO_LARGE)', async () => {
    const run = await server.call('POST', '/v1/run', {
      body: { language: 'python', files: { 'big.bin': b64(new Uint8Array(64 * KiB)) }, expression: '1' },
    });
    expect([run.status, run.body.error.code]).toEqual([413, 'BODY_TOO_LARGE']);
  });
});

describe.skipIf(!python.dir)(`--packages (${python.reason})`, () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-http-packages-'));
    await mkdir(join(dir, 'greeting'));
    await writeFile(join(dir, 'greeting/__init__.py'), 'from .words import hello\n');
    await writeFile(join(dir, 'greeting/words.py'), 'def hello(name):\n    return f"hello, {name}"\n');
    await writeFile(join(dir, 'single_module.py'), 'ANSWER = 42\n');
    server = await startServer({ guestDirs: { python: python.dir! }, packagesDir: dir });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('POST /v1/run imports from the packages directory', async () => {
    const reply = await server.call('POST', '/v1/run', {
      body: {
        statements: ['import greeting, single_module'],
        expression: '[greeting.hello("run"), single_module.ANSWER, greeting.__file__]',
      },
    });
    expect(reply.body).toMatchObject({
      status: 'ok',
      value: ['hello, run', 42, '/packages/greeting/__init__.py'],
    });
  });

  it('sessions import from it too, and cannot write to it', async () => {
    const { body } = await server.call('POST', '/v1/sessions', { body: { timeoutMs: 10_000 } });
    const imported = await server.call('POST', `/v1/sessions/${body.id}/exec`, {
      body: { statements: 'from greeting import hello' },
    });
    expect(imported.body.status).toBe('ok');
    const called = await server.call('POST', `/v1/sessions/${body.id}/eval`, {
      body: { expression: 'hello("session")' },
    });
    expect(called.body.value).toBe('hello, session');
    const write = await server.call('POST', `/v1/sessions/${body.id}/exec`, {
      body: { statements: 'open("/packages/evil.py", "w").write("x")' },
    });
    expect(write.body).toMatchObject({ status: 'exec_error', error: { type: 'OSError' } });
  });

  it('JavaScript sandboxes on the same server are unaffected', async () => {
    const reply = await server.call('POST', '/v1/run', { body: { language: 'javascript', expression: '1 + 1' } });
    expect(reply.body).toMatchObject({ status: 'ok', value: 2 });
  });
});

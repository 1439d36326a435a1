/** Real servers on loopback (port 0) and a small fetch wrapper; no fakes of the host. */
import { access } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createServer, type App, type ServerConfig } from '../src/index.js';

// Test bodies are whatever JSON the server sent; the assertions check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Reply<T = Json> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestServer {
  app: App;
  url: string;
  /** JSON request; `body` is sent as JSON unless `raw` is given. */
  call: <T = Json>(method: string, path: string, options?: CallOptions) => Promise<Reply<T>>;
  close: () => Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  raw?: string;
  key?: string;
  headers?: Record<string, string>;
}

export async function request<T = Json>(
  url: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export async function startServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const app = createServer({ logLevel: 'silent', warmup: false, processMetrics: false, ...overrides });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    url,
    call: (method, path, options) => request(url, method, path, options),
    close: () => app.close(),
  };
}

/** JavaScript code that keeps the guest busy for `ms` milliseconds, then returns. */
export const busyJs = (ms: number) => `var __end = Date.now() + ${ms}; while (Date.now() < __end) {}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const WORKSPACE_PYTHON_ARTIFACT = fileURLToPath(new URL('../../../guest/python/artifact', import.meta.url));

/**
 * Where the Python guest artifact is, if it exists: the guest package (when it is installed as
 * a dependency), or the workspace's guest/python/artifact (built but not yet a dependency).
 */
export async function findPythonGuest(): Promise<{ dir?: string; reason: string }> {
  const candidates: string[] = [];
  try {
    const module = (await import('@component-sandbox/guest-python' as string)) as { artifactDir: string };
    candidates.push(module.artifactDir);
  } catch {
    // not installed: try the workspace
  }
  candidates.push(WORKSPACE_PYTHON_ARTIFACT);
  for (const dir of candidates) {
    try {
      await access(`${dir}/manifest.json`);
      return { dir, reason: `Python guest artifact at ${dir}` };
    } catch {
      // not built there
    }
  }
  // CI builds every guest first; a missing one there is a broken build, not a reason to skip.
  if (process.env.CI) throw new Error(`the Python guest is not built (${WORKSPACE_PYTHON_ARTIFACT}) in CI`);
  return {
    reason:
      'SKIPPED: the Python guest is not available (@component-sandbox/guest-python is not installed and ' +
      `${WORKSPACE_PYTHON_ARTIFACT}/manifest.json does not exist); build it to run these tests`,
  };
}

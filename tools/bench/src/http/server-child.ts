/**
 * A server process for the HTTP workload: `adapter` starts @component-sandbox/http from its
 * built dist (createServer), `baseline` a bare node:http keep-alive server that answers the same
 * request with a constant (the loopback + JSON ceiling of this machine, no sandbox). Reports
 * `{ port }` over IPC, then serves until killed.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

interface Start {
  kind: 'adapter' | 'baseline';
  /** packages/http/dist/index.js */
  adapterIndex: string;
}

interface AdapterApp {
  listen(options: { host: string; port: number }): Promise<unknown>;
  server: { address(): AddressInfo | string | null };
}

async function adapter(index: string): Promise<number> {
  const module = (await import(pathToFileURL(index).href)) as { createServer?: (config: object) => AdapterApp };
  if (typeof module.createServer !== 'function') throw new Error(`${index} exports no createServer`);
  const app = module.createServer({
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    maxSessions: 64,
    warmup: true,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the adapter listens on no TCP port');
  return address.port;
}

async function baseline(): Promise<number> {
  const server = createHttpServer({ keepAlive: true }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let status = 200;
      let body: string;
      try {
        const { expression } = JSON.parse(Buffer.concat(chunks).toString()) as { expression?: string };
        body = JSON.stringify({
          status: 'ok',
          value: expression === '2 + 2' ? 4 : null,
          stdout: '',
          stderr: '',
          durationMs: 0,
        });
      } catch {
        status = 400;
        body = '{"error":"bad json"}';
      }
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

process.once('message', async ({ kind, adapterIndex }: Start) => {
  try {
    const port = kind === 'adapter' ? await adapter(adapterIndex) : await baseline();
    process.send!({ ok: true, port });
  } catch (error) {
    process.send!({ ok: false, error: error instanceof Error ? error.message : String(error) }, undefined, {}, () =>
      process.exit(1),
    );
  }
});

/**
 * HTTP: session `eval` requests per second and latency over keep-alive on loopback, with
 * autocannon. The adapter (@component-sandbox/http) runs from packages/http/dist in its own
 * process; each autocannon connection owns one Python session (a session serves one call at a
 * time). First at the maximum rate, then rate-limited at half of the measured maximum. Peer: a
 * bare node:http server answering the same request with a constant (no sandbox), measured the
 * same way and at the same half rate.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { REPO_ROOT, autocannonVersion } from '../setup.js';
import { limitTarget, type Context } from '../rows.js';
import { percentile } from '../stats.js';
import { forkTs } from '../run-child.js';
import type { Measurement, WorkloadResult } from '../types.js';

export const id = 'http';

const SERVER_CHILD = fileURLToPath(new URL('../http/server-child.ts', import.meta.url));
const CONNECTIONS = 8;
const BODY = JSON.stringify({ expression: '2 + 2' });

export function adapterIndex(): string {
  return join(REPO_ROOT, 'packages/http/dist/index.js');
}

interface Server {
  port: number;
  process: ChildProcess;
}

function startServer(kind: 'adapter' | 'baseline', verbose: boolean): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = forkTs(SERVER_CHILD, {
      stdio: verbose ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ${kind} server did not start within 120 s`));
    }, 120_000);
    child.once('message', (message: { ok: boolean; port?: number; error?: string }) => {
      clearTimeout(timer);
      if (message.ok) resolve({ port: message.port!, process: child });
      else reject(new Error(message.error ?? `the ${kind} server failed`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${kind} server exited (${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
    child.send({ kind, adapterIndex: adapterIndex() });
  });
}

async function stopServer(server: Server): Promise<void> {
  if (server.process.exitCode !== null) return;
  const exited = new Promise((resolve) => server.process.once('exit', resolve));
  server.process.kill('SIGTERM');
  const timer = setTimeout(() => server.process.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function post(
  port: number,
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

interface Load {
  /** Responses per second over the run (all connections). */
  rps: number;
  /** Response times, ms, from autocannon's per-response events (not corrected for coordinated omission). */
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
  /** The rate asked for, when rate-limited. */
  rate?: number;
}

/** One autocannon instance on one path with one connection; its response times are collected. */
async function loadOne(
  port: number,
  path: string,
  seconds: number,
  rate: number | undefined,
  times: number[],
  delayMs: number,
): Promise<{ total: number; errors: number; non2xx: number }> {
  if (delayMs > 0) await sleep(delayMs);
  return new Promise((resolve, reject) => {
    let non2xx = 0;
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}${path}`,
        connections: 1,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
        ...(rate ? { overallRate: rate } : {}),
      },
      (error, result) => {
        if (error) reject(error);
        else resolve({ total: result.requests.total, errors: result.errors + result.timeouts, non2xx });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) times.push(responseTime);
      else non2xx += 1;
    });
  });
}

/**
 * A session serves one call at a time (a second concurrent call gets 409), so every connection
 * needs its own session: one single-connection autocannon instance per path, all at once, their
 * response times pooled. `overallRate` is split evenly between them. autocannon limits a rate per
 * second (a connection sends its budget back to back, then waits for the next second), so the
 * rate-limited instances start staggered over one second to spread their bursts.
 */
async function load(port: number, paths: string[], seconds: number, overallRate?: number): Promise<Load> {
  const times: number[] = [];
  const perConnection = overallRate ? Math.max(1, Math.round(overallRate / paths.length)) : undefined;
  const stagger = perConnection ? 1000 / paths.length : 0;
  const started = performance.now();
  const parts = await Promise.all(
    paths.map((path, i) => loadOne(port, path, seconds, perConnection, times, i * stagger)),
  );
  const elapsed = (performance.now() - started) / 1000 - (perConnection ? (stagger * (paths.length - 1)) / 2000 : 0);
  const sum = (key: 'total' | 'errors' | 'non2xx') => parts.reduce((a, p) => a + p[key], 0);
  return {
    rps: times.length / elapsed,
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    errors: sum('errors'),
    non2xx: sum('non2xx'),
    total: sum('total'),
    ...(perConnection ? { rate: perConnection * paths.length } : {}),
  };
}

function loadMeasurement(subject: string, l: Load | Error, figure: 'rps' | 'p99'): Measurement {
  const unit = figure === 'rps' ? 'req/s' : 'ms';
  if (l instanceof Error) return { subject, unit, value: null, status: 'failed', note: l.message.slice(0, 300) };
  const bad = l.errors + l.non2xx;
  const notes = [
    ...(l.rate
      ? [`asked ${l.rate.toLocaleString('en-US')} req/s, got ${Math.round(l.rps).toLocaleString('en-US')}`]
      : []),
    ...(bad > 0 ? [`${bad} of ${l.total} requests failed or were not 2xx`] : []),
  ];
  return {
    subject,
    unit,
    value: l[figure],
    status: 'ok',
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    detail: { ...l },
  };
}

export async function run(ctx: Context): Promise<Omit<WorkloadResult, 'seconds'>> {
  const title = 'HTTP: session eval over keep-alive on loopback';
  const method =
    `autocannon ${autocannonVersion()}, ${CONNECTIONS} keep-alive connections (one single-connection autocannon per ` +
    'connection: each owns one Python session, which serves one call at a time), ' +
    '`POST /v1/sessions/:id/eval {"expression": "2 + 2"}`; a warm-up run, then one at the maximum rate and one ' +
    'rate-limited at half of that maximum; latencies are every 2xx response time autocannon reported. autocannon ' +
    'rate-limits per second (a connection sends its budget for the second back to back, then waits), so the ' +
    'half-rate run is bursty, not evenly paced: the connections start staggered over one second to spread the bursts. ' +
    'Peer: a bare node:http server answering the same request with a constant (no sandbox), same load.';
  if (!existsSync(adapterIndex())) {
    ctx.log('HTTP adapter not built');
    return {
      id,
      title,
      method,
      rows: [],
      notes: [],
      skipped: 'HTTP adapter not built (packages/http/dist is missing): skipped',
    };
  }
  const seconds = ctx.quick ? 3 : 10;
  ctx.log('http: starting the adapter');
  let adapter: Server;
  try {
    adapter = await startServer('adapter', ctx.verbose);
  } catch (error) {
    const message = `HTTP adapter did not start: ${(error as Error).message}`;
    ctx.log(message);
    return { id, title, method, rows: [], notes: [], skipped: message.slice(0, 400) };
  }
  let oursMax: Load | Error;
  let oursHalf: Load | Error;
  try {
    const paths: string[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const created = await post(adapter.port, '/v1/sessions', { language: 'python' });
      if (created.status !== 201)
        throw new Error(`POST /v1/sessions answered ${created.status} ${JSON.stringify(created.json).slice(0, 200)}`);
      paths.push(`/v1/sessions/${String(created.json['id'])}/eval`);
    }
    const probe = await post(adapter.port, paths[0]!, { expression: '2 + 2' });
    if (probe.status !== 200 || probe.json['value'] !== 4) {
      throw new Error(`a session eval answered ${probe.status} ${JSON.stringify(probe.json).slice(0, 200)}`);
    }
    ctx.log(`http: adapter, warm-up, then ${seconds} s at max rate and ${seconds} s at half`);
    await load(adapter.port, paths, ctx.quick ? 1 : 2);
    oursMax = await load(adapter.port, paths, seconds);
    oursHalf = await load(adapter.port, paths, seconds, Math.max(1, Math.floor(oursMax.rps / 2)));
  } catch (error) {
    oursMax = oursHalf = error as Error;
  } finally {
    await stopServer(adapter);
  }

  ctx.log('http: baseline node:http server');
  let baseMax: Load | Error;
  let baseHalf: Load | Error;
  try {
    const base = await startServer('baseline', ctx.verbose);
    try {
      const paths = Array.from({ length: CONNECTIONS }, (_, i) => `/v1/sessions/s${i}/eval`);
      await load(base.port, paths, ctx.quick ? 1 : 2);
      baseMax = await load(base.port, paths, seconds);
      const half = oursMax instanceof Error ? Math.floor(baseMax.rps / 2) : Math.floor(oursMax.rps / 2);
      baseHalf = await load(base.port, paths, seconds, Math.max(1, half));
    } finally {
      await stopServer(base);
    }
  } catch (error) {
    baseMax = baseHalf = error as Error;
  }

  const baselineName = `node:http ${process.version}, constant answer (no sandbox)`;
  const maxM = loadMeasurement('ours: @component-sandbox/http', oursMax, 'rps');
  const halfRate = oursMax instanceof Error ? '-' : Math.floor(oursMax.rps / 2).toLocaleString('en-US');
  const halfM = loadMeasurement(`ours: at ${halfRate} req/s`, oursHalf, 'p99');
  return {
    id,
    title,
    method,
    rows: [
      {
        workload: id,
        label: 'session evals per second, max rate',
        better: 'higher',
        ours: maxM,
        peers: [loadMeasurement(baselineName, baseMax, 'rps')],
        targets: [limitTarget(maxM, 15_000, '>=')],
      },
      {
        workload: id,
        label: 'p99 latency at half the max rate',
        better: 'lower',
        ours: halfM,
        peers: [loadMeasurement(`${baselineName}, same rate`, baseHalf, 'p99')],
        targets: [limitTarget(halfM, 2)],
      },
    ],
    notes: [],
  };
}

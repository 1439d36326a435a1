#!/usr/bin/env node
// Bounded load test of component-sandbox-http, on loopback only.
//
// Starts the real bin (bin/component-sandbox-http.js) as a child process, drives it with autocannon for a fixed
// number of requests per phase, samples the server's RSS every second, and prints the figures
// (requests, rps, p50/p99 latency, RSS at start/middle/end). Exits non-zero if any answer other
// than a deliberate 429 is an error, or if the server does not shut down cleanly.
//
//   pnpm --filter @component-sandbox/http loadtest
//   LOADTEST_RUNS=2000 LOADTEST_SESSION_CALLS=4000 LOADTEST_OVERLOAD=600 pnpm ... loadtest  (the defaults)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const BIN = fileURLToPath(new URL('../bin/component-sandbox-http.js', import.meta.url));
const RUNS = Number(process.env.LOADTEST_RUNS ?? 2000);
const SESSION_CALLS = Number(process.env.LOADTEST_SESSION_CALLS ?? 4000);
const OVERLOAD_CLIENTS = 64;
const OVERLOAD = Math.max(OVERLOAD_CLIENTS, Number(process.env.LOADTEST_OVERLOAD ?? 600));
const SESSIONS = 4;
const WATCHDOG_MS = Number(process.env.LOADTEST_MAX_SECONDS ?? 900) * 1000;
const KEY = `loadtest-${randomBytes(12).toString('hex')}`;
const MiB = 1024 * 1024;

const watchdog = setTimeout(() => {
  console.error(`load test: still running after ${WATCHDOG_MS / 1000} s; giving up`);
  server?.kill('SIGKILL');
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

// --- the server -------------------------------------------------------------------------------
const server = spawn(
  process.execPath,
  [
    BIN,
    ...[
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--api-key',
      KEY,
      '--default-language',
      'javascript',
      '--log-level',
      'info',
    ],
    // Extra server flags, e.g. LOADTEST_SERVER_ARGS="--pool-size 4 --max-concurrent-runs 3".
    ...(process.env.LOADTEST_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH } },
);
const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
// Whatever happens to this script, the server does not outlive it.
process.on('exit', () => {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
});
process.on('uncaughtException', (error) => {
  console.error('load test: failed:', error);
  process.exit(1);
});
process.on('unhandledRejection', (error) => {
  console.error('load test: failed:', error);
  process.exit(1);
});
let logLines = 0;
const port = await new Promise((resolve, reject) => {
  server.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
  createInterface({ input: server.stdout }).on('line', (line) => {
    logLines += 1; // keep draining the logs for the whole test
    if (line.includes('"event":"listening"')) resolve(JSON.parse(line).port);
  });
});
const base = `http://127.0.0.1:${port}`;
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

// --- RSS sampling (the server process: main thread and every sandbox worker thread) ------------
function rssBytes() {
  try {
    const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
  } catch {
    return NaN;
  }
}
const started = performance.now();
const samples = [];
const sample = () => samples.push({ t: (performance.now() - started) / 1000, rss: rssBytes() });
sample();
const sampler = setInterval(sample, 1000);

// --- phases -----------------------------------------------------------------------------------
async function fire(name, options) {
  const statuses = new Map();
  const bodies = { checked: 0, wrong: 0 };
  const result = await autocannon({
    url: base,
    method: 'POST',
    headers,
    timeout: 60,
    ...options,
    requests: [
      {
        ...options.request,
        onResponse: (status, body) => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 200 && options.check) {
            bodies.checked += 1;
            if (!options.check(JSON.parse(body))) bodies.wrong += 1;
          }
        },
      },
    ],
  });
  return { name, result, statuses, bodies };
}

function report({ name, result, statuses, bodies }) {
  const by = [...statuses].map(([s, n]) => `${s}: ${n}`).join(', ');
  console.log(
    `${name.padEnd(14)} ${String(result.requests.total).padStart(6)} requests in ${result.duration.toFixed(1)} s, ` +
      `${result.requests.average.toFixed(1)} req/s, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ` +
      `status ${by}; errors ${result.errors}, timeouts ${result.timeouts}; bodies wrong ${bodies.wrong}/${bodies.checked}`,
  );
}

function problems({ name, result, statuses, bodies }, allow429) {
  const found = [];
  for (const [status, count] of statuses) {
    if (status !== 200 && !(allow429 && status === 429)) found.push(`${name}: ${count} answers with status ${status}`);
  }
  if (result.errors || result.timeouts) found.push(`${name}: ${result.errors} errors, ${result.timeouts} timeouts`);
  if (bodies.wrong) found.push(`${name}: ${bodies.wrong} wrong bodies`);
  return found;
}

console.log(
  `load test: server pid ${server.pid} on ${base}; ${RUNS} one-shot runs, ${SESSION_CALLS} session calls ` +
    `(${SESSIONS} sessions), ${OVERLOAD} overload requests`,
);
const phases = [];

// 1. One-shot runs: a fresh sandbox per request (from the warm pool), 8 clients.
phases.push(
  await fire('one-shot runs', {
    connections: Math.min(8, RUNS),
    amount: RUNS,
    request: { path: '/v1/run', body: JSON.stringify({ language: 'javascript', expression: '2 + 2' }) },
    check: (body) => body.status === 'ok' && body.value === 4,
  }),
);
report(phases.at(-1));

// 2. Session calls: 4 sessions, one client each, every call increments a global.
const ids = [];
for (let i = 0; i < SESSIONS; i++) {
  const response = await fetch(`${base}/v1/sessions`, { method: 'POST', headers, body: '{"language":"javascript"}' });
  ids.push((await response.json()).id);
}
const perSession = Math.floor(SESSION_CALLS / SESSIONS);
const sessionPhases = await Promise.all(
  ids.map((id) =>
    fire('session calls', {
      connections: 1,
      amount: perSession,
      request: {
        path: `/v1/sessions/${id}/eval`,
        body: JSON.stringify({ expression: 'globalThis.n = (globalThis.n || 0) + 1' }),
      },
      check: (body) => body.status === 'ok' && typeof body.value === 'number',
    }),
  ),
);
const merged = {
  name: 'session calls',
  result: {
    requests: {
      total: sessionPhases.reduce((n, p) => n + p.result.requests.total, 0),
      average: sessionPhases.reduce((n, p) => n + p.result.requests.average, 0),
    },
    duration: Math.max(...sessionPhases.map((p) => p.result.duration)),
    latency: {
      p50: Math.max(...sessionPhases.map((p) => p.result.latency.p50)),
      p99: Math.max(...sessionPhases.map((p) => p.result.latency.p99)),
    },
    errors: sessionPhases.reduce((n, p) => n + p.result.errors, 0),
    timeouts: sessionPhases.reduce((n, p) => n + p.result.timeouts, 0),
  },
  statuses: new Map(),
  bodies: { checked: 0, wrong: 0 },
};
for (const p of sessionPhases) {
  for (const [s, n] of p.statuses) merged.statuses.set(s, (merged.statuses.get(s) ?? 0) + n);
  merged.bodies.checked += p.bodies.checked;
  merged.bodies.wrong += p.bodies.wrong;
}
phases.push(merged);
report(merged);
const lost = [];
for (const id of ids) {
  const response = await fetch(`${base}/v1/sessions/${id}/eval`, {
    method: 'POST',
    headers,
    body: '{"expression":"n"}',
  });
  const { value } = await response.json();
  if (value !== perSession) lost.push(`session ${id}: n is ${value}, expected ${perSession}`);
  await fetch(`${base}/v1/sessions/${id}`, { method: 'DELETE', headers: { authorization: headers.authorization } });
}

// 3. Overload, on purpose: 64 clients against the run cap; 429s (with Retry-After) are expected.
phases.push(
  await fire('overload', {
    connections: OVERLOAD_CLIENTS,
    amount: OVERLOAD,
    request: { path: '/v1/run', body: JSON.stringify({ language: 'javascript', expression: '2 + 2' }) },
    check: (body) => body.status === 'ok' && body.value === 4,
  }),
);
report(phases.at(-1));

// --- the end ----------------------------------------------------------------------------------
const metrics = await (await fetch(`${base}/metrics`)).text();
const gauge = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
sample();
clearInterval(sampler);
server.kill('SIGTERM');
const exitCode = await exited;

const mib = (bytes) => `${(bytes / MiB).toFixed(0)} MiB`;
const valid = samples.filter((s) => Number.isFinite(s.rss));
const at = (fraction) => valid[Math.min(valid.length - 1, Math.floor(fraction * (valid.length - 1)))];
const peak = Math.max(...valid.map((s) => s.rss));
console.log(
  `RSS (server process, sampled every second, ${valid.length} samples): start ${mib(at(0).rss)}, ` +
    `10% ${mib(at(0.1).rss)}, middle ${mib(at(0.5).rss)}, end ${mib(at(1).rss)}, peak ${mib(peak)}`,
);
console.log(
  `RSS line (MiB, every ~10% of the run): ${[0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((f) => (at(f).rss / MiB).toFixed(0)).join(' ')}`,
);
console.log(
  `after the phases: sandboxes_alive ${gauge('sandbox_http_sandboxes_alive')}, sessions_live ${gauge('sandbox_http_sessions_live')}, ` +
    `runs_in_flight ${gauge('sandbox_http_runs_in_flight')}; ${logLines} log lines; server exit code ${exitCode}`,
);

const found = [...problems(phases[0], false), ...problems(phases[1], false), ...problems(phases[2], true), ...lost];
if (exitCode !== 0) found.push(`the server exited with ${exitCode} on SIGTERM`);
if (gauge('sandbox_http_sandboxes_alive') !== 0) found.push('sandboxes still alive after every session was deleted');
// Memory must not keep climbing: the end may not be far above the level reached after warm-up.
const warmed = at(0.1).rss;
if (at(1).rss > warmed * 1.5 + 64 * MiB) found.push(`RSS grew from ${mib(warmed)} to ${mib(at(1).rss)}`);
if (found.length) {
  console.error(`load test FAILED:\n  ${found.join('\n  ')}`);
  process.exit(1);
}
console.log('load test passed: no errors other than the deliberate 429s, memory flat');

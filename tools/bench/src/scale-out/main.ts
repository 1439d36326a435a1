/**
 * Scale-out rows (`pnpm bench:scale-out`): sessions in Redis served by several replicas of
 * `component-sandbox-http` (the real bin from packages/http, separate processes), a real
 * `redis-server` (Debian's package) on a free port. Prints a Markdown table:
 *
 * - restore latency: a session written to Redis by replica A, not hot on replica B -> the first
 *   result on B (restore + call + write), beside the next call on B (hot);
 * - session evals/s with 1 and 3 replicas (and without a store, for reference): C clients, each
 *   owning one session on replica (client % replicas), evaluating in a loop for a fixed time.
 *
 * Flags: --sessions N (restore samples, default 60), --clients C (default 12), --seconds S
 * (measured time per throughput row, default 8), --language python|javascript (default python).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../../packages/http/bin/component-sandbox-http.js', import.meta.url));

const flag = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
};
const SAMPLES = Number(flag('sessions', '60'));
const CLIENTS = Number(flag('clients', '12'));
const SECONDS = Number(flag('seconds', '8'));
const LANGUAGE = flag('language', 'python');
const STATE = LANGUAGE === 'python' ? 'x = list(range(1000))\nn = 0' : 'var x = [...Array(1000).keys()]; var n = 0';
const CALL = LANGUAGE === 'python' ? 'len(x) + n' : 'x.length + n';

const children: ChildProcess[] = [];
const stopAll = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<string> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  children.push(child);
  for (let tries = 0; tries < 300; tries++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') {
      return `redis://127.0.0.1:${port}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not start');
}

async function startReplica(args: string[]): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      '--port',
      '0',
      '--default-language',
      LANGUAGE,
      '--max-sessions',
      '1000',
      '--max-queued-runs',
      '64',
      '--hot-sessions',
      '200',
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a replica exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { event?: string; port?: number };
      if (entry.event === 'listening') resolve(`http://127.0.0.1:${entry.port}`);
    });
  });
}

async function post(
  url: string,
  path: string,
  body?: object,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function session(url: string): Promise<string> {
  const created = await post(url, '/v1/sessions');
  if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const setup = await post(url, `/v1/sessions/${id}/exec`, { statements: STATE });
  if (setup.body.status !== 'ok') throw new Error(`setup: ${JSON.stringify(setup.body)}`);
  return id;
}

async function timedEval(url: string, id: string): Promise<number> {
  const started = performance.now();
  const reply = await post(url, `/v1/sessions/${id}/eval`, { expression: CALL });
  if (reply.body.status !== 'ok') throw new Error(`eval: ${JSON.stringify(reply.body)}`);
  return performance.now() - started;
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function metricMean(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (suffix: string) =>
    Number(/ (\S+)$/.exec(text.split('\n').find((l) => l.startsWith(`${name}_${suffix} `)) ?? '')?.[1] ?? NaN);
  return (read('sum') / read('count')) * 1000;
}

async function restoreLatency(redis: string) {
  const a = await startReplica(['--store', redis, '--store-prefix', 'bench-restore:', '--replica-id', 'a']);
  const b = await startReplica(['--store', redis, '--store-prefix', 'bench-restore:', '--replica-id', 'b']);
  const ids: string[] = [];
  for (let i = 0; i < SAMPLES; i++) ids.push(await session(a));
  for (let i = 0; i < 5; i++) await timedEval(b, await session(a)); // warm-up: B compiles and tiers up
  const first: number[] = [];
  const hot: number[] = [];
  for (const id of ids) {
    first.push(await timedEval(b, id));
    hot.push(await timedEval(b, id));
  }
  return {
    first,
    hot,
    restoreMs: await metricMean(b, 'sandbox_http_store_restore_duration_seconds'),
    writeMs: await metricMean(b, 'sandbox_http_store_write_duration_seconds'),
  };
}

async function throughput(replicas: string[]): Promise<{ perSecond: number; p50: number; p99: number }> {
  const ids = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => session(replicas[c % replicas.length]!)));
  const latencies: number[] = [];
  let count = 0;
  let measuring = false;
  const run = async (c: number, until: number) => {
    const url = replicas[c % replicas.length]!;
    while (performance.now() < until) {
      const took = await timedEval(url, ids[c]!);
      if (measuring) {
        count += 1;
        latencies.push(took);
      }
    }
  };
  await Promise.all(ids.map((_, c) => run(c, performance.now() + 2000))); // warm-up
  measuring = true;
  const started = performance.now();
  await Promise.all(ids.map((_, c) => run(c, started + SECONDS * 1000)));
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: count / elapsed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

async function main() {
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
    console.log('scale-out rows unavailable: redis-server is not installed (apt-get install redis-server)');
    return;
  }
  const redis = await startRedis();
  const rows: string[][] = [];
  const restore = await restoreLatency(redis);
  rows.push([
    `restore latency: session in Redis, not hot on this replica -> first result (${LANGUAGE}, ${SAMPLES} sessions)`,
    `p50 ${ms(quantile(restore.first, 0.5))}, p99 ${ms(quantile(restore.first, 0.99))}`,
    `of which restore ${ms(restore.restoreMs)} and write ${ms(restore.writeMs)} (server means); next call, hot: p50 ${ms(quantile(restore.hot, 0.5))}`,
  ]);
  stopAll();
  children.length = 0;
  const memory = await throughput([await startReplica([])]);
  stopAll();
  children.length = 0;
  const rowFor = (label: string, r: { perSecond: number; p50: number; p99: number }) => [
    label,
    `${Math.round(r.perSecond)} evals/s`,
    `p50 ${ms(r.p50)}, p99 ${ms(r.p99)}`,
  ];
  const results: string[][] = [rowFor(`session evals, no store (one process, reference), ${CLIENTS} clients`, memory)];
  for (const [count, write] of [
    [1, 'call'],
    [3, 'call'],
    [1, 'idle'],
    [3, 'idle'],
  ] as const) {
    const redisUrl = await startRedis();
    const replicas: string[] = [];
    for (let i = 0; i < count; i++) {
      const prefix = `bench-${count}-${write}:`;
      replicas.push(
        await startReplica([
          '--store',
          redisUrl,
          '--store-prefix',
          prefix,
          '--replica-id',
          `r${i}`,
          '--store-write',
          write,
        ]),
      );
    }
    const label = `session evals, Redis store (--store-write ${write}), ${count} replica${count > 1 ? 's' : ''}, ${CLIENTS} clients`;
    results.push(rowFor(label, await throughput(replicas)));
    stopAll();
    children.length = 0;
  }
  rows.push(...results);
  console.log('\n| row | result | detail |\n| --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

main().then(
  () => {
    stopAll();
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    stopAll();
    process.exit(1);
  },
);

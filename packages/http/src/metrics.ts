/**
 * Prometheus metrics (prom-client), in a registry of this server's own so that several servers
 * in one process (tests) never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'sandbox_http_';

export interface MetricSources {
  /** Live sessions (with a store: on every replica together). */
  sessionsLive: () => Promise<number>;
  /** Sessions whose sandbox this process holds. */
  sessionsHot: () => number;
  sessionsParked: () => number;
  sandboxesAlive: () => number;
  /** Warm sandboxes ready, per language with a pool. */
  poolIdle: () => Promise<Map<string, number>>;
  /** Warm sandboxes each language's pool keeps. */
  poolSize: number;
  runsInFlight: () => number;
  runsQueued: () => number;
}

export type CallKind = 'run' | 'exec' | 'eval';

export class Metrics {
  readonly registry = new Registry();
  readonly runs: Counter<'kind' | 'language' | 'status'>;
  readonly runDuration: Histogram<'kind' | 'language' | 'status'>;
  readonly rejected: Counter<'reason'>;
  readonly sessionsCreated: Counter<'language'>;
  readonly sessionsExpired: Counter;
  readonly requests: Counter<'method' | 'route' | 'status_code'>;
  readonly requestDuration: Histogram<'method' | 'route'>;
  readonly storeRestores: Counter<'language'>;
  readonly storeRestoreDuration: Histogram;
  readonly storeWriteDuration: Histogram;
  readonly leaseConflicts: Counter;

  constructor(sources: MetricSources, options: { processMetrics: boolean }) {
    const registers = [this.registry];
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.runs = new Counter({
      name: `${METRIC_PREFIX}runs_total`,
      help: 'Sandbox calls by kind (run: one-shot POST /v1/run; exec/eval: session calls), language and status.',
      labelNames: ['kind', 'language', 'status'],
      registers,
    });
    this.runDuration = new Histogram({
      name: `${METRIC_PREFIX}run_duration_seconds`,
      help: 'Wall time of sandbox calls (a one-shot run includes creating and closing its sandbox).',
      labelNames: ['kind', 'language', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.rejected = new Counter({
      name: `${METRIC_PREFIX}rejected_total`,
      help: 'Requests refused for capacity: queue_full, queue_timeout (429), session_limit (429), shutting_down (503).',
      labelNames: ['reason'],
      registers,
    });
    this.sessionsCreated = new Counter({
      name: `${METRIC_PREFIX}sessions_created_total`,
      help: 'Sessions created, by language.',
      labelNames: ['language'],
      registers,
    });
    this.sessionsExpired = new Counter({
      name: `${METRIC_PREFIX}sessions_expired_total`,
      help: 'Sessions closed because they were idle past the TTL.',
      registers,
    });
    this.requests = new Counter({
      name: `${METRIC_PREFIX}requests_total`,
      help: 'HTTP requests by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: `${METRIC_PREFIX}request_duration_seconds`,
      help: 'HTTP request duration by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.storeRestores = new Counter({
      name: `${METRIC_PREFIX}store_restores_total`,
      help: 'Sessions this replica restored from the store (it held no copy, or an older version than the newest).',
      labelNames: ['language'],
      registers,
    });
    const storeBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    this.storeRestoreDuration = new Histogram({
      name: `${METRIC_PREFIX}store_restore_duration_seconds`,
      help: 'Time to restore a session from the store: reading its snapshot and making its sandbox.',
      buckets: storeBuckets,
      registers,
    });
    this.storeWriteDuration = new Histogram({
      name: `${METRIC_PREFIX}store_write_duration_seconds`,
      help: "Time to save a session after a call: its snapshot and the store's write.",
      buckets: storeBuckets,
      registers,
    });
    this.leaseConflicts = new Counter({
      name: `${METRIC_PREFIX}lease_conflicts_total`,
      help: 'Calls refused with 409 SESSION_BUSY because another call held the session (on any replica).',
      registers,
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    new Gauge({
      name: `${METRIC_PREFIX}sessions_live`,
      help: 'Live sessions (with --store: of every replica together).',
      registers,
      async collect() {
        this.set(await sources.sessionsLive().catch(() => Number.NaN));
      },
    });
    gauge(
      'sessions_hot',
      'Sessions whose sandbox this replica holds in memory (all live sessions without --store).',
      sources.sessionsHot,
    );
    gauge('sessions_parked', 'Live sessions parked (idle: memory released, snapshot kept).', sources.sessionsParked);
    gauge(
      'sandboxes_alive',
      'Sandboxes in use (a worker thread each): one per live session plus one per one-shot run in flight.',
      sources.sandboxesAlive,
    );
    new Gauge({
      name: `${METRIC_PREFIX}pool_idle`,
      help: 'Warm sandboxes ready in the host pool, by language (default limits only).',
      labelNames: ['language'],
      registers,
      async collect() {
        this.reset();
        for (const [language, idle] of await sources.poolIdle()) this.set({ language }, idle);
      },
    });
    gauge('pool_size', 'Warm sandboxes each language pool keeps ready (--pool-size).', () => sources.poolSize);
    gauge('runs_in_flight', 'Sandbox calls running now (at most --max-concurrent-runs).', sources.runsInFlight);
    gauge('runs_queued', 'Sandbox calls waiting for a slot (at most --max-queued-runs).', sources.runsQueued);
  }

  observeRun(kind: CallKind, language: string, status: string, seconds: number): void {
    this.runs.inc({ kind, language, status });
    this.runDuration.observe({ kind, language, status }, seconds);
  }
}

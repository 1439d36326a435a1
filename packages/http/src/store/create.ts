/**
 * The session store and the per-key quotas the configuration asks for: in this process (no
 * `--store`), or in Redis, shared by every replica that names the same store.
 */
import { restoreSandbox, type Sandbox } from '@component-sandbox/host';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from '../config.js';
import { ApiError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { MemoryQuotas, type Quotas } from '../quotas/quotas.js';
import { RedisQuotas } from '../quotas/redis-quotas.js';
import type { RunLimiter } from '../run-limiter.js';
import type { Sandboxes } from '../sandboxes.js';
import { MemorySessionStore } from './memory-store.js';
import { RedisSessionStore } from './redis-store.js';
import type { RunSlot, SessionStore } from './session-store.js';

export interface StoreDependencies {
  sandboxes: Sandboxes;
  limiter: RunLimiter;
  metrics: Metrics;
  log: FastifyBaseLogger;
}

export function createStores(
  config: ServerConfig,
  { sandboxes, limiter, metrics, log }: StoreDependencies,
): { sessions: SessionStore; quotas: Quotas; slot: RunSlot } {
  const quotaLimits = { ratePerMinute: config.rateLimit, maxRunsPerKey: config.maxRunsPerKey };
  let quotas: Quotas = new MemoryQuotas(quotaLimits);
  const slot: RunSlot = (owner, work) => quotas.run(owner, () => limiter.run(work));
  const common = {
    maxSessions: config.maxSessions,
    // Without API keys every client is the same owner: only the server's cap means anything.
    maxSessionsPerOwner: config.apiKeys.length > 0 ? config.maxSessionsPerKey : config.maxSessions,
    ttlMs: config.sessionTtlMs,
    slot,
    closeSandbox: (sandbox: Sandbox) => sandboxes.close(sandbox),
    onConflict: () => metrics.leaseConflicts.inc(),
  };
  if (config.store === undefined) {
    const sessions = new MemorySessionStore({
      ...common,
      onExpire: (session) => {
        metrics.sessionsExpired.inc();
        log.info({ sessionId: session.id }, 'session expired');
      },
    });
    return { sessions, quotas, slot };
  }
  const store = new RedisSessionStore({
    ...common,
    url: config.store,
    prefix: config.storePrefix,
    replicaId: config.replicaId,
    leaseTtlMs: config.leaseTtlMs,
    leaseWaitMs: config.leaseWaitMs,
    hotSessions: config.hotSessions,
    writeMode: config.storeWrite,
    restore: async (language, limits, snapshot) => {
      const options = await sandboxes.optionsFor(language, limits);
      return sandboxes.adopt(
        () => restoreSandbox(snapshot, options),
        (message) =>
          new ApiError(
            409,
            'SESSION_INCOMPATIBLE',
            `the session was saved by a replica with another build of the ${language} guest, which this one cannot restore (${message})`,
          ),
      );
    },
    log,
    onExpire: (count) => {
      metrics.sessionsExpired.inc(count);
      log.info({ count }, 'sessions expired');
    },
    onRestore: (language, seconds) => {
      metrics.storeRestores.inc({ language });
      metrics.storeRestoreDuration.observe(seconds);
    },
    onWrite: (seconds) => metrics.storeWriteDuration.observe(seconds),
  });
  // Longest a run slot is held by a replica that died during its call.
  const slotHoldMs = config.maxTimeoutMs + config.queueTimeoutMs + 60_000;
  quotas = new RedisQuotas(quotaLimits, () => store.connection(), store.keys, slotHoldMs);
  return { sessions: store, quotas, slot };
}

/** What the routes share: configuration, auth, guests, sandboxes, sessions, limiter, metrics. */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FunctionInfo } from '@component-sandbox/host';
import type { ApiKeys } from './auth.js';
import type { ServerConfig } from './config.js';
import type { GuestRegistry } from './guests.js';
import type { Metrics } from './metrics.js';
import type { RunLimiter } from './run-limiter.js';
import type { Sandboxes } from './sandboxes.js';
import type { Schemas } from './schemas.js';
import type { Quotas } from './quotas/quotas.js';
import type { RunSlot, SessionStore } from './store/session-store.js';

export interface AppContext {
  config: ServerConfig;
  keys: ApiKeys;
  guests: GuestRegistry;
  sandboxes: Sandboxes;
  sessions: SessionStore;
  limiter: RunLimiter;
  quotas: Quotas;
  /** Sandbox work of an owner: one of its run slots (--max-runs-per-key), then one of this server's. */
  slot: RunSlot;
  metrics: Metrics;
  schemas: Schemas;
  /** The host functions of `--functions` (the module is imported once, when first asked). */
  functions: () => Promise<FunctionInfo[]>;
  state: { ready: boolean; closing: boolean };
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request: the API key's owner id (or "anonymous" without keys). */
    owner: string;
  }
  interface FastifyInstance {
    sandboxContext: AppContext;
  }
}

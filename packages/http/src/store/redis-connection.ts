/**
 * The connection to the store (ioredis): one for commands and scripts, one for pub/sub. Redis
 * being unreachable is never a hang or a stack trace: commands fail at once (no offline queue)
 * and the API answers 503 STORE_UNAVAILABLE with Retry-After.
 */
import { Redis } from 'ioredis';
import { ApiError } from '../errors.js';
import { redactedUrl as redactUrl } from '../settings.js';
import { defineScripts, type ScriptedRedis } from './redis-scripts.js';

export interface StoreLog {
  warn: (object: Record<string, unknown>, message: string) => void;
  info: (object: Record<string, unknown>, message: string) => void;
}

/** The key names, under one prefix (`--store-prefix`), so that deployments can share a Redis. */
export class StoreKeys {
  constructor(readonly prefix: string) {}
  session = (id: string) => `${this.prefix}session:${id}`;
  lease = (id: string) => `${this.prefix}lease:${id}`;
  live = () => `${this.prefix}live`;
  owner = (owner: string) => `${this.prefix}owner:${owner}`;
  rate = (owner: string) => `${this.prefix}rate:${owner}`;
  runs = (owner: string) => `${this.prefix}runs:${owner}`;
  /** Broadcast to every replica (a session was deleted: drop its hot copy). */
  events = () => `${this.prefix}events`;
  /** Messages for one replica (e.g. to the replica running a session's call). */
  replica = (replicaId: string) => `${this.prefix}replica:${replicaId}`;
}

export const storeUnavailable = (error: unknown) =>
  new ApiError(
    503,
    'STORE_UNAVAILABLE',
    `the session store cannot be reached (${(error as Error).message ?? String(error)}); try again shortly`,
    { 'Retry-After': '1' },
  );

/** Runs a store operation; a failure that is not already an API error becomes 503 STORE_UNAVAILABLE. */
export async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw storeUnavailable(error);
  }
}

export interface Connections {
  redis: ScriptedRedis;
  subscriber: Redis;
}

/** Connects both connections (throws with a clear message when Redis cannot be reached). */
export async function connect(url: string, log: StoreLog, timeoutMs = 5000): Promise<Connections> {
  const options = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    // Reconnect forever, at most a second apart: a Redis restart is a pause, not an outage.
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  };
  const redis = defineScripts(new Redis(url, options));
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
  let lastWarning = 0;
  for (const connection of [redis, subscriber]) {
    connection.on('error', (error: Error) => {
      // ioredis reports every failed reconnection; say it once in a while.
      if (Date.now() - lastWarning < 5000) return;
      lastWarning = Date.now();
      log.warn({ err: { message: error.message }, store: redactUrl(url) }, 'session store unreachable');
    });
  }
  try {
    await Promise.all([redis.connect(), subscriber.connect()]);
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    throw new Error(`cannot reach the session store ${redactUrl(url)}: ${(error as Error).message}`);
  }
  return { redis, subscriber };
}

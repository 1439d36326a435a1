/**
 * Per-API-key quotas: a rate limit on requests (`--rate-limit`, per minute) and a cap on the
 * calls one key runs at once (`--max-runs-per-key`). In this process (`MemoryQuotas`), or shared
 * by every replica through the store (`RedisQuotas`), so that a key gets the same answers
 * whichever replica a request reaches.
 */
import { ApiError } from '../errors.js';

export interface QuotaLimits {
  /** Requests per minute per key; 0: no limit. */
  ratePerMinute: number;
  /** Calls running at once per key; 0: no cap. */
  maxRunsPerKey: number;
}

export const RATE_WINDOW_MS = 60_000;

export interface Quotas {
  /** Counts one request of `owner`; throws 429 RATE_LIMITED past the limit. */
  request(owner: string): Promise<void>;
  /** Runs `work` in one of `owner`'s run slots; throws 429 TOO_MANY_RUNS (scope key) when none is free. */
  run<T>(owner: string, work: () => Promise<T>): Promise<T>;
}

export const rateLimited = (limit: number, msLeft: number) =>
  new ApiError(
    429,
    'RATE_LIMITED',
    `this API key made more than ${limit} requests in a minute (--rate-limit); try again in ${Math.max(1, Math.ceil(msLeft / 1000))} s`,
    { 'Retry-After': String(Math.max(1, Math.ceil(msLeft / 1000))) },
    { limit, windowSeconds: RATE_WINDOW_MS / 1000 },
  );

export const tooManyRunsForKey = (maximum: number) =>
  new ApiError(
    429,
    'TOO_MANY_RUNS',
    `this API key already has ${maximum} calls running (--max-runs-per-key); try again when one ends`,
    { 'Retry-After': '1' },
    { scope: 'key', maximum },
  );

export class MemoryQuotas implements Quotas {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #running = new Map<string, number>();

  constructor(
    private readonly limits: QuotaLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async request(owner: string): Promise<void> {
    const { ratePerMinute } = this.limits;
    if (ratePerMinute === 0) return;
    const now = this.now();
    let window = this.#windows.get(owner);
    if (!window || now - window.start >= RATE_WINDOW_MS) {
      window = { start: now, count: 0 };
      this.#windows.set(owner, window);
    }
    window.count += 1;
    if (window.count > ratePerMinute) throw rateLimited(ratePerMinute, window.start + RATE_WINDOW_MS - now);
    if (this.#windows.size > 10_000) {
      for (const [key, w] of this.#windows) if (now - w.start >= RATE_WINDOW_MS) this.#windows.delete(key);
    }
  }

  async run<T>(owner: string, work: () => Promise<T>): Promise<T> {
    const { maxRunsPerKey } = this.limits;
    if (maxRunsPerKey === 0) return work();
    const running = this.#running.get(owner) ?? 0;
    if (running >= maxRunsPerKey) throw tooManyRunsForKey(maxRunsPerKey);
    this.#running.set(owner, running + 1);
    try {
      return await work();
    } finally {
      const left = (this.#running.get(owner) ?? 1) - 1;
      if (left > 0) this.#running.set(owner, left);
      else this.#running.delete(owner);
    }
  }
}

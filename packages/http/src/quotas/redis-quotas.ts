/** The per-key quotas shared by every replica, in the store (one fixed-window counter, one sorted set of slots). */
import { randomBytes } from 'node:crypto';
import type { ScriptedRedis } from '../store/redis-scripts.js';
import { guarded, type StoreKeys } from '../store/redis-connection.js';
import { RATE_WINDOW_MS, rateLimited, tooManyRunsForKey, type QuotaLimits, type Quotas } from './quotas.js';

export class RedisQuotas implements Quotas {
  constructor(
    private readonly limits: QuotaLimits,
    private readonly redis: () => ScriptedRedis,
    private readonly keys: StoreKeys,
    /** Longest a slot is held if its replica dies during the call. */
    private readonly slotHoldMs: number,
  ) {}

  async request(owner: string): Promise<void> {
    const { ratePerMinute } = this.limits;
    if (ratePerMinute === 0) return;
    const [allowed, msLeft] = await guarded(() =>
      this.redis().csbRate(this.keys.rate(owner), ratePerMinute, RATE_WINDOW_MS),
    );
    if (allowed !== 1) throw rateLimited(ratePerMinute, msLeft);
  }

  async run<T>(owner: string, work: () => Promise<T>): Promise<T> {
    const { maxRunsPerKey } = this.limits;
    if (maxRunsPerKey === 0) return work();
    const token = randomBytes(9).toString('base64url');
    const key = this.keys.runs(owner);
    const taken = await guarded(() => this.redis().csbRunSlot(key, token, maxRunsPerKey, this.slotHoldMs));
    if (taken !== 1) throw tooManyRunsForKey(maxRunsPerKey);
    try {
      return await work();
    } finally {
      await this.redis()
        .zrem(key, token)
        .catch(() => {}); // the slot frees itself after slotHoldMs
    }
  }
}

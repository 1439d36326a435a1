/**
 * Live sessions: one sandbox each, owned by the API key that made it, closed after an idle TTL.
 * Looking a session up with another owner's key finds nothing (the API answers 404, never 403,
 * so ids of other keys' sessions cannot be probed).
 */
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '@component-sandbox/host';
import { ApiError } from './errors.js';
import type { Language } from './guests.js';
import type { CallLimits } from './limits.js';
import type { RunStatus } from './outcome.js';

export interface Session {
  readonly id: string;
  readonly owner: string;
  readonly language: Language;
  readonly limits: CallLimits;
  readonly sandbox: Sandbox;
  readonly createdAt: number;
  lastUsedAt: number;
  /** A call or reset is running on the session. */
  busy: boolean;
  /** Stops the running call (POST /v1/sessions/{id}/cancel); set while a call runs. */
  abort?: AbortController;
  /** Why the sandbox died (until reset). */
  death?: { status: RunStatus; message: string };
  calls: number;
}

export interface SessionStoreOptions {
  /** Live sessions, all owners together. */
  maxSessions: number;
  /** Live sessions of one owner, so that one API key cannot take every session. */
  maxSessionsPerOwner: number;
  ttlMs: number;
  /** Closes a session's sandbox (the store does not know how sandboxes are tracked). */
  closeSandbox: (sandbox: Sandbox) => Promise<void>;
  onExpire?: (session: Session) => void;
  now?: () => number;
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  /** Places held for sessions being created, by owner. */
  readonly #reserved = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(private readonly options: SessionStoreOptions) {
    this.#now = options.now ?? Date.now;
    const every = Math.min(Math.max(Math.floor(options.ttlMs / 4), 50), 10_000);
    this.#timer = setInterval(() => void this.sweep(), every);
    this.#timer.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Live sessions whose sandbox is parked. */
  get parked(): number {
    let count = 0;
    for (const session of this.#sessions.values()) if (session.sandbox.parked) count += 1;
    return count;
  }

  expiresAt(session: Session): number {
    return session.lastUsedAt + this.options.ttlMs;
  }

  /** Seconds until the soonest idle expiry among `sessions` (at least 1). */
  #retryAfter(sessions: Session[]): Record<string, string> {
    const soonest = Math.min(...sessions.map((s) => this.expiresAt(s)));
    const wait = Number.isFinite(soonest) ? Math.ceil((soonest - this.#now()) / 1000) : 1;
    return { 'Retry-After': String(Math.max(1, wait)) };
  }

  /**
   * Holds a place for `owner`'s session about to be created, or throws 429 TOO_MANY_SESSIONS
   * (the owner's own cap first, then the server's). Call `release` if creation fails, `add` if
   * it succeeds.
   */
  reserve(owner: string): void {
    const all = [...this.#sessions.values()];
    const mine = all.filter((s) => s.owner === owner);
    const reservedByOwner = this.#reserved.get(owner) ?? 0;
    if (mine.length + reservedByOwner >= this.options.maxSessionsPerOwner) {
      throw new ApiError(
        429,
        'TOO_MANY_SESSIONS',
        `this API key already has ${this.options.maxSessionsPerOwner} live sessions (--max-sessions-per-key); ` +
          'delete one or wait for one to expire',
        this.#retryAfter(mine),
        { scope: 'key', maximum: this.options.maxSessionsPerOwner },
      );
    }
    const reserved = [...this.#reserved.values()].reduce((a, b) => a + b, 0);
    if (all.length + reserved >= this.options.maxSessions) {
      throw new ApiError(
        429,
        'TOO_MANY_SESSIONS',
        `the server already has ${this.options.maxSessions} live sessions; delete one or wait for one to expire`,
        this.#retryAfter(all),
        { scope: 'server', maximum: this.options.maxSessions },
      );
    }
    this.#reserved.set(owner, reservedByOwner + 1);
  }

  release(owner: string): void {
    const left = (this.#reserved.get(owner) ?? 1) - 1;
    if (left > 0) this.#reserved.set(owner, left);
    else this.#reserved.delete(owner);
  }

  add(owner: string, language: Language, limits: CallLimits, sandbox: Sandbox): Session {
    this.release(owner);
    const now = this.#now();
    const session: Session = {
      id: `ses_${randomBytes(16).toString('base64url')}`,
      owner,
      language,
      limits,
      sandbox,
      createdAt: now,
      lastUsedAt: now,
      busy: false,
      calls: 0,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The owner's session, or 404 SESSION_NOT_FOUND (also for other owners' sessions). */
  get(id: string, owner: string): Session {
    const session = this.#sessions.get(id);
    if (!session || session.owner !== owner) {
      throw new ApiError(
        404,
        'SESSION_NOT_FOUND',
        `no session ${JSON.stringify(id.slice(0, 100))} (it may have expired)`,
      );
    }
    return session;
  }

  /** Marks the session busy for `work`; a second concurrent call gets 409 SESSION_BUSY. */
  async use<T>(session: Session, work: () => Promise<T>): Promise<T> {
    if (session.busy) {
      throw new ApiError(409, 'SESSION_BUSY', 'the session is running another call; wait for it to finish');
    }
    session.busy = true;
    session.lastUsedAt = this.#now();
    try {
      return await work();
    } finally {
      session.busy = false;
      session.lastUsedAt = this.#now();
    }
  }

  /** True while the session is live (not deleted or expired). */
  has(session: Session): boolean {
    return this.#sessions.get(session.id) === session;
  }

  async delete(session: Session): Promise<void> {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    await this.options.closeSandbox(session.sandbox);
  }

  /** Closes sessions idle past the TTL (never one with a call running). */
  async sweep(): Promise<void> {
    const now = this.#now();
    const expired = [...this.#sessions.values()].filter((s) => !s.busy && this.expiresAt(s) <= now);
    for (const session of expired) {
      this.options.onExpire?.(session);
      await this.delete(session);
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#timer);
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(all.map((s) => this.options.closeSandbox(s.sandbox)));
  }
}

/**
 * Sessions in this process (the default, no `--store`): one sandbox each, owned by the API key
 * that made it, closed after an idle TTL. Looking a session up with another owner's key finds
 * nothing (the API answers 404, never 403, so ids of other keys' sessions cannot be probed).
 * A restart loses them all.
 */
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '@component-sandbox/host';
import type { Language } from '../guests.js';
import type { CallLimits } from '../limits.js';
import {
  sessionBusy,
  sessionDead,
  sessionClosed,
  sessionNotFound,
  tooManySessions,
  type Reservation,
  type RunSlot,
  type Session,
  type SessionStore,
  type SignalHandler,
  type SignalKind,
  type Used,
  type UseOptions,
} from './session-store.js';

interface LiveSession extends Session {
  readonly sandbox: Sandbox;
}

export interface MemorySessionStoreOptions {
  /** Live sessions, all owners together. */
  maxSessions: number;
  /** Live sessions of one owner, so that one API key cannot take every session. */
  maxSessionsPerOwner: number;
  ttlMs: number;
  slot: RunSlot;
  /** Closes a session's sandbox (the store does not know how sandboxes are tracked). */
  closeSandbox: (sandbox: Sandbox) => Promise<void>;
  onExpire?: (session: Session) => void;
  /** A call found the session busy. */
  onConflict?: () => void;
  now?: () => number;
}

export const newSessionId = () => `ses_${randomBytes(16).toString('base64url')}`;

export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, LiveSession>();
  /** Places held for sessions being created, by owner. */
  readonly #reserved = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #now: () => number;
  readonly #handlers: SignalHandler[] = [];

  constructor(private readonly options: MemorySessionStoreOptions) {
    this.#now = options.now ?? Date.now;
    const every = Math.min(Math.max(Math.floor(options.ttlMs / 4), 50), 10_000);
    this.#timer = setInterval(() => void this.sweep(), every);
    this.#timer.unref();
  }

  async start(): Promise<void> {}

  async live(): Promise<number> {
    return this.#sessions.size;
  }

  readonly reachable = true;

  get parked(): number {
    let count = 0;
    for (const session of this.#sessions.values()) if (session.sandbox.parked) count += 1;
    return count;
  }

  parkedOf(session: Session): boolean {
    return (session as LiveSession).sandbox.parked;
  }

  get hot(): number {
    return this.#sessions.size;
  }

  expiresAt(session: Session): number {
    return session.lastUsedAt + this.options.ttlMs;
  }

  /** Seconds until the soonest idle expiry among `sessions` (at least 1). */
  #retryAfter(sessions: Session[]): number {
    const soonest = Math.min(...sessions.map((s) => this.expiresAt(s)));
    return Number.isFinite(soonest) ? Math.ceil((soonest - this.#now()) / 1000) : 1;
  }

  async reserve(owner: string): Promise<Reservation> {
    const all = [...this.#sessions.values()];
    const mine = all.filter((s) => s.owner === owner);
    const reservedByOwner = this.#reserved.get(owner) ?? 0;
    if (mine.length + reservedByOwner >= this.options.maxSessionsPerOwner) {
      throw tooManySessions('key', this.options, this.#retryAfter(mine));
    }
    const reserved = [...this.#reserved.values()].reduce((a, b) => a + b, 0);
    if (all.length + reserved >= this.options.maxSessions) {
      throw tooManySessions('server', this.options, this.#retryAfter(all));
    }
    this.#reserved.set(owner, reservedByOwner + 1);
    return { owner, token: '' };
  }

  async release({ owner }: Reservation): Promise<void> {
    const left = (this.#reserved.get(owner) ?? 1) - 1;
    if (left > 0) this.#reserved.set(owner, left);
    else this.#reserved.delete(owner);
  }

  async add(reservation: Reservation, language: Language, limits: CallLimits, sandbox: Sandbox): Promise<Session> {
    await this.release(reservation);
    const now = this.#now();
    const session: LiveSession = {
      id: newSessionId(),
      owner: reservation.owner,
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

  async get(id: string, owner: string): Promise<Session> {
    const session = this.#sessions.get(id);
    if (!session || session.owner !== owner) throw sessionNotFound(id);
    return session;
  }

  async use<T>(found: Session, work: (sandbox: Sandbox) => Promise<T>, options: UseOptions<T> = {}): Promise<Used<T>> {
    const session = found as LiveSession;
    if (session.busy) {
      this.options.onConflict?.();
      throw sessionBusy();
    }
    if (options.alive && (session.death || session.sandbox.state === 'dead')) {
      throw sessionDead(session.id, session.death);
    }
    session.busy = true;
    session.lastUsedAt = this.#now();
    let result: T;
    try {
      result =
        options.slot === false
          ? await work(session.sandbox)
          : await this.options.slot(session.owner, () => work(session.sandbox));
    } finally {
      session.busy = false;
      session.lastUsedAt = this.#now();
    }
    if (options.change) {
      const change = options.change(result);
      if (change.call) session.calls += 1;
      if (change.death === null) delete session.death;
      else if (change.death) session.death = change.death;
      if (this.#sessions.get(session.id) !== session) throw sessionClosed();
    }
    return { result, session };
  }

  async delete(session: Session): Promise<void> {
    const live = this.#sessions.get(session.id);
    if (!live || live !== session) return;
    this.#sessions.delete(session.id);
    await this.options.closeSandbox(live.sandbox);
  }

  async signal(session: Session, kind: SignalKind): Promise<boolean> {
    const live = this.#sessions.get(session.id);
    if (!live?.busy) return false;
    for (const handler of this.#handlers) handler(session.id, kind);
    return true;
  }

  onSignal(handler: SignalHandler): void {
    this.#handlers.push(handler);
  }

  /** Closes sessions idle past the TTL (never one with a call running). */
  async sweep(): Promise<number> {
    const now = this.#now();
    const expired = [...this.#sessions.values()].filter((s) => !s.busy && this.expiresAt(s) <= now);
    for (const session of expired) {
      this.options.onExpire?.(session);
      await this.delete(session);
    }
    return expired.length;
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#timer);
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(all.map((s) => this.options.closeSandbox(s.sandbox)));
  }
}

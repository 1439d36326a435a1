/**
 * Where sessions live, behind one interface: `MemorySessionStore` (this process only; the
 * default) and `RedisSessionStore` (`--store redis://…`: any replica serves any session). The
 * routes only see this interface: a session is a record (owner, language, limits, counters, why
 * it died), and its sandbox is reached only inside `use`, which runs one call at a time per
 * session (a second gets 409 SESSION_BUSY) and saves what the call changed.
 */
import type { Sandbox } from '@component-sandbox/host';
import { ApiError } from '../errors.js';
import type { Language } from '../guests.js';
import type { CallLimits } from '../limits.js';
import type { RunStatus } from '../outcome.js';

export interface Death {
  status: RunStatus;
  message: string;
}

/** A session as the API describes it: data only, read when the request looked it up. */
export interface Session {
  readonly id: string;
  readonly owner: string;
  readonly language: Language;
  readonly limits: CallLimits;
  readonly createdAt: number;
  lastUsedAt: number;
  /** A call or reset is running on the session (on any replica). */
  busy: boolean;
  /** Why the sandbox died (until reset). */
  death?: Death | undefined;
  calls: number;
}

/** What a call changed in the session's record (applied before the session is saved). */
export interface SessionChange {
  /** Count one more exec/eval. */
  call?: boolean;
  /** The sandbox died (a Death), or came back to life (null, after a reset). */
  death?: Death | null;
}

export interface UseOptions<T> {
  /** The work runs code: a dead session answers 409 SESSION_DEAD instead (checked under the lease). */
  alive?: boolean;
  /** Take a run slot for the work (default true; file operations run without one). */
  slot?: boolean;
  /**
   * What the work changed in the record; present for work that changes the session (a call, a
   * reset), which is then saved before `use` returns. Absent: read-only work (snapshot, fork).
   */
  change?: (result: T) => SessionChange;
}

/** The outcome of `use`: the work's result and the session as it is afterwards. */
export interface Used<T> {
  result: T;
  session: Session;
}

/** Runs sandbox work in a run slot of `owner` (the shared per-key cap, then this server's). */
export type RunSlot = <T>(owner: string, work: () => Promise<T>) => Promise<T>;

export interface SessionStore {
  /** Live sessions (with a shared store: on every replica together). */
  live(): Promise<number>;
  /** Sandboxes of sessions held in this process. */
  readonly hot: number;
  /** Live sessions whose sandbox is parked in this process. */
  readonly parked: number;
  /** The session is not in memory here: parked by the host, or (with a store) not hot on this replica. */
  parkedOf(session: Session): boolean;
  /** The store can be reached now (always, in this process). */
  readonly reachable: boolean;
  expiresAt(session: Session): number;
  /**
   * Holds a place for `owner`'s session about to be created, or throws 429 TOO_MANY_SESSIONS
   * (the owner's cap first, then the server's). `add` uses the place; `release` gives it back.
   */
  reserve(owner: string): Promise<Reservation>;
  release(reservation: Reservation): Promise<void>;
  /** A new session of the reserved owner around `sandbox` (saved before it is returned). */
  add(reservation: Reservation, language: Language, limits: CallLimits, sandbox: Sandbox): Promise<Session>;
  /** The owner's session, or 404 SESSION_NOT_FOUND (also for other owners' sessions). */
  get(id: string, owner: string): Promise<Session>;
  /**
   * Runs `work` on the session's sandbox, alone (409 SESSION_BUSY while another call runs), in a
   * run slot. With `change`, the session is saved afterwards; 409 SESSION_CLOSED if it was
   * deleted or expired meanwhile.
   */
  use<T>(session: Session, work: (sandbox: Sandbox) => Promise<T>, options?: UseOptions<T>): Promise<Used<T>>;
  delete(session: Session): Promise<void>;
  /**
   * Sends `kind` to the replica running a call of the session, wherever the request arrived
   * (the hook for cancelling a running call). Resolves true if that replica got it, false if no
   * call runs.
   */
  signal(session: Session, kind: SignalKind): Promise<boolean>;
  /** Receives the signals for calls running in this process. */
  onSignal(handler: SignalHandler): void;
  /** Connects to the store (before serving). */
  start(): Promise<void>;
  /** Closes sessions idle past the TTL; resolves to how many. */
  sweep(): Promise<number>;
  /** Shutdown: stops the timers, frees this process's sandboxes, closes connections. */
  closeAll(): Promise<void>;
}

export type SignalKind = 'cancel';
export type SignalHandler = (sessionId: string, kind: SignalKind) => void;

/** A place held for a session being created. */
export interface Reservation {
  readonly owner: string;
  readonly token: string;
}

export const sessionNotFound = (id: string) =>
  new ApiError(404, 'SESSION_NOT_FOUND', `no session ${JSON.stringify(id.slice(0, 100))} (it may have expired)`);

export const sessionBusy = () =>
  new ApiError(409, 'SESSION_BUSY', 'the session is running another call; wait for it to finish');

export const sessionClosed = () =>
  new ApiError(409, 'SESSION_CLOSED', 'the session was deleted or expired while the call ran');

export const sessionDead = (id: string, death: Death | undefined) =>
  new ApiError(
    409,
    'SESSION_DEAD',
    `the session is dead (${death?.status ?? 'crashed'}: ${death?.message ?? 'the sandbox died'}); ` +
      `POST /v1/sessions/${id}/reset to revive it`,
    {},
    { deadReason: death },
  );

export interface Caps {
  maxSessions: number;
  maxSessionsPerOwner: number;
}

/** 429 TOO_MANY_SESSIONS for the owner's cap (`key`) or the server's (`server`). */
export function tooManySessions(scope: 'key' | 'server', caps: Caps, retryAfterSeconds: number): ApiError {
  const headers = { 'Retry-After': String(Math.max(1, retryAfterSeconds)) };
  if (scope === 'key') {
    return new ApiError(
      429,
      'TOO_MANY_SESSIONS',
      `this API key already has ${caps.maxSessionsPerOwner} live sessions (--max-sessions-per-key); ` +
        'delete one or wait for one to expire',
      headers,
      { scope: 'key', maximum: caps.maxSessionsPerOwner },
    );
  }
  return new ApiError(
    429,
    'TOO_MANY_SESSIONS',
    `the server already has ${caps.maxSessions} live sessions; delete one or wait for one to expire`,
    headers,
    { scope: 'server', maximum: caps.maxSessions },
  );
}

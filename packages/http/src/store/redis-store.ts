/**
 * Sessions in Redis (`--store redis://…`): any replica serves any session.
 *
 * - A session is one hash (`session:<id>`): its record and its snapshot (the host's
 *   `sandbox.snapshot()`: changed memory blocks, globals, handles, `/tmp`), expiring with the
 *   session's TTL as a Redis expiry, owned by its API key.
 * - A call takes the session's lease (`lease:<id>`, naming this replica; renewed while the call
 *   runs, so a replica that dies frees it within `--lease-ttl`). Another replica's call meanwhile
 *   waits up to `--lease-wait`, then answers 409 SESSION_BUSY.
 * - Under the lease the replica uses its hot copy only when its version is the store's newest,
 *   else restores the snapshot; after a call that changed the session it writes the new snapshot
 *   with the next version (`--store-write call`: before the answer; `idle`: right after it).
 *   A write is accepted only from the lease holder, so a call whose lease was taken over is never
 *   kept (409 SESSION_MOVED).
 */
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '@component-sandbox/host';
import type { Redis } from 'ioredis';
import { ApiError } from '../errors.js';
import type { Language } from '../guests.js';
import type { CallLimits } from '../limits.js';
import type { RunStatus } from '../outcome.js';
import { HotSessions, type HotCopy } from './hot-sessions.js';
import { newSessionId } from './memory-store.js';
import { connect, guarded, StoreKeys, type StoreLog } from './redis-connection.js';
import type { ScriptedRedis } from './redis-scripts.js';
import {
  sessionBusy,
  sessionClosed,
  sessionDead,
  sessionNotFound,
  tooManySessions,
  type Death,
  type Reservation,
  type RunSlot,
  type Session,
  type SessionChange,
  type SessionStore,
  type SignalHandler,
  type SignalKind,
  type Used,
  type UseOptions,
} from './session-store.js';

export type WriteMode = 'call' | 'idle';

export interface RedisSessionStoreOptions {
  url: string;
  prefix: string;
  /** This replica's name: leases carry it, so signals for a session's call can reach it. */
  replicaId: string;
  maxSessions: number;
  maxSessionsPerOwner: number;
  ttlMs: number;
  leaseTtlMs: number;
  leaseWaitMs: number;
  /** Sandboxes of sessions this replica keeps (least recently used ones are closed past it). */
  hotSessions: number;
  writeMode: WriteMode;
  slot: RunSlot;
  /** A sandbox from a session's snapshot, with the session's language and limits. */
  restore: (language: Language, limits: CallLimits, snapshot: Uint8Array) => Promise<Sandbox>;
  closeSandbox: (sandbox: Sandbox) => Promise<void>;
  log: StoreLog;
  onExpire?: (count: number) => void;
  onConflict?: () => void;
  onRestore?: (language: Language, seconds: number) => void;
  onWrite?: (seconds: number) => void;
}

/** A reservation is held this long at most (a replica that dies while creating frees it then). */
const RESERVATION_MS = 60_000;

const FIELDS = [
  'owner',
  'language',
  'timeoutMs',
  'memoryLimitBytes',
  'tmpLimitBytes',
  'createdAt',
  'lastUsedAt',
  'calls',
  'deathStatus',
  'deathMessage',
] as const;

interface Lease {
  value: string;
  version: number;
  renew: NodeJS.Timeout;
}

const death = (status: string | null | undefined, message: string | null | undefined): Death | undefined =>
  status ? { status: status as RunStatus, message: message ?? '' } : undefined;

export class RedisSessionStore implements SessionStore {
  readonly #keys: StoreKeys;
  readonly #hot: HotSessions;
  readonly #handlers: SignalHandler[] = [];
  readonly #flushes = new Set<Promise<void>>();
  #redis?: ScriptedRedis;
  #subscriber?: Redis;
  #timer?: NodeJS.Timeout;
  readonly #usedAt = new Map<string, number>();

  constructor(private readonly options: RedisSessionStoreOptions) {
    this.#keys = new StoreKeys(options.prefix);
    this.#hot = new HotSessions(options.hotSessions, options.closeSandbox);
  }

  /** The command connection (after `start`), for the quotas that share it. */
  connection(): ScriptedRedis {
    return this.#r;
  }

  get keys(): StoreKeys {
    return this.#keys;
  }

  get #r(): ScriptedRedis {
    if (!this.#redis) throw new ApiError(503, 'NOT_READY', 'the server is starting');
    return this.#redis;
  }

  async start(): Promise<void> {
    const { redis, subscriber } = await connect(this.options.url, this.options.log);
    this.#redis = redis;
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, text: string) => this.#message(channel, text));
    await subscriber.subscribe(this.#keys.events(), this.#keys.replica(this.options.replicaId));
    const every = Math.min(Math.max(Math.floor(this.options.ttlMs / 4), 50), 10_000);
    this.#timer = setInterval(() => void this.sweep().catch(() => {}), every);
    this.#timer.unref();
  }

  async live(): Promise<number> {
    return guarded(() => this.#r.csbCount(this.#keys.live()));
  }

  get reachable(): boolean {
    return this.#redis?.status === 'ready';
  }

  get parked(): number {
    return this.#hot.parked;
  }

  parkedOf(session: Session): boolean {
    const copy = this.#hot.get(session.id);
    return !copy || copy.sandbox.parked;
  }

  get hot(): number {
    return this.#hot.size;
  }

  expiresAt(session: Session): number {
    return session.lastUsedAt + this.options.ttlMs;
  }

  async reserve(owner: string): Promise<Reservation> {
    const token = `pending:${randomBytes(12).toString('base64url')}`;
    const [outcome, wait] = await guarded(() =>
      this.#r.csbReserve(
        this.#keys.live(),
        this.#keys.owner(owner),
        token,
        this.options.maxSessionsPerOwner,
        this.options.maxSessions,
        RESERVATION_MS,
      ),
    );
    if (outcome === 'key' || outcome === 'server') {
      throw tooManySessions(outcome, this.options, Math.ceil(Number(wait) / 1000));
    }
    return { owner, token };
  }

  async release(reservation: Reservation): Promise<void> {
    await guarded(() =>
      this.#r.csbRelease(this.#keys.live(), this.#keys.owner(reservation.owner), reservation.token),
    ).catch(() => {}); // an unreleased place frees itself after RESERVATION_MS
  }

  async add(reservation: Reservation, language: Language, limits: CallLimits, sandbox: Sandbox): Promise<Session> {
    const id = newSessionId();
    let createdAt: number;
    try {
      const snapshot = await this.options.slot(reservation.owner, () => sandbox.snapshot());
      const started = performance.now();
      createdAt = await guarded(() =>
        this.#r.csbAdd(
          this.#keys.session(id),
          this.#keys.live(),
          this.#keys.owner(reservation.owner),
          reservation.token,
          id,
          this.options.ttlMs,
          reservation.owner,
          language,
          limits.timeoutMs,
          limits.memoryLimitBytes,
          limits.tmpLimitBytes,
          Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength),
        ),
      );
      this.options.onWrite?.((performance.now() - started) / 1000);
    } catch (error) {
      await this.options.closeSandbox(sandbox);
      throw error;
    }
    await this.#hot.put(id, sandbox, 1, false);
    this.#usedAt.set(id, Date.now());
    return {
      id,
      owner: reservation.owner,
      language,
      limits,
      createdAt,
      lastUsedAt: createdAt,
      busy: false,
      calls: 0,
    };
  }

  async get(id: string, owner: string): Promise<Session> {
    const [[, fields], [, leased]] = (await guarded(() =>
      this.#r
        .multi()
        .hmget(this.#keys.session(id), ...FIELDS)
        .exists(this.#keys.lease(id))
        .exec(),
    )) as [[unknown, (string | null)[]], [unknown, number]];
    const [
      sessionOwner,
      language,
      timeoutMs,
      memoryLimitBytes,
      tmpLimitBytes,
      createdAt,
      lastUsedAt,
      calls,
      status,
      message,
    ] = fields;
    if (sessionOwner !== owner || !language) {
      if (!sessionOwner) void this.#hot.drop(id);
      throw sessionNotFound(id);
    }
    return {
      id,
      owner,
      language: language as Language,
      limits: {
        timeoutMs: Number(timeoutMs),
        memoryLimitBytes: Number(memoryLimitBytes),
        tmpLimitBytes: Number(tmpLimitBytes),
      },
      createdAt: Number(createdAt),
      lastUsedAt: Number(lastUsedAt),
      busy: leased === 1,
      death: death(status, message),
      calls: Number(calls),
    };
  }

  async use<T>(
    session: Session,
    work: (sandbox: Sandbox) => Promise<T>,
    options: UseOptions<T> = {},
  ): Promise<Used<T>> {
    // This replica's own write of the session's last call goes first (write-when-idle mode).
    await this.#hot.get(session.id)?.flushing;
    const lease = await this.#acquire(session);
    let copy: HotCopy | undefined;
    let result: T;
    let leaseHandedOff = false;
    try {
      if (options.alive && lease.record.death) throw sessionDead(session.id, lease.record.death);
      const inSlot = <R>(run: () => Promise<R>) =>
        options.slot === false ? run() : this.options.slot(session.owner, run);
      const outcome = await inSlot(async () => {
        copy = await this.#hotCopy(session, lease.version);
        copy.inUse = true;
        const value = await work(copy.sandbox);
        if (!options.change) return { value, saved: undefined };
        const change = options.change(value);
        if (this.options.writeMode === 'idle') {
          leaseHandedOff = true;
          return { value, saved: this.#flushLater(session, lease, copy, change) };
        }
        return { value, saved: await this.#save(session, lease, copy, change) };
      });
      result = outcome.value;
      if (outcome.saved) return { result, session: outcome.saved };
    } catch (error) {
      // The work failed or could not be saved: the hot copy may be ahead of the store.
      if (options.change) await this.#hot.drop(session.id);
      if (!leaseHandedOff) await this.#end(session, lease, 'touch').catch(() => {});
      throw error;
    } finally {
      if (copy) copy.inUse = false;
      if (!leaseHandedOff) clearInterval(lease.renew);
    }
    const touched = await this.#end(session, lease, 'touch');
    return { result, session: touched ?? session };
  }

  /** Takes the session's lease, waiting up to --lease-wait for another call to end. */
  async #acquire(session: Session): Promise<Lease & { record: Session }> {
    const value = `${this.options.replicaId} ${randomBytes(9).toString('base64url')}`;
    const deadline = Date.now() + this.options.leaseWaitMs;
    const holdMs = this.options.ttlMs + this.options.leaseTtlMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const reply = await guarded(() =>
        this.#r.csbAcquire(
          this.#keys.session(session.id),
          this.#keys.lease(session.id),
          this.#keys.live(),
          this.#keys.owner(session.owner),
          session.owner,
          value,
          this.options.leaseTtlMs,
          holdMs,
          session.id,
        ),
      );
      if (reply[0] === 'missing') {
        await this.#hot.drop(session.id);
        throw sessionNotFound(session.id);
      }
      if (reply[0] === 'ok') {
        const renew = setInterval(
          () => {
            void this.#r
              .csbRenew(
                this.#keys.session(session.id),
                this.#keys.lease(session.id),
                this.#keys.live(),
                this.#keys.owner(session.owner),
                value,
                this.options.leaseTtlMs,
                holdMs,
                session.id,
              )
              .catch(() => {});
          },
          Math.max(50, Math.floor(this.options.leaseTtlMs / 3)),
        );
        renew.unref();
        const record = this.#record(session, reply);
        return { value, version: Number(reply[1]), renew, record };
      }
      if (Date.now() + delay > deadline) {
        this.options.onConflict?.();
        throw sessionBusy();
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** The session's record from a script's reply {'ok', version, lastUsedAt, calls, status, message}. */
  #record(session: Session, reply: (string | null)[]): Session {
    return {
      ...session,
      lastUsedAt: Number(reply[2]),
      calls: Number(reply[3]),
      death: death(reply[4], reply[5]),
      busy: false,
    };
  }

  /** The hot copy at `version`, restored from the store when this replica has none or an older one. */
  async #hotCopy(session: Session, version: number): Promise<HotCopy> {
    this.#usedAt.set(session.id, Date.now());
    const held = this.#hot.get(session.id);
    if (held && held.version === version) {
      this.#hot.touch(session.id);
      return held;
    }
    const started = performance.now();
    const bytes = await guarded(() => this.#r.hgetBuffer(this.#keys.session(session.id), 'snapshot'));
    if (!bytes) throw sessionNotFound(session.id);
    const sandbox = await this.options.restore(session.language, session.limits, new Uint8Array(bytes));
    this.options.onRestore?.(session.language, (performance.now() - started) / 1000);
    return this.#hot.put(session.id, sandbox, version, true);
  }

  /** Writes the call's outcome (a new version) and drops the lease; the session afterwards. */
  async #save(session: Session, lease: Lease, copy: HotCopy, change: SessionChange): Promise<Session> {
    const started = performance.now();
    // A dead sandbox has no state worth keeping: the record says it is dead; a reset revives it.
    const snapshot = copy.sandbox.state === 'ready' ? await copy.sandbox.snapshot() : undefined;
    const saved = await this.#end(session, lease, 'write', change, snapshot);
    copy.version = saved.version;
    this.options.onWrite?.((performance.now() - started) / 1000);
    return saved.session;
  }

  /** Write-when-idle: the session as the write will leave it; the write goes on after the answer. */
  #flushLater(session: Session, lease: Lease, copy: HotCopy, change: SessionChange): Session {
    const flush = this.#save(session, lease, copy, change)
      .then(
        () => {},
        async (error: unknown) => {
          this.options.log.warn(
            { sessionId: session.id, err: { message: (error as Error).message } },
            'a session write after the answer failed; the session is as its previous call left it',
          );
          await this.#hot.drop(session.id);
        },
      )
      .finally(() => {
        clearInterval(lease.renew);
        copy.flushing = undefined;
        this.#flushes.delete(flush);
      });
    copy.flushing = flush;
    this.#flushes.add(flush);
    const after: Session = { ...session, lastUsedAt: Date.now(), busy: false };
    if (change.call) after.calls += 1;
    if (change.death === null) delete after.death;
    else if (change.death) after.death = change.death;
    return after;
  }

  async #end(
    session: Session,
    lease: Lease,
    mode: 'write',
    change: SessionChange,
    snapshot: Uint8Array | undefined,
  ): Promise<{ version: number; session: Session }>;
  async #end(session: Session, lease: Lease, mode: 'touch'): Promise<Session | undefined>;
  async #end(
    session: Session,
    lease: Lease,
    mode: 'write' | 'touch',
    change: SessionChange = {},
    snapshot?: Uint8Array,
  ): Promise<{ version: number; session: Session } | Session | undefined> {
    const deathOp = change.death === null ? 'clear' : change.death ? 'set' : 'keep';
    const reply = await guarded(() =>
      this.#r.csbSave(
        this.#keys.session(session.id),
        this.#keys.lease(session.id),
        this.#keys.live(),
        this.#keys.owner(session.owner),
        lease.value,
        this.options.ttlMs,
        session.id,
        mode,
        change.call ? 1 : 0,
        deathOp,
        change.death?.status ?? '',
        change.death?.message ?? '',
        lease.version,
        snapshot ? Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength) : '',
      ),
    );
    if (mode === 'touch') return reply[0] === 'ok' ? this.#record(session, reply) : undefined;
    if (reply[0] === 'closed') throw sessionClosed();
    if (reply[0] === 'lost') {
      throw new ApiError(
        409,
        'SESSION_MOVED',
        "this call's lease expired and the session was taken over by another call; this call's changes were not kept",
      );
    }
    return { version: Number(reply[1]), session: this.#record(session, reply) };
  }

  async delete(session: Session): Promise<void> {
    const deleted = await guarded(() =>
      this.#r.csbDelete(
        this.#keys.session(session.id),
        this.#keys.live(),
        this.#keys.owner(session.owner),
        session.id,
        session.owner,
      ),
    );
    if (deleted === 1) {
      await this.#r
        .publish(this.#keys.events(), JSON.stringify({ evict: session.id, from: this.options.replicaId }))
        .catch(() => {});
    }
    const copy = this.#hot.get(session.id);
    if (copy && !copy.inUse) await this.#hot.drop(session.id);
  }

  async signal(session: Session, kind: SignalKind): Promise<boolean> {
    const holder = await guarded(() => this.#r.get(this.#keys.lease(session.id)));
    if (!holder) return false;
    const replica = holder.split(' ')[0]!;
    if (replica === this.options.replicaId) {
      this.#deliver(session.id, kind);
      return true;
    }
    const receivers = await guarded(() =>
      this.#r.publish(this.#keys.replica(replica), JSON.stringify({ signal: kind, id: session.id })),
    );
    return receivers > 0;
  }

  onSignal(handler: SignalHandler): void {
    this.#handlers.push(handler);
  }

  #deliver(id: string, kind: SignalKind): void {
    for (const handler of this.#handlers) handler(id, kind);
  }

  #message(channel: string, text: string): void {
    let message: { evict?: string; from?: string; signal?: SignalKind; id?: string };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (channel === this.#keys.events() && message.evict && message.from !== this.options.replicaId) {
      const copy = this.#hot.get(message.evict);
      if (copy && !copy.inUse && !copy.flushing) void this.#hot.drop(message.evict);
    } else if (message.signal && message.id) {
      this.#deliver(message.id, message.signal);
    }
  }

  /** Drops expired sessions from the caps (Redis expires their hashes) and idle hot copies. */
  async sweep(): Promise<number> {
    const gone = await guarded(() => this.#r.csbSweep(this.#keys.live()));
    const expired = gone.filter((member) => !member.startsWith('pending:'));
    if (expired.length > 0) this.options.onExpire?.(expired.length);
    const now = Date.now();
    for (const [id, usedAt] of this.#usedAt) {
      if (now - usedAt < this.options.ttlMs) continue;
      const copy = this.#hot.get(id);
      if (copy?.inUse || copy?.flushing) continue;
      this.#usedAt.delete(id);
      await this.#hot.drop(id);
    }
    return expired.length;
  }

  /** Shutdown: waits for writes still on their way, closes the hot copies; sessions stay in Redis. */
  async closeAll(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#flushes]);
    await this.#hot.closeAll();
    await Promise.allSettled([this.#redis?.quit(), this.#subscriber?.quit()]);
  }
}

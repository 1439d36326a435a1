/**
 * The Lua scripts of the Redis store: each step that reads and writes more than one key runs as
 * one script, so it is atomic against every other replica. Times come from the Redis server's
 * clock (TIME), never from a replica's, so replicas with skewed clocks agree on expiries.
 *
 * Keys (after the prefix): `session:<id>` a hash (record fields + `snapshot`, expiring with the
 * session's TTL), `lease:<id>` the replica running a call on it, `live` and `owner:<owner>`
 * sorted sets of session ids scored by their expiry (the session caps), `rate:<owner>` and
 * `runs:<owner>` (the shared rate limit and run slots).
 */
import type { Redis } from 'ioredis';

const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** Keeps an owner's set no longer than its last member. */
const EXPIRE_OWNER_SET = `
local function expire_set(key)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', key, math.floor(tonumber(top[2])) + 1000) end
end
`;

/** Seconds-worth of ms until the soonest member of a set expires, counting from now. */
const SOONEST = `
local function soonest(key, now)
  local first = redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if first[2] then return tostring(math.floor(tonumber(first[2]) - now)) end
  return '1000'
end
`;

export const SCRIPTS = {
  /**
   * KEYS: live, owner set. ARGV: member, max per owner, max all, hold ms.
   * -> {'ok'} | {'key'|'server', ms until the soonest expiry}
   */
  csbReserve: {
    numberOfKeys: 2,
    lua: `${NOW}${EXPIRE_OWNER_SET}${SOONEST}
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf') >= tonumber(ARGV[2]) then
  return {'key', soonest(KEYS[2], now)}
end
if redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') >= tonumber(ARGV[3]) then
  return {'server', soonest(KEYS[1], now)}
end
local expires = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], expires, ARGV[1])
redis.call('ZADD', KEYS[2], expires, ARGV[1])
expire_set(KEYS[2])
return {'ok', '0'}
`,
  },
  /** KEYS: live, owner set. ARGV: member. */
  csbRelease: {
    numberOfKeys: 2,
    lua: `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`,
  },
  /**
   * A new session, in place of its reservation.
   * KEYS: session, live, owner set. ARGV: reservation member, id, ttl ms, owner, language,
   * timeoutMs, memoryLimitBytes, tmpLimitBytes, snapshot. -> createdAt (ms)
   */
  csbAdd: {
    numberOfKeys: 3,
    lua: `${NOW}${EXPIRE_OWNER_SET}
local now = now_ms()
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'owner', ARGV[4], 'language', ARGV[5], 'timeoutMs', ARGV[6],
  'memoryLimitBytes', ARGV[7], 'tmpLimitBytes', ARGV[8], 'createdAt', now, 'lastUsedAt', now,
  'calls', 0, 'version', 1, 'snapshot', ARGV[9])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local expires = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], expires, ARGV[2])
redis.call('ZADD', KEYS[3], expires, ARGV[2])
expire_set(KEYS[3])
return now
`,
  },
  /**
   * Takes the session's lease for one call; the session's expiry is pushed past the lease's.
   * KEYS: session, lease, live, owner set. ARGV: owner, lease value, lease ms, hold ms, id.
   * -> {'missing'} | {'busy', holder} | {'ok', version, lastUsedAt, calls, deathStatus, deathMessage}
   */
  csbAcquire: {
    numberOfKeys: 4,
    lua: `${NOW}${EXPIRE_OWNER_SET}
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return {'missing'} end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return {'busy', redis.call('GET', KEYS[2]) or ''}
end
local now = now_ms()
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[4]), ARGV[5])
redis.call('ZADD', KEYS[4], 'XX', now + tonumber(ARGV[4]), ARGV[5])
expire_set(KEYS[4])
local f = redis.call('HMGET', KEYS[1], 'version', 'lastUsedAt', 'calls', 'deathStatus', 'deathMessage')
return {'ok', f[1], f[2], f[3], f[4] or '', f[5] or ''}
`,
  },
  /**
   * Keeps a lease (and the session) alive while its call runs.
   * KEYS: session, lease, live, owner set. ARGV: lease value, lease ms, hold ms, id. -> 1 | 0
   */
  csbRenew: {
    numberOfKeys: 4,
    lua: `${NOW}${EXPIRE_OWNER_SET}
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  local now = now_ms()
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[3]), ARGV[4])
  redis.call('ZADD', KEYS[4], 'XX', now + tonumber(ARGV[3]), ARGV[4])
  expire_set(KEYS[4])
end
return 1
`,
  },
  /**
   * Ends a call: saves what it changed (mode 'write': a new version, with the snapshot when
   * there is one) or only touches the session (mode 'touch'), restarts its TTL, drops the lease.
   * A lease that is no longer ours is a lost call, unless nobody holds it and nobody wrote since.
   * KEYS: session, lease, live, owner set. ARGV: lease value, ttl ms, id, mode, calls to add,
   * death ('keep' | 'clear' | 'set'), death status, death message, expected version, snapshot.
   * -> {'lost'} | {'closed'} | {'ok', version, lastUsedAt, calls, deathStatus, deathMessage}
   */
  csbSave: {
    numberOfKeys: 4,
    lua: `${NOW}${EXPIRE_OWNER_SET}
local held = redis.call('GET', KEYS[2])
if held == ARGV[1] then
  redis.call('DEL', KEYS[2])
elseif held or tonumber(redis.call('HGET', KEYS[1], 'version') or '-1') ~= tonumber(ARGV[9]) then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {'closed'} end
  return {'lost'}
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'closed'} end
local now = now_ms()
if ARGV[4] == 'write' then
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  redis.call('HINCRBY', KEYS[1], 'calls', ARGV[5])
  if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'snapshot', ARGV[10]) end
  if ARGV[6] == 'clear' then redis.call('HDEL', KEYS[1], 'deathStatus', 'deathMessage') end
  if ARGV[6] == 'set' then redis.call('HSET', KEYS[1], 'deathStatus', ARGV[7], 'deathMessage', ARGV[8]) end
end
redis.call('HSET', KEYS[1], 'lastUsedAt', now)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[2]), ARGV[3])
redis.call('ZADD', KEYS[4], 'XX', now + tonumber(ARGV[2]), ARGV[3])
expire_set(KEYS[4])
local f = redis.call('HMGET', KEYS[1], 'version', 'lastUsedAt', 'calls', 'deathStatus', 'deathMessage')
return {'ok', f[1], f[2], f[3], f[4] or '', f[5] or ''}
`,
  },
  /** KEYS: session, live, owner set. ARGV: id, owner. -> 1 deleted | 0 not this owner's */
  csbDelete: {
    numberOfKeys: 3,
    lua: `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`,
  },
  /** Drops expired members of the live set. KEYS: live. -> the members dropped */
  csbSweep: {
    numberOfKeys: 1,
    lua: `${NOW}
local now = now_ms()
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
return gone
`,
  },
  /** Live members of the live set. KEYS: live. */
  csbCount: {
    numberOfKeys: 1,
    readOnly: true,
    lua: `${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf')
`,
  },
  /**
   * One request against a fixed-window rate limit. KEYS: counter. ARGV: limit, window ms.
   * -> {1 allowed | 0 refused, ms left in the window}
   */
  csbRate: {
    numberOfKeys: 1,
    lua: `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); left = tonumber(ARGV[2]) end
if n > tonumber(ARGV[1]) then return {0, left} end
return {1, left}
`,
  },
  /**
   * Takes one of an owner's run slots (held at most `hold` ms, in case its replica dies).
   * KEYS: slots. ARGV: token, max, hold ms. -> 1 | 0
   */
  csbRunSlot: {
    numberOfKeys: 1,
    lua: `${NOW}
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`,
  },
} as const;

type Reply = (string | null)[];
type Arg = string | number | Buffer;

/** The scripts as methods of a connection (ioredis `defineCommand`). */
export interface ScriptCommands {
  csbReserve(...args: Arg[]): Promise<Reply>;
  csbRelease(...args: Arg[]): Promise<number>;
  csbAdd(...args: Arg[]): Promise<number>;
  csbAcquire(...args: Arg[]): Promise<Reply>;
  csbRenew(...args: Arg[]): Promise<number>;
  csbSave(...args: Arg[]): Promise<Reply>;
  csbDelete(...args: Arg[]): Promise<number>;
  csbSweep(...args: Arg[]): Promise<string[]>;
  csbCount(...args: Arg[]): Promise<number>;
  csbRate(...args: Arg[]): Promise<[number, number]>;
  csbRunSlot(...args: Arg[]): Promise<number>;
}

export type ScriptedRedis = Redis & ScriptCommands;

export function defineScripts(redis: Redis): ScriptedRedis {
  for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
  return redis as ScriptedRedis;
}

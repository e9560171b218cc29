import type { Redis } from 'ioredis';
import type { LeaseKind } from './lease-gate.ts';
import type {
  LeaseConsumeResult,
  LeaseIssueRequest,
  LeaseIssueResult,
  LeaseRefusal,
  LeaseStore,
} from './lease-store.ts';
import { RedisScript } from './redis-script.ts';

/*
 * Both scripts run atomically in Redis, so every instance sees one count. Time comes from
 * the Redis server (TIME and key TTLs), never from an instance's clock, so instances with
 * skewed clocks still agree on when a lease or an issuance window ends.
 */

/** KEYS: global counter, user counter, lease. ARGV: globalLimit, userLimit, issueWindowMs, userId, kind, maxRequests, windowMs. */
const ISSUE = new RedisScript(`
local function refused(key, limit)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then ttl = tonumber(ARGV[3]) end
  return {0, limit, ttl}
end
local function bump(key)
  local n = redis.call('INCR', key)
  if n == 1 or redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[3]) end
end
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return refused(KEYS[1], 'global') end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return refused(KEYS[2], 'user') end
bump(KEYS[1])
bump(KEYS[2])
local t = redis.call('TIME')
local expiresAt = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[7])
redis.call('HSET', KEYS[3], 'userId', ARGV[4], 'kind', ARGV[5], 'max', ARGV[6], 'used', 0)
redis.call('PEXPIRE', KEYS[3], ARGV[7])
return {1, 'ok', expiresAt}
`);

/** KEYS: lease. ARGV: userId, kind. A refusal changes nothing. */
const CONSUME = new RedisScript(`
local v = redis.call('HMGET', KEYS[1], 'userId', 'kind', 'max', 'used')
if not v[1] then return {0, 'unknown', 0} end
if v[1] ~= ARGV[1] or v[2] ~= ARGV[2] then return {0, 'forbidden', 0} end
local max = tonumber(v[3])
if tonumber(v[4]) >= max then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = 0 end
  return {0, 'exhausted', ttl}
end
return {1, 'ok', max - redis.call('HINCRBY', KEYS[1], 'used', 1)}
`);

/** Reads a script's `{flag, label, number}` answer. */
function reply(raw: unknown): { ok: boolean; label: string; value: number } {
  if (!Array.isArray(raw) || raw.length !== 3)
    throw new Error(`unexpected lease script reply: ${JSON.stringify(raw)}`);
  const [flag, label, value] = raw as unknown[];
  return { ok: flag === 1, label: String(label), value: Number(value) };
}

/**
 * Leases shared by every instance through Redis. Keys: `<prefix>lease:<leaseId>` (a hash
 * that expires with the lease), `<prefix>lease-issued:global` and
 * `<prefix>lease-issued:user:<userId>` (fixed-window issuance counters).
 */
export class RedisLeaseStore implements LeaseStore {
  readonly kind = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async issue(request: LeaseIssueRequest): Promise<LeaseIssueResult> {
    const r = reply(
      await ISSUE.run(
        this.redis,
        [
          `${this.prefix}lease-issued:global`,
          `${this.prefix}lease-issued:user:${request.userId}`,
          `${this.prefix}lease:${request.leaseId}`,
        ],
        [
          request.globalLimit,
          request.userLimit,
          request.issueWindowMs,
          request.userId,
          request.kind,
          request.maxRequests,
          request.windowMs,
        ],
      ),
    );
    if (r.ok) return { ok: true, expiresAtMs: r.value };
    return { ok: false, limit: r.label === 'global' ? 'global' : 'user', retryAfterMs: r.value };
  }

  async consume(leaseId: string, userId: string, kind: LeaseKind): Promise<LeaseConsumeResult> {
    const r = reply(
      await CONSUME.run(this.redis, [`${this.prefix}lease:${leaseId}`], [userId, kind]),
    );
    if (r.ok) return { ok: true, remaining: r.value };
    return { ok: false, reason: r.label as LeaseRefusal, retryAfterMs: r.value };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }
}

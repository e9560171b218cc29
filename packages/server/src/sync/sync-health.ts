import { sql, type Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { HealthCheck, HealthReport } from '@sync-engine/shared';
import type { DB } from '../db/schema.ts';
import type { OutboxCounts } from '../outbox/outbox-store.ts';

export interface SyncHealthOptions {
  readonly db: Kysely<DB>;
  /** Set when REDIS_URL is: the cache check pings it. */
  readonly redis?: Redis | undefined;
  readonly leases: { check(): Promise<HealthCheck> };
  readonly outbox: { counts(): Promise<OutboxCounts> };
  /** The realtime fan-out between instances. */
  readonly realtime?: { readonly kind: string; ping(): Promise<void> } | undefined;
  /** A check that has not answered after this long is `down`. */
  readonly timeoutMs?: number;
}

class CheckTimeout extends Error {}

async function timed<T>(work: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * `GET /sync/health`: the state of each dependency. Invariants: the report is `ok` exactly
 * when no check is `down` (the route answers 503 otherwise); the database and, when
 * configured, Redis being unreachable are `down`; dead letters make the outbox check
 * `degraded` (visible, but the service still works); each check answers within the
 * timeout, so a hung dependency cannot hang the health route.
 */
export class SyncHealthService {
  private readonly timeoutMs: number;

  constructor(private readonly opts: SyncHealthOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  async report(): Promise<HealthReport> {
    const [database, cache, leases, outbox, realtime] = await Promise.all([
      this.database(),
      this.cache(),
      timed(() => this.opts.leases.check(), this.timeoutMs).catch((err: unknown): HealthCheck => ({
        status: 'down',
        message: reason(err),
      })),
      this.outbox(),
      this.realtime(),
    ]);
    const checks = {
      database,
      cache,
      leases,
      outbox,
      ...(realtime === undefined ? {} : { realtime }),
    };
    const down = Object.values(checks).some((c) => c.status === 'down');
    return { status: down ? 'degraded' : 'ok', checks };
  }

  private async database(): Promise<HealthCheck> {
    const started = performance.now();
    try {
      await timed(() => sql`select 1`.execute(this.opts.db), this.timeoutMs);
      return { status: 'ok', latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      return { status: 'down', message: `database unreachable: ${reason(err)}` };
    }
  }

  private async cache(): Promise<HealthCheck> {
    const redis = this.opts.redis;
    if (redis === undefined) return { status: 'ok', mode: 'in-process' };
    const started = performance.now();
    try {
      await timed(() => redis.ping(), this.timeoutMs);
      return { status: 'ok', mode: 'redis', latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      return { status: 'down', mode: 'redis', message: `redis unreachable: ${reason(err)}` };
    }
  }

  private async realtime(): Promise<HealthCheck | undefined> {
    const fanOut = this.opts.realtime;
    if (fanOut === undefined) return undefined;
    try {
      await timed(() => fanOut.ping(), this.timeoutMs);
      return { status: 'ok', transport: fanOut.kind };
    } catch (err) {
      return {
        status: 'down',
        transport: fanOut.kind,
        message: `realtime fan-out unavailable: ${reason(err)}`,
      };
    }
  }

  private async outbox(): Promise<HealthCheck & Partial<OutboxCounts>> {
    try {
      const counts = await timed(() => this.opts.outbox.counts(), this.timeoutMs);
      return counts.deadLetters > 0
        ? {
            status: 'degraded',
            message: `${counts.deadLetters} event(s) in DEAD_LETTER`,
            ...counts,
          }
        : { status: 'ok', ...counts };
    } catch (err) {
      return { status: 'down', message: `outbox unreadable: ${reason(err)}` };
    }
  }
}

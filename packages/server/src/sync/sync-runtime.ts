import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { ServerConfig } from '../config/env.ts';
import type { FanOut } from '../coordination/fan-out.ts';
import { InMemoryLeaseStore } from '../coordination/in-memory-lease-store.ts';
import { InProcessFanOut } from '../coordination/in-process-fan-out.ts';
import { RedisFanOut } from '../coordination/redis-fan-out.ts';
import { RedisLeaseStore } from '../coordination/redis-lease-store.ts';
import { SyncLeaseService } from '../coordination/sync-lease-service.ts';
import type { DB } from '../db/schema.ts';
import { leaseMetricsObserver } from '../metrics/sync-metrics.ts';
import { OutboxProcessor } from '../outbox/outbox-processor.ts';
import type { OutboxSubscriber } from '../outbox/outbox-subscriber.ts';
import type { RealtimeMessage } from '../realtime/realtime-message.ts';
import { createRealtimeOutboxSubscriber } from '../realtime/realtime-outbox-subscriber.ts';
import { WebSocketBroadcaster } from '../realtime/websocket-broadcaster.ts';
import { SyncHealthService } from './sync-health.ts';

/** The Redis channel (after the key prefix) realtime events travel on between instances. */
export const REALTIME_CHANNEL = 'realtime';

export interface SyncRuntimeDeps {
  readonly config: ServerConfig;
  readonly db: Kysely<DB>;
  /** Given → leases and realtime fan-out go through Redis (multi-instance); else in-process. */
  readonly redis?: Redis | undefined;
  readonly log: FastifyBaseLogger;
  /** Outbox subscribers besides the realtime one (integrations; tests). */
  readonly outboxSubscribers?: readonly OutboxSubscriber[] | undefined;
}

/**
 * The long-lived parts of the sync engine beside the request handlers: admission-control
 * leases, the outbox processor, realtime fan-out and sockets, health. Adapters are picked
 * here and only here: Redis when a client is given, in-process otherwise.
 */
export interface SyncRuntime {
  readonly leases: SyncLeaseService;
  readonly outbox: OutboxProcessor;
  readonly broadcaster: WebSocketBroadcaster;
  readonly health: SyncHealthService;
  /** Subscribes to the fan-out and starts outbox delivery (before listening). */
  start(): Promise<void>;
  /** Stops delivery after the round in progress, closes sockets and the fan-out connection. */
  stop(): Promise<void>;
}

export function createSyncRuntime(deps: SyncRuntimeDeps): SyncRuntime {
  const { config, db, redis, log } = deps;
  // ioredis reports every failed reconnect of each connection; one line per outage is enough.
  let lastRedisErrorLog = 0;
  const onRedisError = (err: unknown) => {
    if (Date.now() - lastRedisErrorLog < 10_000) return;
    lastRedisErrorLog = Date.now();
    log.warn({ err }, 'redis connection error; retrying');
  };
  const onFanOutError = (err: unknown) => onRedisError(err);
  const fanOut: FanOut<RealtimeMessage> =
    redis === undefined
      ? new InProcessFanOut<RealtimeMessage>(onFanOutError)
      : new RedisFanOut<RealtimeMessage>(
          redis,
          config.redisKeyPrefix,
          REALTIME_CHANNEL,
          onFanOutError,
        );
  const leases = new SyncLeaseService(
    redis === undefined
      ? new InMemoryLeaseStore()
      : new RedisLeaseStore(redis, config.redisKeyPrefix),
    {
      windowMs: config.leaseWindowMs,
      maxRequests: config.leaseMaxRequests,
      globalPerMinute: config.leaseGlobalPerMinute,
      userPerMinute: config.leaseUserPerMinute,
    },
    leaseMetricsObserver,
  );
  const broadcaster = new WebSocketBroadcaster(fanOut, log);
  const outbox = new OutboxProcessor({
    db,
    subscribers: [createRealtimeOutboxSubscriber(fanOut), ...(deps.outboxSubscribers ?? [])],
    log,
    pollIntervalMs: config.outboxPollIntervalMs,
    maxAttempts: config.outboxMaxAttempts,
    backoff: { baseMs: config.outboxRetryBaseMs, maxMs: config.outboxRetryMaxMs },
  });
  const health = new SyncHealthService({ db, redis, leases, outbox, realtime: fanOut });
  redis?.on('error', onRedisError);
  let stopping: Promise<void> | undefined;
  return {
    leases,
    outbox,
    broadcaster,
    health,
    async start() {
      await broadcaster.start();
      outbox.start();
    },
    stop() {
      stopping ??= (async () => {
        await outbox.stop();
        broadcaster.stop();
        await fanOut.close();
        redis?.off('error', onRedisError);
      })();
      return stopping;
    },
  };
}

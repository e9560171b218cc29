import { randomUUID } from 'node:crypto';
import { SyncError, type HealthCheck, type LeaseGrant } from '@sync-engine/shared';
import type { LeaseGate, LeaseKind } from './lease-gate.ts';
import type { LeaseStore } from './lease-store.ts';

export interface LeaseLimits {
  /** How long a granted lease stays valid. */
  readonly windowMs: number;
  /** Requests one lease admits. */
  readonly maxRequests: number;
  /** Leases granted per minute, all users together. */
  readonly globalPerMinute: number;
  /** Leases granted per minute to one user. */
  readonly userPerMinute: number;
}

/** Lease grants and refusals, for metrics; optional. */
export interface LeaseObserver {
  granted?(kind: LeaseKind): void;
  rejected?(kind: LeaseKind, reason: string): void;
}

const ISSUE_WINDOW_MS = 60_000;
/** A refused lease that is unknown or not the caller's: get a new one, nothing to wait for. */
const MIN_RETRY_AFTER_SECONDS = 1;

const REFUSAL_MESSAGES = {
  unknown: 'The lease is unknown or has expired; request a new one',
  forbidden: 'The lease is unknown or has expired; request a new one',
  exhausted: 'The lease has no requests left; retry after its window or request a new one',
} as const;

function retryAfterSeconds(ms: number): number {
  return Math.max(MIN_RETRY_AFTER_SECONDS, Math.ceil(ms / 1000));
}

/**
 * Admission control for expensive requests (the seed's SyncLeaseService): grants leases
 * under a global and a per-user issuance limit, and admits at most `maxRequests` requests
 * per lease within its window. Every refusal is `429 RATE_LIMIT_EXCEEDED` with Retry-After;
 * another user's lease is refused like an unknown one (nothing about it leaks, nothing of it
 * is consumed). A store that cannot answer (Redis down) is `503 UNAVAILABLE`.
 */
export class SyncLeaseService implements LeaseGate {
  constructor(
    private readonly store: LeaseStore,
    private readonly limits: LeaseLimits,
    private readonly observer: LeaseObserver = {},
  ) {}

  async requestLease(userId: string, kind: LeaseKind): Promise<LeaseGrant> {
    const leaseId = randomUUID();
    const result = await this.guard(() =>
      this.store.issue({
        leaseId,
        userId,
        kind,
        windowMs: this.limits.windowMs,
        maxRequests: this.limits.maxRequests,
        globalLimit: this.limits.globalPerMinute,
        userLimit: this.limits.userPerMinute,
        issueWindowMs: ISSUE_WINDOW_MS,
      }),
    );
    if (!result.ok) {
      this.observer.rejected?.(kind, `issue_${result.limit}`);
      throw new SyncError(
        'RATE_LIMIT_EXCEEDED',
        result.limit === 'global'
          ? 'Too many leases are being granted; retry later'
          : 'Too many leases requested; retry later',
        { retryAfterSeconds: retryAfterSeconds(result.retryAfterMs) },
      );
    }
    this.observer.granted?.(kind);
    return {
      leaseId,
      kind,
      leaseWindowMs: this.limits.windowMs,
      maxRequests: this.limits.maxRequests,
      expiresAt: new Date(result.expiresAtMs).toISOString(),
    };
  }

  async consume(userId: string, leaseId: string, kind: LeaseKind): Promise<void> {
    const result = await this.guard(() => this.store.consume(leaseId, userId, kind));
    if (result.ok) return;
    this.observer.rejected?.(kind, result.reason);
    throw new SyncError('RATE_LIMIT_EXCEEDED', REFUSAL_MESSAGES[result.reason], {
      retryAfterSeconds: retryAfterSeconds(result.retryAfterMs),
    });
  }

  /** The `leases` check of /health: whether the store answers. */
  async check(): Promise<HealthCheck> {
    try {
      await this.store.ping();
      return { status: 'ok', store: this.store.kind };
    } catch (err) {
      return {
        status: 'down',
        store: this.store.kind,
        message: `lease store unreachable: ${(err as Error).message}`,
      };
    }
  }

  private async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw new SyncError('UNAVAILABLE', 'Admission control is unavailable; retry later', {
        retryAfterSeconds: 5,
        cause: err,
      });
    }
  }
}

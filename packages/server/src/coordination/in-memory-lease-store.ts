import type { LeaseKind } from './lease-gate.ts';
import type {
  LeaseConsumeResult,
  LeaseIssueRequest,
  LeaseIssueResult,
  LeaseStore,
} from './lease-store.ts';

interface Lease {
  readonly userId: string;
  readonly kind: LeaseKind;
  readonly maxRequests: number;
  readonly expiresAtMs: number;
  used: number;
}

interface WindowCounter {
  count: number;
  endsAtMs: number;
}

/** Leases of one process: right for a single instance (no REDIS_URL). */
export class InMemoryLeaseStore implements LeaseStore {
  readonly kind = 'in-process';
  private readonly leases = new Map<string, Lease>();
  private readonly counters = new Map<string, WindowCounter>();
  private nextSweepAtMs = 0;

  /** `now` is injectable so tests can move time; defaults to the wall clock. */
  constructor(private readonly now: () => number = Date.now) {}

  async issue(request: LeaseIssueRequest): Promise<LeaseIssueResult> {
    const now = this.now();
    this.sweep(now);
    // Everything below runs without an await, so it is atomic within the process.
    const global = this.counter('global', request.issueWindowMs, now);
    if (global.count >= request.globalLimit) {
      return { ok: false, limit: 'global', retryAfterMs: global.endsAtMs - now };
    }
    const user = this.counter(`user:${request.userId}`, request.issueWindowMs, now);
    if (user.count >= request.userLimit) {
      return { ok: false, limit: 'user', retryAfterMs: user.endsAtMs - now };
    }
    global.count += 1;
    user.count += 1;
    const expiresAtMs = now + request.windowMs;
    this.leases.set(request.leaseId, {
      userId: request.userId,
      kind: request.kind,
      maxRequests: request.maxRequests,
      expiresAtMs,
      used: 0,
    });
    return { ok: true, expiresAtMs };
  }

  async consume(leaseId: string, userId: string, kind: LeaseKind): Promise<LeaseConsumeResult> {
    const now = this.now();
    const lease = this.leases.get(leaseId);
    if (lease === undefined || lease.expiresAtMs <= now) {
      if (lease !== undefined) this.leases.delete(leaseId);
      return { ok: false, reason: 'unknown', retryAfterMs: 0 };
    }
    if (lease.userId !== userId || lease.kind !== kind)
      return { ok: false, reason: 'forbidden', retryAfterMs: 0 };
    if (lease.used >= lease.maxRequests) {
      return { ok: false, reason: 'exhausted', retryAfterMs: lease.expiresAtMs - now };
    }
    lease.used += 1;
    return { ok: true, remaining: lease.maxRequests - lease.used };
  }

  async ping(): Promise<void> {}

  /** The fixed-window counter `name`, restarted when its window is over. */
  private counter(name: string, windowMs: number, now: number): WindowCounter {
    let counter = this.counters.get(name);
    if (counter === undefined || counter.endsAtMs <= now) {
      counter = { count: 0, endsAtMs: now + windowMs };
      this.counters.set(name, counter);
    }
    return counter;
  }

  /** Drops expired leases and counters now and then, so memory stays bounded by live ones. */
  private sweep(now: number): void {
    if (now < this.nextSweepAtMs) return;
    this.nextSweepAtMs = now + 10_000;
    for (const [id, lease] of this.leases) if (lease.expiresAtMs <= now) this.leases.delete(id);
    for (const [name, counter] of this.counters)
      if (counter.endsAtMs <= now) this.counters.delete(name);
  }
}

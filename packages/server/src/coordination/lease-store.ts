import type { LeaseKind } from './lease-gate.ts';

/** What a lease store needs to grant one lease, under both issuance limits. */
export interface LeaseIssueRequest {
  readonly leaseId: string;
  readonly userId: string;
  readonly kind: LeaseKind;
  /** How long the lease stays valid from the moment it is granted. */
  readonly windowMs: number;
  /** Requests the lease admits. */
  readonly maxRequests: number;
  /** Leases granted per `issueWindowMs`, across all users and instances. */
  readonly globalLimit: number;
  /** Leases granted per `issueWindowMs` to this user. */
  readonly userLimit: number;
  readonly issueWindowMs: number;
}

export type LeaseIssueResult =
  | { readonly ok: true; readonly expiresAtMs: number }
  | { readonly ok: false; readonly limit: 'global' | 'user'; readonly retryAfterMs: number };

/**
 * Why a request made with a lease was refused: `unknown` — never granted, or expired;
 * `forbidden` — another user's lease, or a lease of another kind (nothing consumed);
 * `exhausted` — every request of the lease was used.
 */
export type LeaseRefusal = 'unknown' | 'forbidden' | 'exhausted';

export type LeaseConsumeResult =
  | { readonly ok: true; readonly remaining: number }
  | { readonly ok: false; readonly reason: LeaseRefusal; readonly retryAfterMs: number };

/**
 * The storage port of admission-control leases. Adapters: in-process (one instance) and
 * Redis (shared by every instance). Invariants every adapter keeps, checked by one
 * conformance suite (test/coordination/lease-store.conformance.ts):
 * - `issue` and `consume` are atomic: concurrent calls never grant more leases than the
 *   limits allow, nor admit more requests than `maxRequests`;
 * - a refused `issue` counts against no limit; a refused `consume` consumes nothing;
 * - a lease stops admitting once its window is over.
 */
export interface LeaseStore {
  readonly kind: 'in-process' | 'redis';
  issue(request: LeaseIssueRequest): Promise<LeaseIssueResult>;
  consume(leaseId: string, userId: string, kind: LeaseKind): Promise<LeaseConsumeResult>;
  /** Resolves when the store can serve requests; rejects when it cannot (health). */
  ping(): Promise<void>;
}

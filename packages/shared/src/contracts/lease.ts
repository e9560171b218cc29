import { z } from 'zod';
import { IsoTimestampSchema } from './common.ts';

export const LEASE_KINDS = ['catalog_sync', 'health_upload'] as const;
export type LeaseKind = (typeof LEASE_KINDS)[number];

/** `POST /sync/lease`: ask for admission to an expensive kind of request. */
export const LeaseRequestSchema = z.object({ kind: z.enum(LEASE_KINDS) });
export type LeaseRequest = z.infer<typeof LeaseRequestSchema>;

/** A granted lease (201): valid until `expiresAt`, for at most `maxRequests` requests. */
export const LeaseGrantSchema = z.object({
  leaseId: z.string(),
  kind: z.enum(LEASE_KINDS),
  leaseWindowMs: z.number().int().positive(),
  maxRequests: z.number().int().positive(),
  expiresAt: IsoTimestampSchema,
});
export type LeaseGrant = z.infer<typeof LeaseGrantSchema>;

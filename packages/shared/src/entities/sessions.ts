import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

export const SESSION_STATUSES = ['ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED'] as const;

/** Consumption sessions; the aggregates over their consumptions are server-derived. */
export const SESSIONS = defineEntity('sessions', {
  status: field.enumOf(SESSION_STATUSES, { default: 'ACTIVE' }),
  notes: field.text(),
  productId: field.ref('products'),
  deviceId: field.ref('devices'),
  eventCount: field.derived('integer', { default: 0 }),
  sessionStartTimestamp: field.derived('timestamp'),
  sessionEndTimestamp: field.derived('timestamp'),
  totalDurationMs: field.derived('number', { default: 0 }),
});

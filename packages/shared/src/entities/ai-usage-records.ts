import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

/** Append-only usage log: never conflicts; UPDATE/DELETE of an existing record is SKIPPED. */
export const AI_USAGE_RECORDS = defineEntity(
  'ai_usage_records',
  {
    model: field.text(),
    inputTokens: field.integer({ min: 0 }),
    outputTokens: field.integer({ min: 0 }),
    totalCost: field.number({ min: 0 }),
    timestamp: field.timestamp(),
  },
  { appendOnly: true },
);

import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

export const JOURNAL_ENTRIES = defineEntity('journal_entries', {
  content: field.text({ max: 20000 }),
  tags: field.textArray(),
  symptoms: field.textArray(),
  reactions: field.object(),
  sessionId: field.ref('sessions'),
  consumptionId: field.ref('consumptions'),
  productId: field.ref('products'),
});

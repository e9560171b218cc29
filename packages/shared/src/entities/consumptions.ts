import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

export const CONSUMPTIONS = defineEntity('consumptions', {
  timestamp: field.timestamp({ nullable: false, required: true }),
  intensity: field.integer({ min: 1, max: 10 }),
  quantity: field.number({ min: 0 }),
  notes: field.text(),
  sessionId: field.ref('sessions'),
  productId: field.ref('products'),
});

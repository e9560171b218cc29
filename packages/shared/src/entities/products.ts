import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

/** Products; `isPublic` is only honoured for the catalog user (the server coerces it). */
export const PRODUCTS = defineEntity('products', {
  name: field.text({ min: 1, max: 200, nullable: false, required: true }),
  description: field.text({ max: 5000 }),
  effects: field.textArray(),
  isPublic: field.boolean(),
});

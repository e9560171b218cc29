import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

export const INVENTORY_ITEMS = defineEntity('inventory_items', {
  quantityRemaining: field.number({ min: 0 }),
  isActive: field.boolean({ default: true }),
  productId: field.ref('products', { required: true }),
});

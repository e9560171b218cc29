import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

export const PURCHASES = defineEntity('purchases', {
  quantityPurchased: field.number({ gt: 0 }),
  price: field.number({ min: 0 }),
  purchasedAt: field.timestamp(),
  isActive: field.boolean({ default: true }),
  productId: field.ref('products', { required: true }),
});

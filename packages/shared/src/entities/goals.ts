import { defineEntity } from './define-entity.ts';
import { field } from './field.ts';

export const GOAL_STATUSES = ['ACTIVE', 'ACHIEVED', 'ABANDONED'] as const;

export const GOALS = defineEntity('goals', {
  name: field.text({ min: 1, max: 200 }),
  targetValue: field.number(),
  currentValue: field.number(),
  status: field.enumOf(GOAL_STATUSES, { default: 'ACTIVE' }),
});

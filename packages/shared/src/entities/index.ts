export * from './entity-types.ts';
export * from './field.ts';
export * from './define-entity.ts';
export * from './registry.ts';
export * from './change-data.ts';
export { SESSION_STATUSES } from './sessions.ts';
export { GOAL_STATUSES } from './goals.ts';

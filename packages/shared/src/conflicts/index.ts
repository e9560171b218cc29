export * from './strategies.ts';
export * from './field-policies.ts';
export * from './conflict-config.ts';
export * from './sync-config.ts';
export * from './entity-merger.ts';
export * from './deep-merge.ts';
export * from './custom-merges.ts';
export * from './resolve-conflict.ts';
export { jsonEquals, isPlainObject } from './json-equality.ts';

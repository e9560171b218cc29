export * from './codes.ts';
export * from './sync-error.ts';

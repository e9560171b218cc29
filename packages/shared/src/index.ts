export * from './entities/index.ts';
export * from './validation/json-value.ts';
export * from './errors/index.ts';

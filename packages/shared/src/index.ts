export * from './entities/index.ts';
export * from './validation/json-value.ts';
export * from './errors/index.ts';
export * from './conflicts/index.ts';
export * from './relations/index.ts';
export * from './cursor/index.ts';
export * from './contracts/index.ts';
export * from './observability/index.ts';

export * from './position.ts';
export * from './cursor-payload.ts';
export * from './invalid-cursor-error.ts';
export * from './cursor-codec.ts';

export * from './redaction.ts';
export * from './field-diff.ts';
export * from './health-strip.ts';

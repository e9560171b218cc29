export * from './relation-graph.ts';
export * from './id-cascade.ts';

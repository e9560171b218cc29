export * from './capture-reader.ts';
export * from './dashboard-plugin.ts';

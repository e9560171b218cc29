import { describeLocalStoreConformance } from './local-store.conformance.ts';
import { createMemoryStore } from './memory-store.ts';

describeLocalStoreConformance({ name: 'memory', open: createMemoryStore });

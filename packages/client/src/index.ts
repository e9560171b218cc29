export {
  SyncClient,
  type IdFactory,
  type SyncClientOptions,
  type SyncReport,
} from './sync-client.ts';
export { createMemoryStore } from './store/memory-store.ts';
export type {
  DeadLetter,
  EntityRow,
  IdMappingRecord,
  LocalStore,
  OutboxEntry,
  PendingBatch,
  PendingConflict,
  StoreTransaction,
} from './store/local-store.ts';
export { planIdCascade, type RowEdit } from './store/id-cascade.ts';
export {
  LocalNotFoundError,
  LocalValidationError,
  SyncClientError,
  SyncHttpError,
  SyncNetworkError,
  SyncProtocolError,
  type SyncClientErrorKind,
} from './errors.ts';
export {
  SyncTransport,
  type FetchFunction,
  type TokenProvider,
  type TransportOptions,
} from './http-transport.ts';
export {
  DEFAULT_RETRY_POLICY,
  backoffDelayMs,
  parseRetryAfter,
  type RetryPolicy,
} from './backoff.ts';
export { applyPushAnswer, type PushAnswerContext, type PushAnswerSummary } from './push-answer.ts';
export { applyPulledChanges } from './pull-apply.ts';
export { selectBatch } from './batch-selection.ts';
export { rowFromServerState } from './entity-row.ts';

import type { Migration } from 'kysely/migration';
import * as initialSchema from './0001-initial-schema.ts';
import * as capture from './0002-capture.ts';
import * as captureLz4 from './0003-capture-lz4.ts';
import * as telemetryRollups from './0004-telemetry-rollups.ts';
import * as captureMutationDocuments from './0005-capture-mutation-documents.ts';
import * as captureJsonText from './0006-capture-json-text.ts';

/**
 * Every migration, by name. A static map rather than a folder scan, so it works the same
 * under tsx, a bundler or a compiled build. Names sort in the order they run; a new
 * migration gets the next number and is never edited once committed.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial-schema': initialSchema,
  '0002-capture': capture,
  '0003-capture-lz4': captureLz4,
  '0004-telemetry-rollups': telemetryRollups,
  '0005-capture-mutation-documents': captureMutationDocuments,
  '0006-capture-json-text': captureJsonText,
});

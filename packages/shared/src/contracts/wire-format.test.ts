import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as cursor from '../cursor/index.ts';
import { ENTITY_SYNC_ORDER } from '../entities/entity-types.ts';
import { ENTITY_REGISTRY } from '../entities/registry.ts';
import * as contracts from './index.ts';
import { PROTOCOL_FINGERPRINT, PROTOCOL_VERSION } from './protocol-version.ts';

/** Every exported Zod schema of a module, by export name. */
function schemasOf(module: Record<string, unknown>): [string, z.ZodType][] {
  return Object.entries(module)
    .filter((entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType)
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Both sides of a schema: what a sender may write (input) and what a reader gets (output). */
function describeSchema(schema: z.ZodType): unknown {
  return {
    input: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
    output: z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }),
  };
}

function wireFormat() {
  return {
    protocolVersion: PROTOCOL_VERSION,
    cursorSchemaVersion: cursor.CURSOR_SCHEMA_VERSION,
    cursorTokenLayout: cursor.CURSOR_TOKEN_LAYOUT,
    cursorMaxLength: cursor.MAX_CURSOR_LENGTH,
    schemas: Object.fromEntries(
      [...schemasOf(contracts), ...schemasOf(cursor)].map(([name, schema]) => [
        name,
        describeSchema(schema),
      ]),
    ),
    // changeData is part of the wire too: an entity's fields are what clients may send.
    changeData: Object.fromEntries(
      ENTITY_SYNC_ORDER.map((type) => [
        type,
        {
          create: describeSchema(ENTITY_REGISTRY[type].createSchema),
          update: describeSchema(ENTITY_REGISTRY[type].updateSchema),
        },
      ]),
    ),
  };
}

describe('wire format', () => {
  it('pins every exported contract schema and the cursor layout', () => {
    const format = wireFormat();
    const fingerprint = bytesToHex(sha256(utf8ToBytes(JSON.stringify(format))));
    expect(
      fingerprint,
      [
        'The wire format changed (a contract or changeData schema, the cursor layout or a version).',
        'If the change is intended: bump PROTOCOL_VERSION in contracts/protocol-version.ts',
        '(and CURSOR_SCHEMA_VERSION in cursor/cursor-payload.ts when the cursor changed),',
        `then set PROTOCOL_FINGERPRINT to '${fingerprint}'.`,
        `Schemas covered: ${Object.keys(format.schemas).join(', ')}`,
      ].join('\n'),
    ).toBe(PROTOCOL_FINGERPRINT);
  });

  it('covers the request and response schemas of every route group', () => {
    const names = schemasOf(contracts).map(([name]) => name);
    for (const required of [
      'PushRequestSchema',
      'PushResultSchema',
      'PullQuerySchema',
      'PullResultSchema',
      'FullSyncRequestSchema',
      'FullSyncResultSchema',
      'ResetRequestSchema',
      'ResetResultSchema',
      'ConflictListQuerySchema',
      'ConflictListResultSchema',
      'ResolveConflictsRequestSchema',
      'ResolveConflictsResultSchema',
      'LeaseRequestSchema',
      'LeaseGrantSchema',
      'StatusQuerySchema',
      'SyncStatusSchema',
      'HealthReportSchema',
      'SyncWsEventSchema',
      'ErrorEnvelopeSchema',
      'DashboardMetricsSchema',
      'CapturedRequestListSchema',
      'CapturedRequestDetailSchema',
      'CapturedMutationListSchema',
      'DashboardConflictListSchema',
      'ConflictPatternsSchema',
      'DashboardFailureListSchema',
      'FailureGroupsSchema',
      'ReplayPreviewSchema',
      'ReplayRequestSchema',
      'ReplayResultSchema',
    ]) {
      expect(names).toContain(required);
    }
    expect(schemasOf(cursor).map(([name]) => name)).toContain('CursorPayloadSchema');
  });

  it('is deterministic', () => {
    expect(JSON.stringify(wireFormat())).toBe(JSON.stringify(wireFormat()));
  });
});

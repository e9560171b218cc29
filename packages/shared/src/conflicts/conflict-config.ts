import type { EntityType } from '../entities/entity-types.ts';
import { SESSION_STATUSES } from '../entities/sessions.ts';
import { deepFreeze } from './deep-freeze.ts';
import {
  CONFLICT_STRATEGY,
  FIELD_POLICY,
  type ConflictStrategy,
  type FieldPolicy,
} from './strategies.ts';

/** How one field is resolved in a conflict. */
export interface FieldPolicyConfig {
  readonly policy: FieldPolicy;
  /** MONOTONIC only: the states in the order they may advance, earliest first. */
  readonly transitions?: readonly string[];
}

/** How conflicts of one entity type are decided (one row of CONTRACT §3's table). */
export interface EntityConflictConfig {
  /** Decides the conflict as a whole; for fields without a policy it names the fallback. */
  readonly defaultStrategy: ConflictStrategy;
  /** Fields with their own policy; every other client field follows `defaultStrategy`. */
  readonly fieldPolicies: Readonly<Record<string, FieldPolicyConfig>>;
  /** Fields whose server value is always kept in a conflict, whatever the client sent. */
  readonly serverDerivedFields: readonly string[];
  /** A custom merge (CUSTOM_MERGES) refines the generic field-by-field merge. */
  readonly requiresCustomMerge: boolean;
  /** Append-only: never conflicts; an UPDATE/DELETE of an existing record is SKIPPED. */
  readonly conflictFree: boolean;
}

/** A conflict configuration for every entity type. */
export type EntityConflictConfigMap = Readonly<Record<EntityType, EntityConflictConfig>>;

const { MERGE, SERVER_WINS } = CONFLICT_STRATEGY;
const P = FIELD_POLICY;

/**
 * The declared conflict configuration of every entity (CONTRACT §3). Services read it;
 * they never hard-code a merge rule. journal_entries `reactions` has no field policy: its
 * deep merge is the entity's custom merge (CUSTOM_MERGES). Deep-frozen; overrides from
 * SYNC_CONFIG produce a new map (`applySyncConfig`).
 */
export const ENTITY_CONFLICT_CONFIG: EntityConflictConfigMap = deepFreeze({
  products: {
    defaultStrategy: MERGE,
    fieldPolicies: {
      name: { policy: P.LOCAL_WINS },
      description: { policy: P.LOCAL_WINS },
      effects: { policy: P.MERGE_ARRAYS },
      isPublic: { policy: P.SERVER_WINS },
    },
    serverDerivedFields: ['userId'],
    requiresCustomMerge: false,
    conflictFree: false,
  },
  devices: {
    defaultStrategy: SERVER_WINS,
    fieldPolicies: {
      deviceName: { policy: P.LOCAL_WINS },
      settings: { policy: P.LOCAL_WINS },
    },
    serverDerivedFields: ['macAddress', 'serialNumber', 'userId'],
    requiresCustomMerge: false,
    conflictFree: false,
  },
  sessions: {
    defaultStrategy: MERGE,
    fieldPolicies: {
      status: { policy: P.MONOTONIC, transitions: [...SESSION_STATUSES] },
      notes: { policy: P.LOCAL_WINS },
    },
    serverDerivedFields: [
      'eventCount',
      'totalDurationMs',
      'sessionStartTimestamp',
      'sessionEndTimestamp',
    ],
    requiresCustomMerge: false,
    conflictFree: false,
  },
  consumptions: {
    defaultStrategy: MERGE,
    fieldPolicies: {
      notes: { policy: P.LOCAL_WINS },
      intensity: { policy: P.LOCAL_WINS },
      timestamp: { policy: P.LAST_WRITE_WINS },
    },
    serverDerivedFields: ['sessionId', 'userId'],
    requiresCustomMerge: false,
    conflictFree: false,
  },
  journal_entries: {
    defaultStrategy: MERGE,
    fieldPolicies: {
      content: { policy: P.LOCAL_WINS },
      tags: { policy: P.MERGE_ARRAYS },
      symptoms: { policy: P.MERGE_ARRAYS },
    },
    serverDerivedFields: ['sessionId', 'consumptionId', 'productId'],
    requiresCustomMerge: true,
    conflictFree: false,
  },
  purchases: {
    defaultStrategy: MERGE,
    fieldPolicies: {
      quantityPurchased: { policy: P.LOCAL_WINS },
      isActive: { policy: P.LAST_WRITE_WINS },
    },
    serverDerivedFields: ['userId', 'productId'],
    requiresCustomMerge: false,
    conflictFree: false,
  },
  inventory_items: {
    defaultStrategy: MERGE,
    fieldPolicies: {
      quantityRemaining: { policy: P.MAX_VALUE },
      isActive: { policy: P.LOCAL_WINS },
    },
    serverDerivedFields: ['userId', 'productId'],
    requiresCustomMerge: false,
    conflictFree: false,
  },
  goals: {
    defaultStrategy: MERGE,
    fieldPolicies: {
      currentValue: { policy: P.MAX_VALUE },
      name: { policy: P.LOCAL_WINS },
      status: { policy: P.LAST_WRITE_WINS },
    },
    serverDerivedFields: ['userId'],
    requiresCustomMerge: false,
    conflictFree: false,
  },
  ai_usage_records: {
    defaultStrategy: SERVER_WINS,
    fieldPolicies: {},
    serverDerivedFields: ['inputTokens', 'outputTokens', 'totalCost', 'timestamp'],
    requiresCustomMerge: false,
    conflictFree: true,
  },
} satisfies Record<EntityType, EntityConflictConfig>);

/** The conflict configuration of one entity type, from `configs` (default: the declared one). */
export function getConflictConfig(
  entityType: EntityType,
  configs: EntityConflictConfigMap = ENTITY_CONFLICT_CONFIG,
): EntityConflictConfig {
  return configs[entityType];
}

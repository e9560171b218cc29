import { z } from 'zod';
import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import type { FieldKind } from '../entities/field.ts';
import { ENTITY_REGISTRY } from '../entities/registry.ts';
import { ENTITY_CONFLICT_CONFIG, type FieldPolicyConfig } from './conflict-config.ts';
import {
  CONFLICT_STRATEGIES,
  FIELD_POLICIES,
  FIELD_POLICY,
  type ConflictStrategy,
  type FieldPolicy,
} from './strategies.ts';

/** One entity's overrides in a SYNC_CONFIG file. */
export interface EntityConflictOverride {
  readonly defaultStrategy?: ConflictStrategy | undefined;
  readonly fieldPolicies?: Readonly<Record<string, FieldPolicyConfig>> | undefined;
}

/** A parsed SYNC_CONFIG file: per-entity overrides of ENTITY_CONFLICT_CONFIG. */
export interface SyncConfig {
  readonly entities?: Readonly<Partial<Record<EntityType, EntityConflictOverride>>> | undefined;
}

/** A problem at a path of the SYNC_CONFIG value. */
export type PathIssue = { readonly path: readonly PropertyKey[]; readonly message: string };

/** Zod issues with each unknown key reported at its own path (`a.b.key`, not `a.b`). */
export function expandIssues(issues: readonly z.core.$ZodIssue[]): PathIssue[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...issue.path, key], message: issue.message }))
      : [{ path: issue.path, message: issue.message }],
  );
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

const policyName = z.enum(FIELD_POLICIES);
const policyObject = z.strictObject(
  { policy: policyName, transitions: z.array(z.string().min(1)).min(1).optional() },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? 'unknown key (allowed: policy, transitions)' : undefined,
  },
);

/** Which field kinds a policy can produce a valid value for; absent = every kind. */
const POLICY_KINDS: Partial<Record<FieldPolicy, readonly FieldKind[]>> = {
  [FIELD_POLICY.MERGE_ARRAYS]: ['text[]'],
  [FIELD_POLICY.MAX_VALUE]: ['integer', 'number'],
  [FIELD_POLICY.MIN_VALUE]: ['integer', 'number'],
  [FIELD_POLICY.MONOTONIC]: ['text'],
};

/** The members of an enum field (looking through `.nullable()`), or undefined. */
function enumValuesOf(schema: z.ZodType): readonly string[] | undefined {
  const inner = schema instanceof z.ZodNullable ? (schema.unwrap() as z.ZodType) : schema;
  return inner instanceof z.ZodEnum ? (inner.options as readonly string[]) : undefined;
}

/** Fields of an entity a SYNC_CONFIG may give a policy: client fields the server does not keep. */
export function configurableFields(entityType: EntityType): string[] {
  const derived = ENTITY_CONFLICT_CONFIG[entityType].serverDerivedFields;
  return Object.entries(ENTITY_REGISTRY[entityType].fields)
    .filter(([name, spec]) => !spec.derived && !derived.includes(name))
    .map(([name]) => name);
}

function parseFieldPolicy(
  entityType: EntityType,
  field: string,
  value: unknown,
): { ok: true; value: FieldPolicyConfig } | { ok: false; issues: PathIssue[] } {
  if (
    typeof value !== 'string' &&
    (value === null || typeof value !== 'object' || Array.isArray(value))
  ) {
    return {
      ok: false,
      issues: [{ path: [], message: 'must be a field policy name or {"policy", "transitions"?}' }],
    };
  }
  const parsed =
    typeof value === 'string' ? policyName.safeParse(value) : policyObject.safeParse(value);
  if (!parsed.success) return { ok: false, issues: expandIssues(parsed.error.issues) };
  const { policy, transitions: given } =
    typeof parsed.data === 'string' ? { policy: parsed.data, transitions: undefined } : parsed.data;
  const spec = ENTITY_REGISTRY[entityType].fields[field];
  const kinds = POLICY_KINDS[policy];
  if (spec && kinds && !kinds.includes(spec.kind)) {
    return {
      ok: false,
      issues: [{ path: [], message: `${policy} does not apply to a ${spec.kind} field` }],
    };
  }
  if (policy !== FIELD_POLICY.MONOTONIC) {
    if (!given) return { ok: true, value: { policy } };
    return {
      ok: false,
      issues: [{ path: ['transitions'], message: 'transitions apply only to MONOTONIC' }],
    };
  }
  const transitions = given ?? ENTITY_CONFLICT_CONFIG[entityType].fieldPolicies[field]?.transitions;
  if (!transitions) {
    return {
      ok: false,
      issues: [
        {
          path: [],
          message: 'MONOTONIC needs "transitions" (the states in order, earliest first)',
        },
      ],
    };
  }
  const allowed = spec ? enumValuesOf(spec.schema) : undefined;
  const issues: PathIssue[] = [];
  transitions.forEach((state, i) => {
    if (transitions.indexOf(state) !== i) {
      issues.push({ path: ['transitions', i], message: `duplicate state ${state}` });
    } else if (allowed && !allowed.includes(state)) {
      issues.push({
        path: ['transitions', i],
        message: `${state} is not a ${field} value (${allowed.join(', ')})`,
      });
    }
  });
  return issues.length > 0
    ? { ok: false, issues }
    : { ok: true, value: { policy, transitions: [...transitions] } };
}

function fieldPoliciesSchema(entityType: EntityType) {
  const known = configurableFields(entityType);
  const derived = ENTITY_CONFLICT_CONFIG[entityType].serverDerivedFields;
  return z.record(z.string(), z.unknown()).transform((raw, ctx) => {
    const out: Record<string, FieldPolicyConfig> = {};
    for (const [field, value] of Object.entries(raw)) {
      if (!known.includes(field)) {
        const why =
          derived.includes(field) || ENTITY_REGISTRY[entityType].fields[field]?.derived
            ? `is server-derived in ${entityType}; its server value is always kept`
            : `unknown field of ${entityType} (configurable: ${known.join(', ')})`;
        ctx.addIssue({ code: 'custom', path: [field], message: why });
        continue;
      }
      const parsed = parseFieldPolicy(entityType, field, value);
      if (!parsed.ok) {
        for (const issue of parsed.issues) {
          ctx.addIssue({ code: 'custom', path: [field, ...issue.path], message: issue.message });
        }
        continue;
      }
      out[field] = parsed.value;
    }
    return out;
  });
}

function entityOverrideSchema(entityType: EntityType) {
  if (ENTITY_CONFLICT_CONFIG[entityType].conflictFree) {
    return z.unknown().superRefine((_value, ctx) => {
      ctx.addIssue({
        code: 'custom',
        message: `${entityType} is conflict-free (append-only); it has no conflict config to override`,
      });
    });
  }
  return z.strictObject(
    {
      defaultStrategy: z.enum(CONFLICT_STRATEGIES).optional(),
      fieldPolicies: fieldPoliciesSchema(entityType).optional(),
    },
    {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? 'unknown key (allowed: defaultStrategy, fieldPolicies)'
          : undefined,
    },
  );
}

/**
 * The schema of a SYNC_CONFIG file (CONTRACT §1): strict at every level — unknown keys,
 * entity types, fields, strategies and policies are errors — and field policies are
 * normalized to `{policy, transitions?}`. MONOTONIC without transitions reuses the declared
 * transitions of that field, if any.
 */
export const SYNC_CONFIG_SCHEMA = z.strictObject(
  {
    entities: z
      .strictObject(
        Object.fromEntries(ENTITY_SYNC_ORDER.map((t) => [t, entityOverrideSchema(t).optional()])),
        {
          error: (iss) =>
            iss.code === 'unrecognized_keys'
              ? `unknown entity type (known: ${ENTITY_SYNC_ORDER.join(', ')})`
              : undefined,
        },
      )
      .optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? 'unknown key (allowed: entities)' : undefined,
  },
) as unknown as z.ZodType<SyncConfig>;

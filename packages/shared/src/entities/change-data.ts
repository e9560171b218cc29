import type { z } from 'zod';
import { SERVER_MANAGED_FIELDS } from './define-entity.ts';
import type { EntityType } from './entity-types.ts';
import { ENTITY_REGISTRY } from './registry.ts';

export interface FieldIssue {
  /** Dotted path inside changeData, e.g. `changeData.reactions.mood`. */
  readonly field: string;
  readonly message: string;
}

export type ChangeDataResult =
  | { readonly ok: true; readonly data: Record<string, unknown> }
  | { readonly ok: false; readonly details: readonly FieldIssue[] };

const IGNORED = new Set<string>(SERVER_MANAGED_FIELDS);

/** Turns Zod issues into the contract's field-level details, rooted at `prefix`. */
export function zodIssuesToDetails(issues: readonly z.core.$ZodIssue[], prefix = ''): FieldIssue[] {
  return issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: base ? `${base}.${k}` : k, message: 'unknown field' }));
    }
    return [{ field: base || prefix || '(root)', message: issue.message }];
  });
}

/**
 * Validates a change's `changeData` for its entity and change type. Server-managed fields and
 * server-derived fields are dropped (clients never set them); unknown fields are an error,
 * never silently stored. CREATE requires the entity's required fields; UPDATE is a patch.
 */
export function parseChangeData(
  entityType: EntityType,
  changeType: 'CREATE' | 'UPDATE',
  changeData: unknown,
): ChangeDataResult {
  const def = ENTITY_REGISTRY[entityType];
  if (changeData === null || typeof changeData !== 'object' || Array.isArray(changeData)) {
    return { ok: false, details: [{ field: 'changeData', message: 'must be an object' }] };
  }
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(changeData)) {
    if (IGNORED.has(k) || def.fields[k]?.derived) continue;
    input[k] = v;
  }
  const schema = changeType === 'CREATE' ? def.createSchema : def.updateSchema;
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, data: parsed.data };
  return { ok: false, details: zodIssuesToDetails(parsed.error.issues, 'changeData') };
}

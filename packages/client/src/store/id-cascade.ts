import { getReferencingRelations, type EntityType } from '@sync-engine/shared';
import type { EntityRow } from './local-store.ts';

/** One row write of a cascade: a put (insert or replace by id) or a removal. */
export type RowEdit =
  | { readonly kind: 'put'; readonly entityType: EntityType; readonly row: EntityRow }
  | { readonly kind: 'remove'; readonly entityType: EntityType; readonly id: string };

/**
 * The row edits that move `clientId` to `serverId` over rows held as plain objects: the
 * in-memory rendering of buildIdCascadeStatements, with the same rules. Every foreign key
 * of RELATION_GRAPH naming `clientId` (children first) is rewritten; the row moves, unless
 * a row `serverId` is already local, which is then kept and the local duplicate dropped.
 * Equal ids, or nothing left to move, → no edits (so a second run changes nothing).
 */
export function planIdCascade(
  rowsOf: (entityType: EntityType) => Iterable<EntityRow>,
  getRow: (entityType: EntityType, id: string) => EntityRow | undefined,
  entityType: EntityType,
  clientId: string,
  serverId: string,
): RowEdit[] {
  if (clientId === '' || serverId === '')
    throw new TypeError('clientId and serverId must be non-empty');
  if (clientId === serverId) return [];
  const edits: RowEdit[] = [];
  for (const relation of getReferencingRelations(entityType)) {
    for (const row of rowsOf(relation.sourceEntity)) {
      if (row.data[relation.sourceField] !== clientId) continue;
      // A row may hold two keys to the same target type; the later edit must see the former.
      const pending = edits.findLast(
        (e): e is Extract<RowEdit, { kind: 'put' }> =>
          e.kind === 'put' && e.entityType === relation.sourceEntity && e.row.id === row.id,
      );
      const base = pending?.row ?? row;
      edits.push({
        kind: 'put',
        entityType: relation.sourceEntity,
        row: { ...base, data: { ...base.data, [relation.sourceField]: serverId } },
      });
    }
  }
  const local = getRow(entityType, clientId);
  if (local !== undefined) {
    if (getRow(entityType, serverId) === undefined)
      edits.push({ kind: 'put', entityType, row: { ...local, id: serverId } });
    edits.push({ kind: 'remove', entityType, id: clientId });
  }
  return edits;
}

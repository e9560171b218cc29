import { isEntityType, type EntityType } from '../entities/entity-types.ts';
import { getReferencingRelations } from './relation-graph.ts';

/** One parameterised SQLite statement (`?` placeholders, params in order). */
export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly string[];
}

/** Quotes an SQLite identifier, doubling embedded quotes. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * SQLite statements that move a client's local row from `clientId` to `serverId` and
 * rewrite every foreign key naming `clientId` (all of RELATION_GRAPH's relations targeting
 * `entityType`). Tables are named by entity type, primary keys are `id`, FK columns are the
 * relation's `sqliteColumn`.
 *
 * Invariants: running them twice changes nothing the second time; when the client already
 * holds a row with `serverId` (e.g. a device matched by MAC address and pulled before),
 * that row is kept and the local duplicate is removed instead of violating the primary key.
 * Run them in one transaction, in order; with `PRAGMA foreign_keys = ON` set
 * `PRAGMA defer_foreign_keys = ON` first, since children move before their parent does.
 * Equal ids → no statements.
 */
export function buildIdCascadeStatements(
  entityType: EntityType,
  clientId: string,
  serverId: string,
): SqlStatement[] {
  if (!isEntityType(entityType)) throw new TypeError(`unknown entity type: ${String(entityType)}`);
  if (clientId === '' || serverId === '')
    throw new TypeError('clientId and serverId must be non-empty');
  if (clientId === serverId) return [];

  // Children first: the parent's old row may be deleted below, and an ON DELETE CASCADE
  // must find nothing left that still names it.
  const statements: SqlStatement[] = getReferencingRelations(entityType).map((relation) => {
    const column = quoteIdentifier(relation.sqliteColumn);
    return {
      sql: `UPDATE ${quoteIdentifier(relation.sourceEntity)} SET ${column} = ? WHERE ${column} = ?`,
      params: [serverId, clientId],
    };
  });
  const table = quoteIdentifier(entityType);
  const id = quoteIdentifier('id');
  statements.push(
    {
      sql: `UPDATE ${table} SET ${id} = ? WHERE ${id} = ? AND NOT EXISTS (SELECT 1 FROM ${table} WHERE ${id} = ?)`,
      params: [serverId, clientId, serverId],
    },
    // Matches only when the row was not moved because the server's row is already local.
    { sql: `DELETE FROM ${table} WHERE ${id} = ?`, params: [clientId] },
  );
  return statements;
}

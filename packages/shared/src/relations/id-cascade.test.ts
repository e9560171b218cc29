/// <reference types="node" />
// eslint-disable-next-line no-restricted-imports -- tests may do I/O; purity binds the shipped source
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITY_SYNC_ORDER, type EntityType } from '../entities/entity-types.ts';
import { buildIdCascadeStatements, quoteIdentifier, type SqlStatement } from './id-cascade.ts';
import { RELATION_GRAPH } from './relation-graph.ts';

describe('buildIdCascadeStatements', () => {
  it('rewrites every FK naming a product, then moves the product row', () => {
    expect(buildIdCascadeStatements('products', 'local-1', 'srv-1')).toEqual([
      {
        sql: 'UPDATE "sessions" SET "product_id" = ? WHERE "product_id" = ?',
        params: ['srv-1', 'local-1'],
      },
      {
        sql: 'UPDATE "consumptions" SET "product_id" = ? WHERE "product_id" = ?',
        params: ['srv-1', 'local-1'],
      },
      {
        sql: 'UPDATE "journal_entries" SET "product_id" = ? WHERE "product_id" = ?',
        params: ['srv-1', 'local-1'],
      },
      {
        sql: 'UPDATE "purchases" SET "product_id" = ? WHERE "product_id" = ?',
        params: ['srv-1', 'local-1'],
      },
      {
        sql: 'UPDATE "inventory_items" SET "product_id" = ? WHERE "product_id" = ?',
        params: ['srv-1', 'local-1'],
      },
      {
        sql: 'UPDATE "products" SET "id" = ? WHERE "id" = ? AND NOT EXISTS (SELECT 1 FROM "products" WHERE "id" = ?)',
        params: ['srv-1', 'local-1', 'srv-1'],
      },
      { sql: 'DELETE FROM "products" WHERE "id" = ?', params: ['local-1'] },
    ]);
  });

  it('moves only the row of an entity nothing references', () => {
    expect(buildIdCascadeStatements('goals', 'g-local', 'g-srv').map((s) => s.sql)).toEqual([
      'UPDATE "goals" SET "id" = ? WHERE "id" = ? AND NOT EXISTS (SELECT 1 FROM "goals" WHERE "id" = ?)',
      'DELETE FROM "goals" WHERE "id" = ?',
    ]);
  });

  it('returns nothing when the ids are equal', () => {
    expect(buildIdCascadeStatements('sessions', 'same', 'same')).toEqual([]);
  });

  it('rejects unknown entity types and empty ids', () => {
    expect(() => buildIdCascadeStatements('users' as EntityType, 'a', 'b')).toThrow(TypeError);
    expect(() => buildIdCascadeStatements('goals', '', 'b')).toThrow(TypeError);
    expect(() => buildIdCascadeStatements('goals', 'a', '')).toThrow(TypeError);
  });

  it('quotes identifiers by doubling embedded quotes', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });

  it('covers every relation pointing at the entity, with ids only in params', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ENTITY_SYNC_ORDER),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        (entityType, clientId, serverId) => {
          fc.pre(clientId !== serverId);
          const statements = buildIdCascadeStatements(entityType, clientId, serverId);
          const expected = RELATION_GRAPH.filter((r) => r.targetEntity === entityType).map(
            (r) =>
              `UPDATE "${r.sourceEntity}" SET "${r.sqliteColumn}" = ? WHERE "${r.sqliteColumn}" = ?`,
          );
          expect(statements.slice(0, -2).map((s) => s.sql)).toEqual(expected);
          // Ids travel only as parameters: the SQL text is the same whatever they are.
          const reference = buildIdCascadeStatements(entityType, 'a', 'b');
          expect(statements.map((s) => s.sql)).toEqual(reference.map((s) => s.sql));
          for (const s of statements) {
            expect(s.sql.split('?').length - 1).toBe(s.params.length);
            expect(s.params.every((p) => p === clientId || p === serverId)).toBe(true);
          }
        },
      ),
    );
  });
});

// The client's real store is SQLite; when the sqlite3 shell is installed, run the statements
// on it (parameters inlined as literals, which the shell cannot bind positionally).
const hasSqlite = (() => {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function inline(statement: SqlStatement): string {
  let i = 0;
  return (
    statement.sql.replace(/\?/g, () => `'${(statement.params[i++] ?? '').replaceAll("'", "''")}'`) +
    ';'
  );
}

const SCHEMA = `
PRAGMA foreign_keys = ON;
CREATE TABLE products (id TEXT PRIMARY KEY, name TEXT);
CREATE TABLE devices (id TEXT PRIMARY KEY);
CREATE TABLE sessions (id TEXT PRIMARY KEY, product_id TEXT REFERENCES products(id) ON DELETE CASCADE, device_id TEXT REFERENCES devices(id));
CREATE TABLE consumptions (id TEXT PRIMARY KEY, session_id TEXT REFERENCES sessions(id), product_id TEXT REFERENCES products(id));
CREATE TABLE journal_entries (id TEXT PRIMARY KEY, session_id TEXT, consumption_id TEXT, product_id TEXT REFERENCES products(id));
CREATE TABLE purchases (id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id));
CREATE TABLE inventory_items (id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id));
`;

function runSqlite(script: string): string {
  return execFileSync('sqlite3', [':memory:'], { input: script, encoding: 'utf8' }).trim();
}

describe.skipIf(!hasSqlite)('buildIdCascadeStatements on SQLite', () => {
  const cascade = (clientId: string, serverId: string) =>
    buildIdCascadeStatements('products', clientId, serverId).map(inline).join('\n');
  const report = `
SELECT 'products', group_concat(id || ':' || name, ',') FROM (SELECT * FROM products ORDER BY id);
SELECT 'refs', (SELECT product_id FROM sessions), (SELECT product_id FROM consumptions), (SELECT product_id FROM journal_entries), (SELECT product_id FROM purchases), (SELECT product_id FROM inventory_items);
PRAGMA foreign_key_check;`;
  const seed = `
INSERT INTO products VALUES ('p-local', 'Local');
INSERT INTO sessions VALUES ('s1', 'p-local', NULL);
INSERT INTO consumptions VALUES ('c1', 's1', 'p-local');
INSERT INTO journal_entries VALUES ('j1', 's1', 'c1', 'p-local');
INSERT INTO purchases VALUES ('b1', 'p-local');
INSERT INTO inventory_items VALUES ('i1', 'p-local');`;

  it('moves the row and every FK in one deferred transaction, and is idempotent', () => {
    const steps = `BEGIN; PRAGMA defer_foreign_keys = ON;\n${cascade('p-local', "p'srv")}\nCOMMIT;`;
    const out = runSqlite(`${SCHEMA}${seed}\n${steps}\n${steps}\n${report}`);
    expect(out.split('\n')).toEqual(["products|p'srv:Local", "refs|p'srv|p'srv|p'srv|p'srv|p'srv"]);
  });

  it('keeps an already-local server row and drops the duplicate without cascading deletes', () => {
    const steps = `BEGIN; PRAGMA defer_foreign_keys = ON;\n${cascade('p-local', 'p-srv')}\nCOMMIT;`;
    const out = runSqlite(
      `${SCHEMA}INSERT INTO products VALUES ('p-srv', 'Pulled');${seed}\n${steps}\n${report}`,
    );
    expect(out.split('\n')).toEqual([
      'products|p-srv:Pulled',
      'refs|p-srv|p-srv|p-srv|p-srv|p-srv',
    ]);
  });
});

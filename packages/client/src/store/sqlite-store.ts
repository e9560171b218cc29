import Database from 'better-sqlite3';
import {
  ENTITY_SYNC_ORDER,
  buildIdCascadeStatements,
  getForeignKeyRelations,
  quoteIdentifier,
  type EntityType,
} from '@sync-engine/shared';
import { SyncClientError } from '../errors.ts';
import type {
  DeadLetter,
  EntityRow,
  IdMappingRecord,
  LocalStore,
  OutboxEntry,
  PendingConflict,
  StoreTransaction,
} from './local-store.ts';

/*
 * The SQLite adapter (better-sqlite3, an optional peer dependency: only this file imports
 * it, and only the `@sync-engine/client/sqlite` entry point loads this file).
 *
 * One table per entity type, named by the type, primary key `id`, one column per foreign
 * key named by the relation's `sqliteColumn`: exactly the layout buildIdCascadeStatements
 * targets, so an id remap runs those very statements. The other fields live in a JSON
 * column. Foreign keys are not enforced: an offline store legitimately names parents it
 * has not pulled yet, and tombstones stay as rows.
 */

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' (default). Ignored when `database` is given. */
  readonly filename?: string;
  /** An open better-sqlite3 database to use (the store closes it on close()). */
  readonly database?: Database.Database;
}

interface RowRecord {
  id: string;
  version: number;
  deleted_at: string | null;
  updated_at: string | null;
  data: string;
  [fkColumn: string]: unknown;
}

const t = quoteIdentifier;

function schemaSql(): string {
  const tables = ENTITY_SYNC_ORDER.map((type) => {
    const fks = getForeignKeyRelations(type);
    const columns = [
      'id TEXT PRIMARY KEY NOT NULL',
      'version INTEGER NOT NULL',
      'deleted_at TEXT',
      'updated_at TEXT',
      'data TEXT NOT NULL',
    ];
    for (const fk of fks) columns.push(`${t(fk.sqliteColumn)} TEXT`);
    // An index per FK column keeps a cascade from scanning whole tables.
    const indexes = fks.map(
      (fk) =>
        `CREATE INDEX IF NOT EXISTS ${t(`${type}_${fk.sqliteColumn}_idx`)} ON ${t(type)} (${t(fk.sqliteColumn)});`,
    );
    return [`CREATE TABLE IF NOT EXISTS ${t(type)} (${columns.join(', ')});`, ...indexes].join(
      '\n',
    );
  });
  return `
${tables.join('\n')}
CREATE TABLE IF NOT EXISTS sync_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL UNIQUE, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_dead_letters (request_id TEXT PRIMARY KEY NOT NULL, letter TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_conflicts (conflict_id TEXT PRIMARY KEY NOT NULL, conflict TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_id_map (entity_type TEXT NOT NULL, client_id TEXT NOT NULL, server_id TEXT NOT NULL, PRIMARY KEY (entity_type, client_id));
CREATE TABLE IF NOT EXISTS sync_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
`;
}

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

class SqliteStore implements LocalStore {
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  constructor(private readonly db: Database.Database) {
    db.pragma('journal_mode = WAL');
    db.exec(schemaSql());
  }

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private toRow(type: EntityType, record: RowRecord): EntityRow {
    const data = parseJson<Record<string, unknown>>(record.data);
    for (const fk of getForeignKeyRelations(type))
      data[fk.sourceField] = record[fk.sqliteColumn] ?? null;
    return {
      id: record.id,
      version: record.version,
      deletedAt: record.deleted_at,
      updatedAt: record.updated_at,
      data,
    };
  }

  private readonly tx: StoreTransaction = {
    getRow: (type, id) => {
      const record = this.stmt(`SELECT * FROM ${t(type)} WHERE id = ?`).get(id) as
        RowRecord | undefined;
      return record === undefined ? undefined : this.toRow(type, record);
    },
    listRows: (type) =>
      (this.stmt(`SELECT * FROM ${t(type)} ORDER BY id`).all() as RowRecord[]).map((r) =>
        this.toRow(type, r),
      ),
    putRow: (type, row) => {
      const fks = getForeignKeyRelations(type);
      const data: Record<string, unknown> = { ...row.data };
      for (const fk of fks) delete data[fk.sourceField];
      const columns = [
        'id',
        'version',
        'deleted_at',
        'updated_at',
        'data',
        ...fks.map((fk) => fk.sqliteColumn),
      ];
      const values = [row.id, row.version, row.deletedAt, row.updatedAt, JSON.stringify(data)];
      for (const fk of fks) {
        const value = row.data[fk.sourceField];
        values.push(typeof value === 'string' ? value : null);
      }
      this.stmt(
        `INSERT OR REPLACE INTO ${t(type)} (${columns.map(t).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      ).run(...values);
    },
    removeRow: (type, id) => void this.stmt(`DELETE FROM ${t(type)} WHERE id = ?`).run(id),
    remapId: (type, clientId, serverId) => {
      for (const statement of buildIdCascadeStatements(type, clientId, serverId)) {
        this.stmt(statement.sql).run(...statement.params);
      }
    },

    listOutbox: () =>
      (this.stmt('SELECT entry FROM sync_outbox ORDER BY seq').all() as { entry: string }[]).map(
        (r) => parseJson<OutboxEntry>(r.entry),
      ),
    putOutbox: (entry) =>
      void this.stmt(
        'INSERT INTO sync_outbox (request_id, entry) VALUES (?, ?) ON CONFLICT (request_id) DO UPDATE SET entry = excluded.entry',
      ).run(entry.requestId, JSON.stringify(entry)),
    removeOutbox: (requestId) =>
      void this.stmt('DELETE FROM sync_outbox WHERE request_id = ?').run(requestId),

    listDeadLetters: () =>
      (
        this.stmt('SELECT letter FROM sync_dead_letters ORDER BY rowid').all() as {
          letter: string;
        }[]
      ).map((r) => parseJson<DeadLetter>(r.letter)),
    putDeadLetter: (letter) =>
      void this.stmt(
        'INSERT OR REPLACE INTO sync_dead_letters (request_id, letter) VALUES (?, ?)',
      ).run(letter.entry.requestId, JSON.stringify(letter)),
    removeDeadLetter: (requestId) =>
      void this.stmt('DELETE FROM sync_dead_letters WHERE request_id = ?').run(requestId),

    listConflicts: () =>
      (
        this.stmt('SELECT conflict FROM sync_conflicts ORDER BY rowid').all() as {
          conflict: string;
        }[]
      ).map((r) => parseJson<PendingConflict>(r.conflict)),
    putConflict: (conflict) =>
      void this.stmt(
        'INSERT OR REPLACE INTO sync_conflicts (conflict_id, conflict) VALUES (?, ?)',
      ).run(conflict.conflictId, JSON.stringify(conflict)),
    removeConflict: (conflictId) =>
      void this.stmt('DELETE FROM sync_conflicts WHERE conflict_id = ?').run(conflictId),

    getIdMapping: (type, clientId) =>
      (
        this.stmt('SELECT server_id FROM sync_id_map WHERE entity_type = ? AND client_id = ?').get(
          type,
          clientId,
        ) as { server_id: string } | undefined
      )?.server_id,
    putIdMapping: (mapping: IdMappingRecord) =>
      void this.stmt(
        'INSERT OR REPLACE INTO sync_id_map (entity_type, client_id, server_id) VALUES (?, ?, ?)',
      ).run(mapping.entityType, mapping.clientId, mapping.serverId),
    listIdMappings: () =>
      (
        this.stmt(
          'SELECT entity_type, client_id, server_id FROM sync_id_map ORDER BY rowid',
        ).all() as {
          entity_type: EntityType;
          client_id: string;
          server_id: string;
        }[]
      ).map((r) => ({ entityType: r.entity_type, clientId: r.client_id, serverId: r.server_id })),

    getMeta: (key) =>
      (
        this.stmt('SELECT value FROM sync_meta WHERE key = ?').get(key) as
          { value: string } | undefined
      )?.value,
    setMeta: (key, value) =>
      void (value === null
        ? this.stmt('DELETE FROM sync_meta WHERE key = ?').run(key)
        : this.stmt('INSERT OR REPLACE INTO sync_meta (key, value) VALUES (?, ?)').run(key, value)),
  };

  async transaction<T>(fn: (tx: StoreTransaction) => T): Promise<T> {
    if (this.closed) throw new SyncClientError('CLOSED', 'the store is closed');
    // IMMEDIATE: take the write lock up front, so two processes on one file queue instead
    // of failing halfway with SQLITE_BUSY on their first write.
    return this.db.transaction(() => fn(this.tx)).immediate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/** A LocalStore in SQLite: a file that survives restarts, or ':memory:'. */
export function createSqliteStore(options: SqliteStoreOptions = {}): LocalStore {
  return new SqliteStore(options.database ?? new Database(options.filename ?? ':memory:'));
}

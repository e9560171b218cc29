import pg from 'pg';

/**
 * PostgreSQL type OIDs whose JavaScript representation we pin, so that both drivers
 * (node-postgres and PGlite) hand the rest of the server identical values.
 */
export const PG_TYPE_OID = {
  INT8: 20,
  NUMERIC: 1700,
  XID8: 5069,
} as const;

/**
 * int8/bigint stays a decimal string: sequence numbers and fencing tokens can exceed 2^53,
 * and PGlite would otherwise return a number below 2^53 and a bigint above it.
 */
function parseInt8(value: string): string {
  return value;
}

/** numeric becomes a number (we store no money; aggregates like avg() are numeric). */
function parseNumeric(value: string): number {
  return Number(value);
}

/** Parsers for PGlite, which accepts overrides per OID (its defaults differ from node-postgres). */
export const PGLITE_PARSERS: Readonly<Record<number, (value: string) => unknown>> = Object.freeze({
  [PG_TYPE_OID.INT8]: parseInt8,
  [PG_TYPE_OID.NUMERIC]: parseNumeric,
  // xid8 and timestamptz already come back as a string and a Date.
});

type GetTypeParser = pg.CustomTypesConfig['getTypeParser'];

/**
 * node-postgres type configuration scoped to one pool (never the process-wide `pg.types`,
 * which would silently change every other pg user in the process).
 *
 * node-postgres already returns int8 and xid8 as strings and timestamptz as Date; int8 is
 * pinned anyway (so a changed global default cannot leak in) and numeric becomes a number.
 */
const getTypeParser: GetTypeParser = (oid, format) => {
  const typeOid: number = oid;
  if (format !== 'binary') {
    if (typeOid === PG_TYPE_OID.NUMERIC) return parseNumeric;
    if (typeOid === PG_TYPE_OID.INT8) return parseInt8;
  }
  const builtIn: unknown = pg.types.getTypeParser(oid, format);
  return builtIn;
};

export const NODE_POSTGRES_TYPES: pg.CustomTypesConfig = { getTypeParser };

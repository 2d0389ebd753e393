import type { SqlDialect } from '../../services/sql/connection.js';

/**
 * The few places where smppd's SQL differs between MySQL/MariaDB, PostgreSQL and SQLite, in one
 * file so the statements elsewhere stay written once.
 *
 * SQLite (one node, see sole-node.ts): PostgreSQL's ON CONFLICT upserts (SQLite ≥ 3.24), `?`
 * markers, no row locks: a transaction there starts with BEGIN IMMEDIATE, which holds the one
 * write lock of the whole file until COMMIT, so `FOR UPDATE` has nothing to add.
 */

/** The bind marker for value `n` (1-based): `$n` on PostgreSQL, `?` elsewhere. */
export const mark = (d: SqlDialect, n: number): string => (d === 'pgsql' ? `$${n}` : '?');

/** `?` markers become `$1`.. on PostgreSQL (the statements have no `?` of their own). */
export function binds(d: SqlDialect, text: string): string {
  if (d !== 'pgsql') return text;
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** An INSERT of `values` (a `(?, ?), ...` list) that skips rows whose unique key exists. */
export function insertIgnore(d: SqlDialect, table: string, cols: string, values: string): string {
  return d === 'mysql'
    ? `INSERT IGNORE INTO ${table} (${cols}) VALUES ${values}`
    : `INSERT INTO ${table} (${cols}) VALUES ${values} ON CONFLICT DO NOTHING`;
}

/** An INSERT that updates `update` columns of the row with the same `key` instead. */
export function upsert(
  d: SqlDialect,
  table: string,
  cols: readonly string[],
  key: readonly string[],
  update: readonly string[],
): string {
  const head = `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => mark(d, i + 1)).join(', ')})`;
  return d === 'mysql'
    ? `${head} ON DUPLICATE KEY UPDATE ${update.map((c) => `${c} = VALUES(${c})`).join(', ')}`
    : `${head} ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}

/** The row lock of a SELECT inside a transaction (`skipLocked`: other nodes' locked rows are passed over). */
export function forUpdate(d: SqlDialect, skipLocked = false): string {
  if (d === 'sqlite') return '';
  return skipLocked ? ' FOR UPDATE SKIP LOCKED' : ' FOR UPDATE';
}

/** An auto-numbered primary key column. */
export function serialKey(d: SqlDialect, name: string): string {
  return {
    mysql: `${name} BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY`,
    pgsql: `${name} BIGSERIAL PRIMARY KEY`,
    // AUTOINCREMENT: an ID is never reused after its row is deleted (a ledger or queue row's ID is a reference).
    sqlite: `${name} INTEGER PRIMARY KEY AUTOINCREMENT`,
  }[d];
}

/** The type of a floating-point column. */
export const doubleType = (d: SqlDialect): string =>
  d === 'mysql' ? 'DOUBLE' : d === 'pgsql' ? 'DOUBLE PRECISION' : 'REAL';

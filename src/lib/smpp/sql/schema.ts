/**
 * KSMPPD's account and route tables (smpp_user, smpp_route, smpp_version; spec section 2) at its
 * schema version 4, for MySQL/MariaDB and PostgreSQL, plus our columns: `enabled` (bind allowed),
 * `message_id_format` / `message_id_length` (hex or decimal IDs), and a password column wide
 * enough for scrypt hashes. Our additions are recorded as component `smsgate` in smpp_version,
 * beside KSMPPD's own `ksmppd` row, so KSMPPD's migrations (driven by its row) never see them.
 *
 * Deviations from KSMPPD's DDL, all compatible: the NOT NULL columns without a default
 * (default_cost, simulate_*_every) get DEFAULT 0, so KSMPPD's documented
 * `INSERT INTO smpp_user (system_id, password) VALUES (...)` works in strict SQL modes too; and
 * utf8mb4 instead of latin1. smpp_store and smpp_queued_pdu (KSMPPD's queues) are not created:
 * we do not use them and KSMPPD creates them itself when it starts.
 */
import type { SqlConnection, SqlDialect } from '../../services/sql/connection.js';
import type { KsmppdTables } from '../config.js';
import { mark } from './dialect.js';

/** KSMPPD's schema version (v2 connect_allow_ip, v3 source_regex, v4 priority). */
export const KSMPPD_VERSION = 4;
/** Ours: 1 = enabled, message_id_format, message_id_length, password varchar(255). */
export const SMSGATE_VERSION = 1;

/** scrypt$16384$8$1$<24>$<44> is 86 characters; KSMPPD's varchar(64) holds only PASSWORD() hashes. */
export const PASSWORD_WIDTH = 255;

const ix = (table: string, what: string): string => `${table}_${what}`;

function mysqlDdl(t: KsmppdTables): string[] {
  const tail = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4';
  return [
    `CREATE TABLE ${t.user} (
  system_id varchar(15) NOT NULL,
  password varchar(${PASSWORD_WIDTH}) NOT NULL,
  throughput double(10,5) NOT NULL DEFAULT '0.00000',
  default_smsc varchar(64) DEFAULT NULL,
  default_cost double NOT NULL DEFAULT '0',
  enable_prepaid_billing int(10) unsigned NOT NULL DEFAULT '0',
  credit double NOT NULL DEFAULT '0',
  callback_url varchar(255) DEFAULT NULL,
  simulate tinyint(1) NOT NULL DEFAULT '0',
  simulate_deliver_every int(10) unsigned NOT NULL DEFAULT '0',
  simulate_permanent_failure_every int(10) unsigned NOT NULL DEFAULT '0',
  simulate_temporary_failure_every int(10) unsigned NOT NULL DEFAULT '0',
  simulate_mo_every int(10) unsigned NOT NULL DEFAULT '0',
  max_binds int(10) unsigned NOT NULL DEFAULT '0',
  connect_allow_ip text,
  enabled tinyint(1) NOT NULL DEFAULT '1',
  message_id_format varchar(16) DEFAULT NULL,
  message_id_length int DEFAULT NULL,
  PRIMARY KEY (system_id)
) ${tail}`,
    `CREATE TABLE ${t.route} (
  route_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  direction int(11) NOT NULL,
  regex text,
  cost double DEFAULT NULL,
  system_id varchar(64) DEFAULT NULL,
  smsc_id varchar(64) DEFAULT NULL,
  source_regex text,
  priority int DEFAULT '0',
  PRIMARY KEY (route_id),
  KEY ${ix(t.route, 'direction')} (direction),
  KEY ${ix(t.route, 'system_id')} (system_id),
  KEY ${ix(t.route, 'smsc_id')} (smsc_id)
) ${tail}`,
    `CREATE TABLE ${t.version} (
  component varchar(54) NOT NULL,
  version int unsigned NOT NULL,
  PRIMARY KEY (component)
) ${tail}`,
  ];
}

function pgsqlDdl(t: KsmppdTables): string[] {
  const every = (n: string) => `${n} integer NOT NULL DEFAULT 0 CHECK (${n} >= 0)`;
  return [
    `CREATE TABLE ${t.user} (
  system_id varchar(15) NOT NULL PRIMARY KEY,
  password varchar(${PASSWORD_WIDTH}) NOT NULL,
  throughput double precision NOT NULL DEFAULT 0,
  default_smsc varchar(64) DEFAULT NULL,
  default_cost double precision NOT NULL DEFAULT 0,
  ${every('enable_prepaid_billing')},
  credit double precision NOT NULL DEFAULT 0,
  callback_url varchar(255) DEFAULT NULL,
  simulate smallint NOT NULL DEFAULT 0,
  ${every('simulate_deliver_every')},
  ${every('simulate_permanent_failure_every')},
  ${every('simulate_temporary_failure_every')},
  ${every('simulate_mo_every')},
  ${every('max_binds')},
  connect_allow_ip text,
  enabled smallint NOT NULL DEFAULT 1,
  message_id_format varchar(16) DEFAULT NULL,
  message_id_length integer DEFAULT NULL
)`,
    `CREATE TABLE ${t.route} (
  route_id bigserial PRIMARY KEY,
  direction integer NOT NULL,
  regex text,
  cost double precision DEFAULT NULL,
  system_id varchar(64) DEFAULT NULL,
  smsc_id varchar(64) DEFAULT NULL,
  source_regex text,
  priority integer DEFAULT 0
)`,
    `CREATE INDEX ${ix(t.route, 'direction')} ON ${t.route} (direction)`,
    `CREATE INDEX ${ix(t.route, 'system_id')} ON ${t.route} (system_id)`,
    `CREATE INDEX ${ix(t.route, 'smsc_id')} ON ${t.route} (smsc_id)`,
    `CREATE TABLE ${t.version} (
  component varchar(54) NOT NULL PRIMARY KEY,
  version integer NOT NULL CHECK (version >= 0)
)`,
  ];
}

/** SQLite's: its own type names hold the lengths (`varchar(255)`, read back by tableColumns). */
function sqliteDdl(t: KsmppdTables): string[] {
  const every = (n: string) => `${n} INTEGER NOT NULL DEFAULT 0 CHECK (${n} >= 0)`;
  return [
    `CREATE TABLE ${t.user} (
  system_id varchar(15) NOT NULL PRIMARY KEY,
  password varchar(${PASSWORD_WIDTH}) NOT NULL,
  throughput REAL NOT NULL DEFAULT 0,
  default_smsc varchar(64) DEFAULT NULL,
  default_cost REAL NOT NULL DEFAULT 0,
  ${every('enable_prepaid_billing')},
  credit REAL NOT NULL DEFAULT 0,
  callback_url varchar(255) DEFAULT NULL,
  simulate INTEGER NOT NULL DEFAULT 0,
  ${every('simulate_deliver_every')},
  ${every('simulate_permanent_failure_every')},
  ${every('simulate_temporary_failure_every')},
  ${every('simulate_mo_every')},
  ${every('max_binds')},
  connect_allow_ip TEXT,
  enabled INTEGER NOT NULL DEFAULT 1,
  message_id_format varchar(16) DEFAULT NULL,
  message_id_length INTEGER DEFAULT NULL
)`,
    `CREATE TABLE ${t.route} (
  route_id INTEGER PRIMARY KEY AUTOINCREMENT,
  direction INTEGER NOT NULL,
  regex TEXT,
  cost REAL DEFAULT NULL,
  system_id varchar(64) DEFAULT NULL,
  smsc_id varchar(64) DEFAULT NULL,
  source_regex TEXT,
  priority INTEGER DEFAULT 0
)`,
    `CREATE INDEX ${ix(t.route, 'direction')} ON ${t.route} (direction)`,
    `CREATE INDEX ${ix(t.route, 'system_id')} ON ${t.route} (system_id)`,
    `CREATE INDEX ${ix(t.route, 'smsc_id')} ON ${t.route} (smsc_id)`,
    `CREATE TABLE ${t.version} (
  component varchar(54) NOT NULL PRIMARY KEY,
  version INTEGER NOT NULL CHECK (version >= 0)
)`,
  ];
}

export interface ColumnInfo {
  /** Lower-case name → maximum character length (undefined for non-character types). */
  columns: Map<string, number | undefined>;
}

/** The columns of `table` in the connected database (empty: no such table). */
export async function tableColumns(
  conn: SqlConnection,
  table: string,
): Promise<Map<string, number | undefined>> {
  if (conn.dialect === 'sqlite') {
    // No information_schema: the declared type carries the length (`varchar(255)`).
    const r = await conn.query('SELECT name, type FROM pragma_table_info(?)', [table]);
    return new Map(
      r.rows.map(([name, type]) => {
        const len = /\((\d+)\)/.exec(String(type))?.[1];
        return [String(name).toLowerCase(), len === undefined ? undefined : Number(len)];
      }),
    );
  }
  const schema = conn.dialect === 'mysql' ? 'DATABASE()' : 'current_schema()';
  const r = await conn.query(
    `SELECT column_name, character_maximum_length FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ${placeholder(conn.dialect, 1)}`,
    [table],
  );
  const out = new Map<string, number | undefined>();
  for (const [name, len] of r.rows)
    out.set(String(name).toLowerCase(), len == null ? undefined : Number(len));
  return out;
}

export const placeholder = (dialect: SqlDialect, n: number): string => mark(dialect, n);

async function setVersion(conn: SqlConnection, t: KsmppdTables, component: string, version: number) {
  const p = (n: number) => placeholder(conn.dialect, n);
  const r = await conn.query(`UPDATE ${t.version} SET version = ${p(1)} WHERE component = ${p(2)}`, [
    version,
    component,
  ]);
  // MySQL counts changed rows: an UPDATE to the same value reports 0, so look before inserting.
  if (r.affectedRows === 0) {
    const has = await conn.query(`SELECT version FROM ${t.version} WHERE component = ${p(1)}`, [component]);
    if (has.rows.length === 0)
      await conn.query(`INSERT INTO ${t.version} (component, version) VALUES (${p(1)}, ${p(2)})`, [
        component,
        version,
      ]);
  }
}

async function readVersion(
  conn: SqlConnection,
  t: KsmppdTables,
  component: string,
): Promise<number | undefined> {
  const r = await conn.query(
    `SELECT version FROM ${t.version} WHERE component = ${placeholder(conn.dialect, 1)}`,
    [component],
  );
  const v = r.rows[0]?.[0];
  return v == null ? undefined : Number(v);
}

export class KsmppdSchemaError extends Error {
  override name = 'KsmppdSchemaError';
}

/** `smppd db init`: the three tables at KSMPPD v4 plus ours; refuses a database that has them. */
export async function initKsmppdSchema(conn: SqlConnection, t: KsmppdTables): Promise<void> {
  if ((await tableColumns(conn, t.user)).size > 0)
    throw new KsmppdSchemaError(`table ${t.user} already exists; use smppd db upgrade`);
  const ddl = { mysql: mysqlDdl, pgsql: pgsqlDdl, sqlite: sqliteDdl }[conn.dialect](t);
  for (const sql of ddl) await conn.query(sql);
  await setVersion(conn, t, 'ksmppd', KSMPPD_VERSION);
  await setVersion(conn, t, 'smsgate', SMSGATE_VERSION);
}

export interface UpgradeResult {
  ksmppd: { from: number; to: number };
  smsgate: { from: number; to: number };
  /** What was changed, for the command's output. */
  changes: string[];
}

/**
 * `smppd db upgrade`: a KSMPPD v1-v4 database gets the columns up to v4 (as KSMPPD's own
 * migrations add them) and ours. Only ADD COLUMN and a wider password column: rows are kept as
 * they are; the new columns take their defaults (enabled = 1: every account keeps binding).
 */
export async function upgradeKsmppdSchema(conn: SqlConnection, t: KsmppdTables): Promise<UpgradeResult> {
  const user = await tableColumns(conn, t.user);
  const route = await tableColumns(conn, t.route);
  if (user.size === 0 || route.size === 0)
    throw new KsmppdSchemaError(
      `no KSMPPD tables ${t.user} and ${t.route} in ${conn.target}; create them with smppd db init`,
    );
  const my = conn.dialect === 'mysql';
  const changes: string[] = [];
  if ((await tableColumns(conn, t.version)).size === 0) {
    await conn.query(
      my
        ? `CREATE TABLE ${t.version} (component varchar(54) NOT NULL, version int unsigned NOT NULL, PRIMARY KEY (component)) ENGINE=InnoDB`
        : `CREATE TABLE ${t.version} (component varchar(54) NOT NULL PRIMARY KEY, version integer NOT NULL)`,
    );
    changes.push(`created ${t.version}`);
  }
  const ksmppdFrom = (await readVersion(conn, t, 'ksmppd')) ?? 1;
  const smsgateFrom = (await readVersion(conn, t, 'smsgate')) ?? 0;
  const add = async (table: string, have: Map<string, number | undefined>, column: string, type: string) => {
    if (have.has(column)) return;
    await conn.query(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    changes.push(`added ${table}.${column}`);
  };
  // KSMPPD's own steps, by column rather than by its version row (a hand-made table may lack one).
  await add(t.user, user, 'connect_allow_ip', 'text');
  await add(t.route, route, 'source_regex', 'text');
  await add(t.route, route, 'priority', my ? "int DEFAULT '0'" : 'integer DEFAULT 0');
  await setVersion(conn, t, 'ksmppd', Math.max(ksmppdFrom, KSMPPD_VERSION));
  await add(t.user, user, 'enabled', my ? "tinyint(1) NOT NULL DEFAULT '1'" : 'smallint NOT NULL DEFAULT 1');
  await add(t.user, user, 'message_id_format', 'varchar(16) DEFAULT NULL');
  await add(t.user, user, 'message_id_length', my ? 'int DEFAULT NULL' : 'integer DEFAULT NULL');
  const width = user.get('password');
  // SQLite does not enforce a declared length (and cannot alter a column): nothing to widen there.
  if (width !== undefined && width < PASSWORD_WIDTH && conn.dialect !== 'sqlite') {
    await conn.query(
      my
        ? `ALTER TABLE ${t.user} MODIFY password varchar(${PASSWORD_WIDTH}) NOT NULL`
        : `ALTER TABLE ${t.user} ALTER COLUMN password TYPE varchar(${PASSWORD_WIDTH})`,
    );
    changes.push(
      `widened ${t.user}.password from varchar(${width}) to varchar(${PASSWORD_WIDTH}) (scrypt hashes)`,
    );
  }
  await setVersion(conn, t, 'smsgate', Math.max(smsgateFrom, SMSGATE_VERSION));
  return {
    ksmppd: { from: ksmppdFrom, to: Math.max(ksmppdFrom, KSMPPD_VERSION) },
    smsgate: { from: smsgateFrom, to: Math.max(smsgateFrom, SMSGATE_VERSION) },
    changes,
  };
}

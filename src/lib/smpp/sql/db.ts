import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SqlTableName } from '../../config/smsd-config.js';
import type { SqlConnection, SqlDialect, SqlResult, SqlValue } from '../../services/sql/connection.js';
import { quoteField } from '../../services/sql/queries.js';
import { SqlService, type SqlServiceOptions } from '../../services/sql/service.js';
import { oneAtATime } from './one-at-a-time.js';
import { binds, serialKey } from './dialect.js';
import { readIfExists } from '../../common/absent.js';
import { tableColumns } from './schema.js';

/**
 * smppd's side of Gammu's database: one connection (through an SqlService, which checks Gammu's
 * tables and schema version and inserts outbox rows with Gammu's own queries), smppd's own tables
 * beside Gammu's, and a lock so the statements of one job (a poll, a cancel) never interleave with
 * another's on the shared connection, where they would run inside its transaction.
 *
 * smppd's tables (created at start when missing, on MySQL/MariaDB, PostgreSQL and SQLite alike):
 * - smppd_message: message ID ↔ outbox ID and what a receipt needs, written in the transaction that
 *   queues the outbox rows; `state` 0 while the receipt is open, 1 once it is queued (or not wanted).
 *   `node` is the smppd that took the submit: it alone queues the receipt (its queue, its ESMEs).
 * - smppd_mo: which node took an inbox message (several smppd on one database deliver each MO once).
 * - smppd_state: small counters, e.g. each node's inbox watermark.
 */

export const SMPPD_TABLES = { message: 'smppd_message', mo: 'smppd_mo', state: 'smppd_state' } as const;

/** The statements that create smppd's tables when missing. */
export function smppdTableStatements(dialect: SqlDialect): string[] {
  if (dialect === 'sqlite') return sqliteTableStatements();
  return [...ownTableStatements(dialect), ...sharedQueueStatements(dialect)];
}

/**
 * The same tables on SQLite: its own types (times as local-time text, as Gammu's SQLite tables
 * keep them) and AUTOINCREMENT, so a deleted queue row's ID is never handed out again.
 */
function sqliteTableStatements(): string[] {
  const t = SMPPD_TABLES;
  const now = "NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))";
  return [
    `CREATE TABLE IF NOT EXISTS ${t.message} (message_id TEXT NOT NULL PRIMARY KEY, outbox_id INTEGER NOT NULL, node TEXT NOT NULL, system_id TEXT NOT NULL, parts INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0, final_state INTEGER NOT NULL DEFAULT 0, final_error INTEGER NOT NULL DEFAULT 0, done_at NUMERIC NULL, meta TEXT NOT NULL, created ${now})`,
    `CREATE INDEX IF NOT EXISTS ${t.message}_open ON ${t.message} (node, state, outbox_id)`,
    `CREATE TABLE IF NOT EXISTS ${t.mo} (inbox_id INTEGER NOT NULL PRIMARY KEY, node TEXT NOT NULL, created ${now})`,
    `CREATE TABLE IF NOT EXISTS ${t.state} (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS smppd_queue (${serialKey('sqlite', 'id')}, system_id TEXT NOT NULL, qkey TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, pdus TEXT NOT NULL, created_ms INTEGER NOT NULL, owner TEXT NOT NULL DEFAULT '')`,
    `CREATE INDEX IF NOT EXISTS smppd_queue_sid ON smppd_queue (system_id, id)`,
    `CREATE INDEX IF NOT EXISTS smppd_queue_owner ON smppd_queue (owner)`,
    `CREATE TABLE IF NOT EXISTS smppd_node (node TEXT NOT NULL PRIMARY KEY, updated_ms INTEGER NOT NULL)`,
  ];
}

/** smppd_queue.owner: the node that holds the row's entry for its own receivers ('' = anyone's). */
const OWNER_COLUMN = `owner VARCHAR(64) NOT NULL DEFAULT ''`;

/** A smppd_queue of an older smppd (no owner column) gets it, and its index. */
async function addQueueOwner(conn: SqlConnection): Promise<void> {
  const has = (await tableColumns(conn, 'smppd_queue')).has('owner');
  if (!has) await conn.query(`ALTER TABLE smppd_queue ADD COLUMN ${OWNER_COLUMN}`);
  if (conn.dialect !== 'mysql')
    await conn.query(`CREATE INDEX IF NOT EXISTS smppd_queue_owner ON smppd_queue (owner)`);
  else if (!has) await conn.query(`CREATE INDEX smppd_queue_owner ON smppd_queue (owner)`);
}

/** The shared delivery queue (shared-queue.ts) and the nodes' heartbeats. */
function sharedQueueStatements(dialect: 'mysql' | 'pgsql'): string[] {
  return dialect === 'mysql'
    ? [
        `CREATE TABLE IF NOT EXISTS smppd_queue (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, system_id VARCHAR(64) NOT NULL, qkey VARCHAR(190) NOT NULL, kind VARCHAR(8) NOT NULL, pdus MEDIUMTEXT NOT NULL, created_ms BIGINT NOT NULL, ${OWNER_COLUMN}, UNIQUE KEY smppd_queue_key (qkey), KEY smppd_queue_sid (system_id, id), KEY smppd_queue_owner (owner)) ENGINE=InnoDB`,
        `CREATE TABLE IF NOT EXISTS smppd_node (node VARCHAR(64) NOT NULL PRIMARY KEY, updated_ms BIGINT NOT NULL) ENGINE=InnoDB`,
      ]
    : [
        `CREATE TABLE IF NOT EXISTS smppd_queue (id BIGSERIAL PRIMARY KEY, system_id VARCHAR(64) NOT NULL, qkey VARCHAR(190) NOT NULL UNIQUE, kind VARCHAR(8) NOT NULL, pdus TEXT NOT NULL, created_ms BIGINT NOT NULL, ${OWNER_COLUMN})`,
        `CREATE INDEX IF NOT EXISTS smppd_queue_sid ON smppd_queue (system_id, id)`,
        `CREATE TABLE IF NOT EXISTS smppd_node (node VARCHAR(64) NOT NULL PRIMARY KEY, updated_ms BIGINT NOT NULL)`,
      ];
}

function ownTableStatements(dialect: SqlDialect): string[] {
  const f = (n: string): string => quoteField(dialect, n);
  const t = SMPPD_TABLES;
  if (dialect === 'mysql') {
    const tail = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4';
    return [
      `CREATE TABLE IF NOT EXISTS ${t.message} (
  ${f('message_id')} varchar(64) NOT NULL,
  ${f('outbox_id')} bigint NOT NULL,
  ${f('node')} varchar(64) NOT NULL,
  ${f('system_id')} varchar(64) NOT NULL,
  ${f('parts')} integer NOT NULL,
  ${f('state')} smallint NOT NULL DEFAULT 0,
  ${f('final_state')} smallint NOT NULL DEFAULT 0,
  ${f('final_error')} integer NOT NULL DEFAULT 0,
  ${f('done_at')} timestamp NULL DEFAULT NULL,
  ${f('meta')} text NOT NULL,
  ${f('created')} timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (${f('message_id')}),
  KEY ${t.message}_open (${f('node')}, ${f('state')}, ${f('outbox_id')})
) ${tail}`,
      `CREATE TABLE IF NOT EXISTS ${t.mo} (
  ${f('inbox_id')} bigint NOT NULL,
  ${f('node')} varchar(64) NOT NULL,
  ${f('created')} timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (${f('inbox_id')})
) ${tail}`,
      `CREATE TABLE IF NOT EXISTS ${t.state} (
  ${f('name')} varchar(100) NOT NULL,
  ${f('value')} bigint NOT NULL,
  PRIMARY KEY (${f('name')})
) ${tail}`,
    ];
  }
  const ts = 'timestamp(0) WITHOUT time zone';
  return [
    `CREATE TABLE IF NOT EXISTS ${t.message} (
  ${f('message_id')} varchar(64) NOT NULL PRIMARY KEY,
  ${f('outbox_id')} bigint NOT NULL,
  ${f('node')} varchar(64) NOT NULL,
  ${f('system_id')} varchar(64) NOT NULL,
  ${f('parts')} integer NOT NULL,
  ${f('state')} smallint NOT NULL DEFAULT 0,
  ${f('final_state')} smallint NOT NULL DEFAULT 0,
  ${f('final_error')} integer NOT NULL DEFAULT 0,
  ${f('done_at')} ${ts} NULL,
  ${f('meta')} text NOT NULL,
  ${f('created')} ${ts} NOT NULL DEFAULT LOCALTIMESTAMP(0)
)`,
    `CREATE INDEX IF NOT EXISTS ${t.message}_open ON ${t.message} (${f('node')}, ${f('state')}, ${f('outbox_id')})`,
    `CREATE TABLE IF NOT EXISTS ${t.mo} (
  ${f('inbox_id')} bigint NOT NULL PRIMARY KEY,
  ${f('node')} varchar(64) NOT NULL,
  ${f('created')} ${ts} NOT NULL DEFAULT LOCALTIMESTAMP(0)
)`,
    `CREATE TABLE IF NOT EXISTS ${t.state} (
  ${f('name')} varchar(100) NOT NULL PRIMARY KEY,
  ${f('value')} bigint NOT NULL
)`,
  ];
}

/**
 * This smppd's name in smppd_message.node: kept in its state folder (beside the delivery queue it
 * names), so a restart finds its open receipts again.
 */
export function smppdNodeId(stateDir: string): string {
  const file = path.join(stateDir, 'sql-node-id');
  // Absent: the first start in this state folder.
  const kept = readIfExists(file, 'utf8')?.trim();
  if (kept && /^[\w.-]{1,64}$/.test(kept)) return kept;
  fs.mkdirSync(stateDir, { recursive: true });
  const id = crypto.randomBytes(8).toString('hex');
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

export class SmppdDb {
  constructor(
    readonly svc: SqlService,
    readonly tables: Record<SqlTableName, string>,
    readonly node: string,
  ) {}

  /** Connects, checks Gammu's schema, creates smppd's tables if missing. */
  static async open(o: SqlServiceOptions, node: string): Promise<SmppdDb> {
    // Never our PhoneID as SenderID: smppd pins a message only when its route says so.
    const svc = new SqlService({ ...o, phoneId: '' });
    await svc.init();
    const db = new SmppdDb(svc, o.tables, node);
    try {
      for (const stmt of smppdTableStatements(db.dialect)) {
        // Two smppd starting at once may race on PostgreSQL's catalog: the loser tries once more.
        await db.conn.query(stmt).catch(async () => db.conn.query(stmt));
      }
      // Nodes starting at once race on the ALTER and on PostgreSQL's catalog: the losers try again.
      for (let attempt = 1; ; attempt++)
        try {
          await addQueueOwner(db.conn);
          break;
        } catch (err) {
          if (attempt === 3) throw err;
        }
    } catch (err) {
      await svc.free();
      throw new Error(`cannot create smppd's tables in ${db.conn.target}: ${(err as Error).message}`);
    }
    return db;
  }

  get conn(): SqlConnection {
    return this.svc.conn;
  }

  get dialect(): SqlDialect {
    return this.svc.conn.dialect;
  }

  /** A quoted column name. */
  f(name: string): string {
    return quoteField(this.dialect, name);
  }

  /** `?` markers become `$1`.. on PostgreSQL (our statements have no `?` of their own). */
  sql(text: string): string {
    return binds(this.dialect, text);
  }

  query(text: string, params: readonly SqlValue[] = []): Promise<SqlResult> {
    return this.conn.query(this.sql(text), params);
  }

  /** Runs `fn` alone on the connection (jobs queue in call order). */
  readonly exclusive = oneAtATime();

  /** `?, ?, ...` for `n` values. */
  static marks(n: number): string {
    return Array.from({ length: n }, () => '?').join(', ');
  }

  close(): Promise<void> {
    return this.exclusive(() => this.svc.free());
  }
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  SqlConnection,
  type ConnectOptions,
  type SqlDialect,
} from '../../src/lib/services/sql/connection.js';
import { initSchema } from '../../src/lib/services/sql/schema.js';
import type { SchemaVersion } from '../../src/lib/services/sql/queries.js';
import { SQL_TABLE_NAMES, type SqlTableName } from '../../src/lib/config/smsd-config.js';

/** The development and CI servers (127.0.0.1 only). */
export const SERVERS: Record<SqlDialect, Omit<ConnectOptions, 'database'>> = {
  mysql: { dialect: 'mysql', host: '127.0.0.1:3306', user: 'root', password: '' },
  pgsql: { dialect: 'pgsql', host: '127.0.0.1:5432', user: 'postgres', password: '' },
  // A file in a temporary DBDir; no server.
  sqlite: { dialect: 'sqlite', host: '', user: '', password: '' },
};

export const DEFAULT_TABLES = Object.fromEntries(SQL_TABLE_NAMES.map((t) => [t, t])) as Record<
  SqlTableName,
  string
>;

export interface TempDb {
  name: string;
  options: ConnectOptions;
  /** Extra config lines for a Gammu-style smsdrc pointing at this database. */
  configLines: string;
  /** SQLite: the DBDir holding the file. */
  dir?: string;
  drop(): Promise<void>;
}

const ADMIN_DB: Record<SqlDialect, string> = { mysql: 'mysql', pgsql: 'postgres', sqlite: '' };

async function admin(dialect: SqlDialect): Promise<SqlConnection> {
  const c = new SqlConnection({
    ...SERVERS[dialect],
    database: ADMIN_DB[dialect],
    retries: 1,
    connectTimeoutMs: 3000,
  });
  await c.connect();
  return c;
}

const told = new Set<SqlDialect>();

/**
 * Is the server up? Tests skip outside CI when it is not (CI starts both), and say so once per
 * test file and server, so a green run without a database does not pass for a tested one.
 */
export async function serverAvailable(dialect: SqlDialect): Promise<boolean> {
  if (dialect === 'sqlite') {
    try {
      await import('better-sqlite3');
      return true;
    } catch (err) {
      if (process.env.CI) throw err;
      return false;
    }
  }
  try {
    const c = await admin(dialect);
    await c.close();
    return true;
  } catch (err) {
    if (process.env.CI) throw err;
    if (!told.has(dialect)) {
      told.add(dialect);
      const where = SERVERS[dialect].host;
      console.warn(
        `SKIPPED: no ${dialect === 'mysql' ? 'MariaDB/MySQL' : 'PostgreSQL'} server answers at ${where} ` +
          `(${(err as Error).message}); the ${dialect} database tests of this file did not run (CI runs them)`,
      );
    }
    return false;
  }
}

/** A fresh database with a random name (optionally with Gammu's tables at `version`); drop() removes it. */
export async function createTempDb(dialect: SqlDialect, version?: SchemaVersion): Promise<TempDb> {
  if (dialect === 'sqlite') return createTempSqlite(version);
  const name = `smsgate_t_${randomBytes(6).toString('hex')}`;
  const a = await admin(dialect);
  try {
    await a.query(`CREATE DATABASE ${name}`);
  } finally {
    await a.close();
  }
  const options: ConnectOptions = { ...SERVERS[dialect], database: name, retries: 2, retryDelayMs: () => 50 };
  if (version) {
    const c = new SqlConnection(options);
    try {
      await initSchema(c, DEFAULT_TABLES, version);
    } finally {
      await c.close();
    }
  }
  const s = SERVERS[dialect];
  return {
    name,
    options,
    configLines: `service = sql\ndriver = ${dialect === 'mysql' ? 'native_mysql' : 'native_pgsql'}\nhost = ${s.host}\nuser = ${s.user}\npassword =\ndatabase = ${name}\n`,
    async drop() {
      const b = await admin(dialect);
      try {
        if (dialect === 'pgsql')
          await b.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
            [name],
          );
        await b.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await b.close();
      }
    },
  };
}

/** SQLite: a fresh DBDir with the database file (Gammu's tables at `version`, else an empty file). */
async function createTempSqlite(version?: SchemaVersion): Promise<TempDb> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-sqlite-'));
  const name = 'smsd.db';
  const options: ConnectOptions = {
    ...SERVERS.sqlite,
    database: name,
    dbDir: dir,
    retries: 2,
    retryDelayMs: () => 50,
  };
  const c = new SqlConnection({ ...options, create: true });
  try {
    await c.connect();
    if (version) await initSchema(c, DEFAULT_TABLES, version);
  } finally {
    await c.close();
  }
  return {
    name,
    options,
    dir,
    configLines: `service = sql\ndriver = sqlite3\nsql = sqlite\ndbdir = ${dir}\ndatabase = ${name}\n`,
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What `smsd run` does with every row of the outbox, in bulk: a sentitems row per message (sent by
 * `run1`, `status` an SQL expression over the outbox's columns, TPMR `tpmr`), then the outbox emptied.
 */
export async function sendWholeOutbox(
  conn: SqlConnection,
  dialect: SqlDialect,
  status = `'DeliveryOK'`,
  tpmr?: number,
): Promise<void> {
  const q = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
  const copied = [
    'InsertIntoDB',
    'Text',
    'DestinationNumber',
    'Coding',
    'UDH',
    'Class',
    'TextDecoded',
    'ID',
    'RelativeValidity',
    'CreatorID',
  ];
  const set = [
    'SendingDateTime',
    'DeliveryDateTime',
    'SMSCNumber',
    'SenderID',
    'SequencePosition',
    'Status',
    'StatusError',
    'TPMR',
    'StatusCode',
  ];
  await conn.query(
    `INSERT INTO sentitems (${[...copied, ...set].map(q).join(', ')}) SELECT ${copied.map(q).join(', ')}, NOW(), NOW(), '', 'run1', 1, ${status}, 0, ${tpmr ?? `${q('ID')} % 256`}, 0 FROM outbox`,
  );
  await conn.query('DELETE FROM outbox');
}

/**
 * A tiny driver layer over mysql2/promise and pg: one connection, positional rows, parameters always
 * bound (never pasted into the SQL text), and Gammu's BackendRetries: a query that fails because the
 * connection is gone is retried on a fresh connection. The drivers are imported lazily, so commands
 * on the files service never load them.
 */
import type { Connection as MysqlConnection } from 'mysql2/promise';
import type { Client as PgClient } from 'pg';
import { SqlError, type Driver, type SqlResult, type SqlValue } from './driver.js';
import { openSqlite, sqlitePath } from './sqlite.js';

export { SqlError, type SqlResult, type SqlValue };

export type SqlDialect = 'mysql' | 'pgsql' | 'sqlite';
export interface ConnectOptions {
  dialect: SqlDialect;
  /** Gammu's Host: `server`, `server:port`, `server:/socket`, `/socket`, `[v6]:port`. */
  host: string;
  user: string;
  password: string;
  database: string;
  /** Attempts per query on a lost connection (Gammu's BackendRetries, at least 1). */
  retries?: number;
  /** Pause before reconnect attempt n (1-based); Gammu sleeps n² s, we cap it so a restarted server is used within seconds. */
  retryDelayMs?: (attempt: number) => number;
  connectTimeoutMs?: number;
  /** SQLite: Gammu's DBDir (the file is DBDir/Database). */
  dbDir?: string;
  /** SQLite: create the file if missing (smsd db init). */
  create?: boolean;
  /** SQLite: how long to wait for another process's write lock before a step fails (ms). */
  busyTimeoutMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface HostSpec {
  host?: string;
  port?: number;
  socket?: string;
}

/** Splits Gammu's Host value. */
export function parseHost(value: string, dialect: SqlDialect): HostSpec {
  const v = value.trim() || 'localhost';
  if (v.startsWith('/')) return { socket: v };
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : undefined };
  const i = v.indexOf(':');
  if (i < 0) return { host: v };
  const rest = v.slice(i + 1);
  if (rest.startsWith('/')) return { host: v.slice(0, i), socket: rest };
  if (/^\d+$/.test(rest)) return { host: v.slice(0, i), port: Number(rest) };
  return { host: v, port: dialect === 'mysql' ? 3306 : 5432 };
}

const LOST_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_CONNECTION_KILLED',
  'ECONNLOST',
  // PostgreSQL: admin/crash shutdown, cannot connect now, connection exceptions.
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

/**
 * A transaction the server rolled back to break a deadlock or a serialisation conflict (MySQL
 * ER_LOCK_DEADLOCK 1213 / lock wait timeout 1205, PostgreSQL 40P01 / 40001): running it again is
 * the documented answer.
 */
export function isTransientConflict(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; cause?: unknown } | undefined;
  if (!e) return false;
  if (
    e.code === 'ER_LOCK_DEADLOCK' ||
    e.code === 'ER_LOCK_WAIT_TIMEOUT' ||
    e.errno === 1213 ||
    e.errno === 1205
  )
    return true;
  if (e.code === '40P01' || e.code === '40001') return true;
  return e.cause !== undefined && e.cause !== err && isTransientConflict(e.cause);
}

/** Is this the connection going away (worth a reconnect) rather than a bad query? */
export function isConnectionLost(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; fatal?: unknown };
  if (typeof e.code === 'string' && LOST_CODES.has(e.code)) return true;
  // SQLite: the storage failing (a lock held too long, the file gone, I/O error, disk full, remounted
  // read-only) is this service's "connection lost": the step is retried, never blamed on the modem.
  if (
    typeof e.code === 'string' &&
    /^SQLITE_(BUSY|LOCKED|VANISHED|CANTOPEN|IOERR|FULL|READONLY)/.test(e.code)
  )
    return true;
  if (e.fatal === true) return true;
  return /Connection terminated|connection is in closed state|Client has encountered a connection error|not queryable|Cannot enqueue/i.test(
    e.message,
  );
}

function describeTarget(o: ConnectOptions): string {
  if (o.dialect === 'sqlite') return `SQLite database ${sqlitePath(o)}`;
  const kind = o.dialect === 'mysql' ? 'MySQL/MariaDB' : 'PostgreSQL';
  return `${kind} at ${o.host || 'localhost'} as ${o.user} (database ${o.database})`;
}

/** Turns a driver's connect error into a message that names what is wrong. */
function connectError(o: ConnectOptions, err: unknown): SqlError {
  const e = err as Error & { code?: string; errno?: number };
  const code = e.code ?? '';
  let why = e.message || String(err);
  if (code === 'ER_BAD_DB_ERROR' || code === '3D000')
    why = `database ${o.database} does not exist (create it, then run: smsd db init -c CONFIG)`;
  else if (code === 'ER_ACCESS_DENIED_ERROR' || code === '28P01' || code === '28000')
    why = `access denied for user ${o.user} (check User and Password): ${e.message}`;
  else if (code === 'ECONNREFUSED') why = `connection refused (is the server running? Host = ${o.host})`;
  return new SqlError(`Cannot connect to ${describeTarget(o)}: ${why}`, code, { cause: err });
}

async function openMysql(o: ConnectOptions): Promise<Driver> {
  const mysql = await import('mysql2/promise');
  const spec = parseHost(o.host, 'mysql');
  let conn: MysqlConnection;
  try {
    conn = await mysql.createConnection({
      host: spec.host,
      port: spec.port,
      socketPath: spec.socket,
      user: o.user,
      password: o.password,
      database: o.database,
      charset: 'utf8mb4',
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      // TIMESTAMP columns hold the daemon's local time, as Gammu writes them.
      timezone: 'local',
    });
  } catch (err) {
    throw connectError(o, err);
  }
  let lastInsertId = 0;
  const d: Driver = {
    broken: false,
    async query(sql, params) {
      // execute() = a server-side prepared statement: values never become SQL text. Statements
      // without values (BEGIN, DDL) go as plain text, which every statement type allows.
      const [res] =
        params.length > 0
          ? await conn.execute({ sql, rowsAsArray: true }, params as SqlValue[])
          : await conn.query({ sql, rowsAsArray: true });
      if (Array.isArray(res)) return { rows: res as unknown[][], affectedRows: 0 };
      const header = res as { affectedRows?: number; insertId?: number };
      lastInsertId = header.insertId ?? 0;
      return { rows: [], affectedRows: header.affectedRows ?? 0 };
    },
    async insert(sql, params) {
      await d.query(sql, params);
      return lastInsertId;
    },
    async close() {
      await conn.end().catch(() => conn.destroy());
    },
  };
  // An idle connection dropped by the server emits 'error'; without a listener it would crash the daemon.
  conn.on('error', () => {
    d.broken = true;
  });
  return d;
}

async function openPg(o: ConnectOptions): Promise<Driver> {
  const pg = await import('pg');
  const spec = parseHost(o.host, 'pgsql');
  const client: PgClient = new pg.default.Client({
    host: spec.socket ?? spec.host,
    port: spec.port,
    user: o.user,
    password: o.password,
    database: o.database,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
  });
  const d: Driver = {
    broken: false,
    async query(sql, params) {
      const res = await client.query({ text: sql, values: params as SqlValue[], rowMode: 'array' });
      return { rows: (res.rows ?? []) as unknown[][], affectedRows: res.rowCount ?? 0 };
    },
    async insert(sql, params) {
      // Gammu asks the sequence; lastval() also works for renamed tables. Asked in the INSERT's own
      // RETURNING (evaluated after the row took its serial default) it costs no second round trip.
      const text = sql.replace(/;\s*$/, '');
      if (/\breturning\b/i.test(text)) {
        await d.query(text, params);
        const r = await client.query({ text: 'SELECT lastval()', rowMode: 'array' });
        return Number((r.rows[0] as unknown[] | undefined)?.[0] ?? 0);
      }
      const r = await d.query(`${text} RETURNING lastval()`, params);
      return Number(r.rows.at(-1)?.[0] ?? 0);
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
  client.on('error', () => {
    d.broken = true;
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw connectError(o, err);
  }
  return d;
}

/** Gammu waits n² seconds before reconnect attempt n; capped at 5 s so a restarted server is back in use within seconds. */
export const defaultRetryDelay = (attempt: number): number => Math.min(5_000, 250 * attempt * attempt);

/** One database connection with reconnect-and-retry on a lost connection. */
export class SqlConnection {
  private driver: Driver | undefined;
  private readonly retries: number;
  private readonly delay: (attempt: number) => number;
  private inTransaction = false;

  constructor(readonly o: ConnectOptions) {
    this.retries = Math.max(1, o.retries ?? 10);
    this.delay = o.retryDelayMs ?? defaultRetryDelay;
  }

  get dialect(): SqlDialect {
    return this.o.dialect;
  }

  get target(): string {
    return describeTarget(this.o);
  }

  private connecting: Promise<void> | undefined;

  async connect(): Promise<void> {
    if (this.driver && !this.driver.broken) return;
    // One reconnect at a time, whoever asks (a query and the outbox poll may both notice).
    this.connecting ??= (async () => {
      await this.driver?.close().catch(() => undefined);
      this.driver = undefined;
      this.driver =
        this.o.dialect === 'mysql'
          ? await openMysql(this.o)
          : this.o.dialect === 'pgsql'
            ? await openPg(this.o)
            : await openSqlite(this.o);
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** A query on the current connection if it is up, never reconnecting nor retrying (for polls). */
  async tryQuery(sql: string, params: readonly SqlValue[] = []): Promise<SqlResult | undefined> {
    const d = this.driver;
    if (!d || d.broken || this.inTransaction || this.connecting) return undefined;
    try {
      return await d.query(sql, params);
    } catch (err) {
      if (isConnectionLost(err)) d.broken = true;
      return undefined;
    }
  }

  async close(): Promise<void> {
    const d = this.driver;
    this.driver = undefined;
    await d?.close();
  }

  /**
   * Runs `fn` (one query or a transaction); a lost connection is re-opened and `fn` run again, up
   * to BackendRetries times. Any other error (bad SQL, constraint) is thrown at once.
   */
  private async withRetry<T>(what: string, fn: (d: Driver) => Promise<T>): Promise<T> {
    let lastErr: unknown;
    for (let attempt = 1; attempt <= this.retries; attempt++) {
      try {
        await this.connect();
        return await fn(this.driver as Driver);
      } catch (err) {
        lastErr = err;
        const lost = isConnectionLost(err) || (err instanceof SqlError && isConnectionLost(err.cause));
        if (!lost) throw err;
        if (this.driver) this.driver.broken = true;
        if (attempt === this.retries) break;
        const ms = this.delay(attempt);
        this.o.log?.(
          'warn',
          `database connection lost during ${what} (${(err as Error).message}); reconnecting in ${ms} ms (attempt ${attempt + 1} of ${this.retries})`,
        );
        await new Promise((r) => setTimeout(r, ms));
      }
    }
    throw lastErr;
  }

  /** One statement, retried on a lost connection (outside a transaction). */
  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlResult> {
    if (this.inTransaction) return (this.driver as Driver).query(sql, params);
    return this.withRetry('a query', (d) => d.query(sql, params));
  }

  /** An INSERT, returning the new row's ID (auto_increment / serial). */
  async insert(sql: string, params: readonly SqlValue[]): Promise<number> {
    const run = (d: Driver) => d.insert(sql, params);
    if (this.inTransaction) return run(this.driver as Driver);
    return this.withRetry('an insert', run);
  }

  /** Runs `fn` in one transaction; a lost connection re-runs the whole transaction. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.withRetry('a transaction', async (d) => {
      // SQLite: IMMEDIATE takes the write lock at once, so a transaction that reads and then writes
      // (the outbox lease) never finds its snapshot stale half-way (SQLITE_BUSY_SNAPSHOT).
      const begin = { mysql: 'START TRANSACTION', pgsql: 'BEGIN', sqlite: 'BEGIN IMMEDIATE' }[this.o.dialect];
      await d.query(begin, []);
      this.inTransaction = true;
      try {
        const r = await fn();
        await d.query('COMMIT', []);
        return r;
      } catch (err) {
        if (!d.broken) await d.query('ROLLBACK', []).catch(() => undefined);
        throw err;
      } finally {
        this.inTransaction = false;
      }
    });
  }
}

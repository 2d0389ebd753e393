import type { SmsdConfig } from '../../config/smsd-config.js';
import type { ConnectOptions, SqlDialect } from './connection.js';
import type { SqlServiceOptions } from './service.js';

/** The dialect our drivers speak for a config, or why the config cannot be served. */
export function sqlDialectOf(config: SmsdConfig): SqlDialect {
  const s = config.smsd;
  if (s.driver === 'native_mysql') return 'mysql';
  if (s.driver === 'native_pgsql') return 'pgsql';
  // Gammu's DBI service on SQLite 3 (libdbi's sqlite3 driver); `sqlite` is libdbi's SQLite 2 driver.
  if (s.driver === 'sqlite3') return 'sqlite';
  throw new Error(
    `Driver = ${s.driver ?? '(none)'} is not supported; use Driver = native_mysql (MySQL/MariaDB), native_pgsql (PostgreSQL) or sqlite3 (SQLite 3, with DBDir and Database)`,
  );
}

export function connectOptions(config: SmsdConfig, log?: ConnectOptions['log']): ConnectOptions {
  const s = config.smsd;
  return {
    dialect: sqlDialectOf(config),
    host: s.host,
    user: s.user,
    password: s.password,
    database: s.database,
    dbDir: s.dbDir,
    busyTimeoutMs: sqliteBusyMs(),
    retries: s.backendRetries,
    log,
  };
}

export function sqlServiceOptions(
  config: SmsdConfig,
  log?: SqlServiceOptions['log'],
  client?: string,
): SqlServiceOptions {
  const s = config.smsd;
  let connection: ConnectOptions;
  let configError: string | undefined;
  try {
    connection = connectOptions(config, log);
  } catch (err) {
    // Reported by init(), where the daemon turns it into its start-up error message.
    configError = (err as Error).message;
    connection = { dialect: 'mysql', host: s.host, user: s.user, password: s.password, database: s.database };
  }
  return {
    configError,
    connection,
    tables: config.tables,
    overrides: config.sql,
    phoneId: s.phoneId,
    loopSleep: s.loopSleep,
    statusFrequency: s.statusFrequency,
    deliveryReportDelay: s.deliveryReportDelay,
    deliveryReport: s.deliveryReport,
    skipSmscNumber: s.skipSmscNumber,
    smsc: s.smsc,
    send: s.send,
    receive: s.receive,
    client,
    log,
  };
}

/**
 * SQLite: how long one step waits for another process's write lock (default 30 s; Gammu has no
 * key for it). Past it the step fails like a lost connection: retried BackendRetries times, loudly.
 */
function sqliteBusyMs(): number | undefined {
  const v = Number(process.env.SMSGATE_SQLITE_BUSY_MS);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

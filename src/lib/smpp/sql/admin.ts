/** `smppd db init` and `smppd db upgrade`: KSMPPD's account and route tables in the configured database. */
import { smppdConfigOf } from '../admin/admin-client.js';
import { SqlConnection } from '../../services/sql/connection.js';
import type { SmppdConfig } from '../config.js';
import { initKsmppdSchema, upgradeKsmppdSchema, KSMPPD_VERSION, SMSGATE_VERSION } from './schema.js';

function sqlOf(configFile: string | undefined): NonNullable<SmppdConfig['sql']> {
  const { smppd, source } = smppdConfigOf(configFile);
  if (!smppd.sql)
    throw new Error(
      `${source}: [smppd] names no database; set AccountsSource = sql or RoutesSource = sql (or SqlDriver, SqlHost, SqlUser, SqlPassword, SqlDatabase)`,
    );
  return smppd.sql;
}

async function withConnection<T>(
  configFile: string | undefined,
  fn: (c: SqlConnection, sql: NonNullable<SmppdConfig['sql']>) => Promise<T>,
  create = false,
) {
  const sql = sqlOf(configFile);
  // SQLite: init may make the file (a KSMPPD database of its own, SqlDriver = sqlite3).
  const conn = new SqlConnection({ ...sql.connection, retries: 1, connectTimeoutMs: 5_000, create });
  try {
    await conn.connect();
    return await fn(conn, sql);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export function smppdDbInit(configFile: string | undefined): Promise<string> {
  return withConnection(
    configFile,
    async (conn, { tables: t }) => {
      await initKsmppdSchema(conn, t);
      return `Created ${t.user}, ${t.route} and ${t.version} (KSMPPD schema ${KSMPPD_VERSION}, smsgate ${SMSGATE_VERSION}) in ${conn.target}`;
    },
    true,
  );
}

export function smppdDbUpgrade(configFile: string | undefined): Promise<string> {
  return withConnection(configFile, async (conn) => {
    const { tables: t } = sqlOf(configFile);
    const r = await upgradeKsmppdSchema(conn, t);
    if (r.changes.length === 0)
      return `Schema already current (KSMPPD ${r.ksmppd.to}, smsgate ${r.smsgate.to}) in ${conn.target}`;
    return [
      `Upgraded ${conn.target}: KSMPPD schema ${r.ksmppd.from} -> ${r.ksmppd.to}, smsgate ${r.smsgate.from} -> ${r.smsgate.to}`,
      ...r.changes.map((c) => `  ${c}`),
    ].join('\n');
  });
}

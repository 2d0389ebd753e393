import os from 'node:os';
import { AccountsError } from '../policy/accounts.js';
import {
  addAccount,
  formatAccounts,
  listAccounts,
  removeAccount,
  setAccount,
  type AccountChanges,
} from '../policy/accounts-file.js';
import { adminCommand, smppdConfigOf } from './admin-client.js';
import { ledgerFile, readLedgerTail, topUpOffline } from '../policy/billing.js';
import { loadSmsdConfig } from '../../config/smsd-config.js';
import { readSmppdConfig, type KsmppdTables, type SmppdConfig } from '../config.js';
import type { SqlConnection } from '../../services/sql/connection.js';
import { smppdPaths } from '../paths.js';
import path from 'node:path';

/** The bodies of `esme ...` and `routes rebuild`: each returns the exit code after printing. */

export interface Out {
  out(line: string): void;
  err(line: string): void;
}

/** Where `esme add/set/remove/list` write: the accounts file, or KSMPPD's smpp_user table. */
type AccountsStore = { kind: 'file'; file: string } | { kind: 'sql'; sql: NonNullable<SmppdConfig['sql']> };

function accountsStore(configFile: string | undefined): AccountsStore {
  const { smppd } = smppdConfigOf(configFile);
  if (smppd.accountsSource === 'sql' && smppd.sql) return { kind: 'sql', sql: smppd.sql };
  if (smppd.accountsSource === 'http')
    throw new AccountsError('AccountsSource = http: the accounts live in the HTTP auth service, not here');
  return { kind: 'file', file: smppd.accountsFile ?? '' };
}

/** One connection for one command; closed whatever happens. */
async function withSql<T>(
  sql: NonNullable<SmppdConfig['sql']>,
  fn: (c: SqlConnection, t: KsmppdTables) => Promise<T>,
) {
  const { SqlConnection } = await import('../../services/sql/connection.js');
  const conn = new SqlConnection({ ...sql.connection, retries: 1, connectTimeoutMs: 5_000 });
  try {
    return await fn(conn, sql.tables);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

const sqlWrite = () => import('../sql/write.js');

async function guarded(o: Out, body: () => Promise<string> | string): Promise<number> {
  try {
    o.out(await body());
    return 0;
  } catch (err) {
    o.err(`${err instanceof AccountsError ? '' : 'error: '}${(err as Error).message}`);
    return 1;
  }
}

const REBUILD_HINT = '; a running smppd serve takes it at `routes rebuild`';

export function esmeAdd(o: Out, configFile: string | undefined, systemId: string, c: AccountChanges) {
  return guarded(o, async () => {
    const store = accountsStore(configFile);
    if (store.kind === 'sql') {
      const { addSqlAccount } = await sqlWrite();
      await withSql(store.sql, (conn, t) => addSqlAccount(conn, t, systemId, c));
      return `added ${systemId} to table ${store.sql.tables.user}${REBUILD_HINT}`;
    }
    await addAccount(store.file, systemId, c);
    return `added ${systemId} to ${store.file}${REBUILD_HINT}`;
  });
}

export function esmeSet(o: Out, configFile: string | undefined, systemId: string, c: AccountChanges) {
  return guarded(o, async () => {
    const store = accountsStore(configFile);
    if (store.kind === 'sql') {
      const { setSqlAccount } = await sqlWrite();
      await withSql(store.sql, (conn, t) => setSqlAccount(conn, t, systemId, c));
      return `changed ${systemId} in table ${store.sql.tables.user}${REBUILD_HINT}`;
    }
    await setAccount(store.file, systemId, c);
    return `changed ${systemId} in ${store.file}${REBUILD_HINT}`;
  });
}

export function esmeRemove(o: Out, configFile: string | undefined, systemId: string) {
  return guarded(o, async () => {
    const store = accountsStore(configFile);
    const where = store.kind === 'sql' ? `table ${store.sql.tables.user}` : store.file;
    if (store.kind === 'sql') {
      const { removeSqlAccount } = await sqlWrite();
      await withSql(store.sql, (conn, t) => removeSqlAccount(conn, t, systemId));
    } else await removeAccount(store.file, systemId);
    return `removed ${systemId} from ${where}${REBUILD_HINT} (its binds stay until unbound: esme unbind)`;
  });
}

export function esmeList(o: Out, configFile: string | undefined) {
  return guarded(o, async () => {
    const store = accountsStore(configFile);
    if (store.kind === 'file') return formatAccounts(listAccounts(store.file));
    const { listSqlAccounts } = await sqlWrite();
    const { accounts, warnings } = await withSql(store.sql, listSqlAccounts);
    for (const w of warnings) o.err(`warning: ${w}`);
    return formatAccounts(accounts);
  });
}

export async function adminCli(
  o: Out,
  configFile: string | undefined,
  command: string,
  params: Record<string, string> = {},
): Promise<number> {
  const r = await adminCommand(configFile, command, params);
  if (r.ok) o.out(r.message);
  else o.err(r.message);
  return r.ok ? 0 : 1;
}

/** Where smppd keeps its ledgers for this config. */
function billingDir(configFile: string | undefined): { dir: string } {
  const loaded = loadSmsdConfig(configFile);
  const { config } = readSmppdConfig(loaded.config.smppd, loaded.source, process.cwd(), loaded.config.smsd);
  return { dir: path.join(smppdPaths(loaded.config, config).state, 'billing') };
}

/**
 * `esme credit SYSTEM_ID [AMOUNT]`: adds to (or, without AMOUNT, shows) a prepaid credit. With no
 * server running the ledger is written here under its lock; a running server holds that lock and
 * owns the balance, so the change goes through its admin HTTP interface.
 */
export function esmeCredit(
  o: Out,
  configFile: string | undefined,
  systemId: string,
  amount: number | undefined,
) {
  return guarded(o, async () => {
    if (amount !== undefined && !Number.isFinite(amount)) throw new AccountsError('AMOUNT must be a number');
    const { dir } = billingDir(configFile);
    const store = accountsStore(configFile);
    const known =
      store.kind === 'file'
        ? listAccounts(store.file)
        : (await withSql(store.sql, async (conn, t) => (await sqlWrite()).listSqlAccounts(conn, t))).accounts;
    const account = known.find((a) => a.systemId.toLowerCase() === systemId.toLowerCase());
    if (!account)
      throw new AccountsError(
        `no system_id ${systemId} in ${store.kind === 'file' ? store.file : `table ${store.sql.tables.user}`}`,
      );
    const note = `esme credit by ${process.env.USER ?? 'uid ' + String(process.getuid?.() ?? '?')}`;
    if (store.kind === 'sql') {
      // The credit column is the balance every node reads: changed here atomically, server or not.
      const { SqlBilling } = await import('../sql/billing.js');
      const sql = store.sql;
      return withSql(sql, async (conn) => {
        const b = new SqlBilling(conn, `esme-cli@${os.hostname()}`, {
          user: sql.tables.user,
          ledger: 'smppd_ledger',
        });
        await b.init();
        const balance =
          amount === undefined
            ? await b.balance(account.systemId)
            : await b.topUp(account.systemId, amount, note);
        return `credit of ${account.systemId}: ${balance}`;
      });
    }
    const offline = amount === undefined ? undefined : topUpOffline(dir, account.systemId, amount, note);
    if (offline !== undefined) return `credit of ${account.systemId}: ${offline}`;
    const r = await adminCommand(configFile, '/esme-credit', {
      'system-id': account.systemId,
      ...(amount === undefined ? {} : { amount: String(amount), note }),
    });
    if (r.ok) return r.message.replace(/^Credit/, 'credit');
    // Only reading, and no server: the ledger's last line says it.
    if (amount === undefined)
      return `credit of ${account.systemId}: ${readLedgerTail(ledgerFile(dir, account.systemId)).balance}`;
    throw new Error(r.message);
  });
}

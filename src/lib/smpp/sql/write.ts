/**
 * `esme add/set/remove/list` on KSMPPD's smpp_user table (AccountsSource = sql). Passwords are
 * written as scrypt hashes only, which needs the widened password column of `smppd db upgrade`
 * (KSMPPD's varchar(64) would cut them: refused rather than written broken). A running smppd
 * takes the change at `routes rebuild`, as with the file.
 */
import { AccountsError, hashPassword, type Account } from '../policy/accounts.js';
import { checkValues, type AccountChanges } from '../policy/accounts-file.js';
import type { KsmppdTables } from '../config.js';
import { parseKannelIpList } from '../protocol/net.js';
import type { SqlConnection, SqlValue } from '../../services/sql/connection.js';
import { defaultSmscOf, loadSqlAccounts } from './load.js';
import { PASSWORD_WIDTH, placeholder, tableColumns } from './schema.js';

/** Our account changes as smpp_user columns, checked against what the table has. */
async function columnsOf(
  conn: SqlConnection,
  t: KsmppdTables,
  c: AccountChanges,
): Promise<[string, SqlValue][]> {
  const have = await tableColumns(conn, t.user);
  if (have.size === 0)
    throw new AccountsError(`no table ${t.user} in ${conn.target}; create it with smppd db init`);
  checkValues({ ...c, allow: undefined });
  if (c.mo !== undefined)
    throw new AccountsError(
      `--mo has no column in ${t.user}: MO goes to an ESME through an inbound route (direction 2)`,
    );
  const out: [string, SqlValue][] = [];
  const need = (column: string, flag: string): void => {
    if (!have.has(column))
      throw new AccountsError(`${t.user} has no ${column} column (for ${flag}); run smppd db upgrade first`);
  };
  if (c.password !== undefined) {
    const width = have.get('password') ?? 0;
    if (width < PASSWORD_WIDTH)
      throw new AccountsError(
        `${t.user}.password is varchar(${width}), too narrow for a scrypt hash; run smppd db upgrade first`,
      );
    out.push(['password', await hashPassword(c.password)]);
  }
  if (c.enabled !== undefined) {
    need('enabled', '--enabled');
    out.push(['enabled', c.enabled ? 1 : 0]);
  }
  if (c.maxBinds !== undefined) out.push(['max_binds', c.maxBinds]);
  if (c.allow !== undefined) {
    try {
      parseKannelIpList(c.allow);
    } catch (err) {
      throw new AccountsError(`allow: ${(err as Error).message}`);
    }
    need('connect_allow_ip', '--allow');
    // KSMPPD's own list format: `;` between entries.
    out.push([
      'connect_allow_ip',
      c.allow
        .split(/[\s,;]+/)
        .filter(Boolean)
        .join(';'),
    ]);
  }
  if (c.throughput !== undefined) out.push(['throughput', c.throughput]);
  if (c.prepaid !== undefined) out.push(['enable_prepaid_billing', c.prepaid ? 1 : 0]);
  if (c.defaultRoute !== undefined) out.push(['default_smsc', defaultSmscOf(c.defaultRoute)]);
  if (c.defaultCost !== undefined) out.push(['default_cost', c.defaultCost]);
  return out;
}

/** The row's key as stored, found case-insensitively (PostgreSQL compares case-sensitively). */
async function storedId(conn: SqlConnection, t: KsmppdTables, systemId: string): Promise<string | undefined> {
  const r = await conn.query(
    `SELECT system_id FROM ${t.user} WHERE LOWER(system_id) = LOWER(${placeholder(conn.dialect, 1)})`,
    [systemId],
  );
  const v = r.rows[0]?.[0];
  return v == null ? undefined : String(v);
}

export async function addSqlAccount(
  conn: SqlConnection,
  t: KsmppdTables,
  systemId: string,
  c: AccountChanges,
): Promise<void> {
  if (!/^[\x21-\x7e]{1,15}$/.test(systemId))
    throw new AccountsError(`system_id "${systemId}" must have 1 to 15 printable characters`);
  if (c.password === undefined) throw new AccountsError('a new account needs --password');
  if (c.password.length > 8)
    throw new AccountsError('SMPP 3.4 passwords have at most 8 characters (bind password field)');
  const cols = await columnsOf(conn, t, c);
  if (await storedId(conn, t, systemId)) throw new AccountsError(`system_id ${systemId} exists already`);
  // KSMPPD's DDL has NOT NULL columns without a default (default_cost, simulate_*_every): a
  // value for each, so the INSERT works in strict SQL modes. default_smsc stays NULL unless
  // given: like KSMPPD, what no route takes is refused.
  const given = new Set(cols.map(([k]) => k));
  const defaults: [string, SqlValue][] = [
    'default_cost',
    'simulate_deliver_every',
    'simulate_permanent_failure_every',
    'simulate_temporary_failure_every',
    'simulate_mo_every',
  ]
    .filter((k) => !given.has(k))
    .map((k) => [k, 0]);
  const all: [string, SqlValue][] = [['system_id', systemId], ...cols, ...defaults];
  const p = (i: number) => placeholder(conn.dialect, i + 1);
  await conn.query(
    `INSERT INTO ${t.user} (${all.map(([k]) => k).join(', ')}) VALUES (${all.map((_, i) => p(i)).join(', ')})`,
    all.map(([, v]) => v),
  );
}

export async function setSqlAccount(
  conn: SqlConnection,
  t: KsmppdTables,
  systemId: string,
  c: AccountChanges,
): Promise<void> {
  if (c.password !== undefined && c.password.length > 8)
    throw new AccountsError('SMPP 3.4 passwords have at most 8 characters (bind password field)');
  const cols = await columnsOf(conn, t, c);
  if (cols.length === 0) throw new AccountsError('nothing to change (see --help)');
  const id = await storedId(conn, t, systemId);
  if (id === undefined) throw new AccountsError(`no system_id ${systemId} in ${t.user}`);
  const p = (i: number) => placeholder(conn.dialect, i + 1);
  await conn.query(
    `UPDATE ${t.user} SET ${cols.map(([k], i) => `${k} = ${p(i)}`).join(', ')} WHERE system_id = ${p(cols.length)}`,
    [...cols.map(([, v]) => v), id],
  );
}

export async function removeSqlAccount(
  conn: SqlConnection,
  t: KsmppdTables,
  systemId: string,
): Promise<void> {
  const id = await storedId(conn, t, systemId);
  if (id === undefined) throw new AccountsError(`no system_id ${systemId} in ${t.user}`);
  await conn.query(`DELETE FROM ${t.user} WHERE system_id = ${placeholder(conn.dialect, 1)}`, [id]);
}

export async function listSqlAccounts(
  conn: SqlConnection,
  t: KsmppdTables,
): Promise<{ accounts: Account[]; warnings: string[] }> {
  const r = await loadSqlAccounts(conn, t);
  return { accounts: [...r.accounts.values()], warnings: r.warnings };
}

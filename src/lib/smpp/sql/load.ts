/**
 * Accounts and routes from KSMPPD's tables (smpp_user, smpp_route). Everything is read at start
 * and at each reload (SIGHUP, /rebuild-routes), as KSMPPD does for inbound routes: a bind or a
 * submit then needs no database round trip, and a database outage does not stop binds. The price:
 * a change in the tables takes effect at the next reload (`routes rebuild`), and all rows live in
 * memory (a few hundred bytes each: thousands of accounts and routes are nothing).
 *
 * Only the columns present are read, so a KSMPPD v1-v4 database works as it is (no upgrade
 * needed to read it). A row we cannot use is logged and skipped, as KSMPPD skips a route whose
 * regex does not compile: one bad row never stops the server nor hides the others.
 */
import { checkPasswordHash, type Account, type AccountsLoad } from '../policy/accounts.js';
import type { KsmppdTables } from '../config.js';
import { parseKannelIpList } from '../protocol/net.js';
import type { Route, RoutesLoad } from '../policy/routes.js';
import type { SqlConnection } from '../../services/sql/connection.js';
import { tableColumns } from './schema.js';
import { posixRegex } from './posix-regex.js';
import { simulationSettings } from '../policy/simulation.js';

const text = (v: unknown): string | undefined => {
  if (v === null || v === undefined) return undefined;
  const s = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return s.trim() === '' ? undefined : s.trim();
};
const number = (v: unknown): number => {
  const n = Number(text(v) ?? 0);
  return Number.isFinite(n) ? n : NaN;
};

/** default_smsc names the modem (PhoneID) that takes what no route takes; `*`: any modem (ours). */
export function defaultRouteOf(defaultSmsc: string | undefined): string {
  if (defaultSmsc === undefined) return 'none';
  return defaultSmsc === '*' ? 'spool' : `phone:${defaultSmsc}`;
}

/** The reverse, for esme add/set: our default_route as a default_smsc value. */
export function defaultSmscOf(defaultRoute: string): string | null {
  const d = defaultRoute.toLowerCase();
  if (d === 'none') return null;
  if (d === 'spool') return '*';
  return defaultRoute.slice('phone:'.length);
}

const USER_COLUMNS = [
  'system_id',
  'password',
  'throughput',
  'default_smsc',
  'default_cost',
  'enable_prepaid_billing',
  'simulate',
  'simulate_deliver_every',
  'simulate_permanent_failure_every',
  'simulate_temporary_failure_every',
  'simulate_mo_every',
  'max_binds',
  'connect_allow_ip',
  'enabled',
  'message_id_format',
  'message_id_length',
] as const;

type UserRow = Partial<Record<(typeof USER_COLUMNS)[number], unknown>>;

/** One smpp_user row as an Account, or why it cannot be one. */
export function accountOfRow(row: UserRow): Account | string {
  const systemId = text(row.system_id);
  if (!systemId || systemId.length > 15) return `system_id "${systemId ?? ''}" must have 1 to 15 characters`;
  const passwordHash = text(row.password) ?? '';
  const bad = checkPasswordHash(passwordHash);
  if (bad) return `password: ${bad}`;
  const nums: Record<string, number> = {};
  for (const k of [
    'throughput',
    'default_cost',
    'max_binds',
    'simulate_deliver_every',
    'simulate_permanent_failure_every',
    'simulate_temporary_failure_every',
    'simulate_mo_every',
  ] as const) {
    const n = number(row[k]);
    if (!(n >= 0)) return `${k} = ${String(row[k])} is not a number >= 0`;
    nums[k] = n;
  }
  let ip: ReturnType<typeof parseKannelIpList>;
  try {
    ip = parseKannelIpList(text(row.connect_allow_ip) ?? '');
  } catch (err) {
    return `connect_allow_ip: ${(err as Error).message}`;
  }
  const format = (text(row.message_id_format) ?? 'hex').toLowerCase();
  if (format !== 'hex' && format !== 'decimal') return `message_id_format = ${format}; use hex or decimal`;
  const length = number(row.message_id_length ?? 16);
  if (!Number.isInteger(length) || length < 8 || length > 64)
    return `message_id_length = ${String(row.message_id_length)}; use 8 to 64`;
  const every = (k: string): number => Math.floor(nums[k] ?? 0);
  return {
    systemId,
    passwordHash,
    enabled: row.enabled === undefined ? true : number(row.enabled) !== 0,
    maxBinds: Math.floor(nums.max_binds ?? 0),
    allow: ip.allow,
    ...(ip.patterns.length > 0 ? { allowPatterns: ip.patterns } : {}),
    throughput: nums.throughput ?? 0,
    // KSMPPD sends MO only through inbound routes.
    mo: false,
    sourcePattern: undefined,
    messageId: { format, length },
    longMo: 'udh',
    defaultRoute: defaultRouteOf(text(row.default_smsc)),
    defaultCost: nums.default_cost ?? 0,
    prepaid: number(row.enable_prepaid_billing) > 0,
    simulate: number(row.simulate) !== 0 ? simulationSettings(every) : undefined,
  };
}

export async function loadSqlAccounts(conn: SqlConnection, t: KsmppdTables): Promise<AccountsLoad> {
  const have = await tableColumns(conn, t.user);
  if (have.size === 0) throw new Error(`no table ${t.user} in ${conn.target} (smppd db init creates it)`);
  const cols = USER_COLUMNS.filter((c) => have.has(c));
  const r = await conn.query(`SELECT ${cols.join(', ')} FROM ${t.user} ORDER BY system_id`);
  const accounts = new Map<string, Account>();
  const warnings: string[] = [];
  for (const values of r.rows) {
    const row: UserRow = Object.fromEntries(cols.map((c, i) => [c, values[i]]));
    const a = accountOfRow(row);
    const where = `${t.user} row "${text(row.system_id) ?? ''}"`;
    if (typeof a === 'string') {
      warnings.push(`${where} skipped: ${a}`);
      continue;
    }
    const key = a.systemId.toLowerCase();
    // PostgreSQL compares case-sensitively; system_ids are not (KSMPPD lower-cases them).
    if (accounts.has(key)) {
      warnings.push(`${where} skipped: system_id ${a.systemId} is there twice (case differs)`);
      continue;
    }
    accounts.set(key, a);
  }
  return { accounts, warnings };
}

const ROUTE_COLUMNS = [
  'route_id',
  'direction',
  'regex',
  'cost',
  'system_id',
  'smsc_id',
  'source_regex',
  'priority',
] as const;
type RouteRow = Partial<Record<(typeof ROUTE_COLUMNS)[number], unknown>>;

/** One smpp_route row as a Route, or why it cannot be one. */
export function routeOfRow(row: RouteRow): Route | string {
  const dir = number(row.direction);
  if (dir !== 1 && dir !== 2) return `direction = ${String(row.direction)}; use 1 (outbound) or 2 (inbound)`;
  const direction = dir === 1 ? 'out' : 'in';
  // KSMPPD cannot compile a NULL regex and skips the row; an empty one matches every number.
  if (row.regex === null || row.regex === undefined) return 'regex is NULL';
  let destination: RegExp | undefined;
  let source: RegExp | undefined;
  try {
    destination = text(row.regex) === undefined ? undefined : posixRegex(text(row.regex) ?? '');
  } catch (err) {
    return `regex ${String(row.regex)}: ${(err as Error).message}`;
  }
  try {
    const s = text(row.source_regex);
    source = s === undefined ? undefined : posixRegex(s);
  } catch (err) {
    return `source_regex ${String(row.source_regex)}: ${(err as Error).message}`;
  }
  const cost = number(row.cost);
  if (!(cost >= 0)) return `cost = ${String(row.cost)} is not a number >= 0`;
  const priority = number(row.priority);
  if (!Number.isFinite(priority)) return `priority = ${String(row.priority)} is not a number`;
  const sid = text(row.system_id);
  // KSMPPD reads outbound routes WHERE system_id = <the ESME>: one without system_id is nobody's.
  if (!sid)
    return direction === 'out'
      ? 'no system_id (KSMPPD never uses such a route; * means every ESME)'
      : 'no system_id (the ESME that gets the MO)';
  if (sid === '*' && direction === 'in') return 'system_id * names no ESME to deliver the MO to';
  return {
    label: `route_id ${String(row.route_id ?? '?')}`,
    direction,
    destination,
    source,
    systemId: sid === '*' ? undefined : sid,
    phone: text(row.smsc_id),
    priority,
    cost,
    action: 'spool',
  };
}

export async function loadSqlRoutes(conn: SqlConnection, t: KsmppdTables): Promise<RoutesLoad> {
  const have = await tableColumns(conn, t.route);
  if (have.size === 0) throw new Error(`no table ${t.route} in ${conn.target} (smppd db init creates it)`);
  const cols = ROUTE_COLUMNS.filter((c) => have.has(c));
  // KSMPPD: ORDER BY priority DESC, first match wins; route_id keeps ties in a stable order.
  const order = have.has('priority') ? 'priority DESC, route_id' : 'route_id';
  const r = await conn.query(`SELECT ${cols.join(', ')} FROM ${t.route} ORDER BY ${order}`);
  const routes: Route[] = [];
  const warnings: string[] = [];
  for (const values of r.rows) {
    const row: RouteRow = Object.fromEntries(cols.map((c, i) => [c, values[i]]));
    const route = routeOfRow(row);
    if (typeof route === 'string')
      warnings.push(`${t.route} route_id ${String(row.route_id ?? '?')} skipped: ${route}`);
    else routes.push(route);
  }
  return { routes, warnings };
}

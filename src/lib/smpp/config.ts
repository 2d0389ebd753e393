import type { HttpFrontConfig } from './http/front.js';
import path from 'node:path';
import { ConfigError, makeWarning, quote } from '../config/errors.js';
import type { IniSection } from '../config/ini.js';
import { SMPPD_KEY_NAMES } from '../config/smppd-keys.js';
import { suggest } from '../config/suggest.js';
import { parseBool, parseEnum, parseNumber, type ValueSource } from '../config/values.js';
import { parseCidrList, type Cidr } from './protocol/net.js';
import type { ConnectOptions } from '../services/sql/connection.js';

/** Where accounts and routes come from (KSMPPD's auth-method / routing-method: database, http). */
export type SourceKind = 'file' | 'sql' | 'http';

/** KSMPPD's table names (database-user-table, database-route-table, database-version-table). */
export interface KsmppdTables {
  user: string;
  route: string;
  version: string;
}

/** KSMPPD's HTTP auth and routing (spec section 3): URLs used verbatim, GET, headers only. */
export interface KsmppdHttpConfig {
  authUrl: string | undefined;
  routingUrl: string | undefined;
  /** Per request; a bind waiting on a dead service is refused after this, never left hanging. */
  timeoutMs: number;
  /** Lifetime of a positive auth answer (0: ask on every bind, as KSMPPD does). */
  authCacheMs: number;
}

/** The [smsd] SQL keys, the fallback of the [smppd] Sql* keys (one database for both). */
export interface SmsdSqlKeys {
  driver: string | undefined;
  host: string;
  user: string;
  password: string;
  database: string;
  /** SQLite: the folder of Database (Gammu's DBDir). */
  dbDir?: string | undefined;
}

/**
 * The `[smppd]` section of the smsd config file (the loader keeps it raw for us). Times are in
 * seconds (fractions allowed).
 */
export interface SmppdConfig {
  port: number;
  listen: string;
  /** AccountsSource (default file: AccountsFile). */
  accountsSource: SourceKind;
  /** Set when AccountsSource = file. */
  accountsFile: string | undefined;
  /** RoutesSource (default file: RoutesFile, or no routes without one). */
  routesSource: SourceKind;
  /** Routes (see routes.ts); without it everything goes to the spool, any modem. */
  routesFile: string | undefined;
  /** The KSMPPD database, when either source is sql or SqlDriver is set (smppd db init before switching). */
  sql: { connection: ConnectOptions; tables: KsmppdTables } | undefined;
  http: KsmppdHttpConfig;
  /**
   * This node's name among several sharing one database (NodeId). Default: a random name kept in the
   * state folder (sql-db.ts smppdNodeId), unique even for two nodes on one host.
   */
  nodeId: string | undefined;
  /** With Service = sql: a node silent this long is dead, its open messages taken over (NodeTimeout). */
  nodeTimeoutMs: number;
  /**
   * With Service = sql: a sent message whose status report never comes is closed as EXPIRED this
   * long after its validity_period (ReceiptGrace), or after ReceiptValidity when it set none.
   */
  receiptGraceMs: number;
  receiptValidityMs: number;
  /** An SMPP listener over TLS beside the plain one (TlsPort, TlsKey, TlsCert, TlsListen). */
  tls: { port: number; listen: string; keyFile: string; certFile: string } | undefined;
  systemId: string;
  maxPduLength: number;
  window: number;
  sessionInitMs: number;
  enquireLinkMs: number;
  inactivityMs: number;
  responseMs: number;
  blockAttempts: number;
  blockMs: number;
  blockExempt: Cidr[];
  /** Open SMPP connections in all and per IP; more are closed at once (MaxConnections, MaxConnectionsPerIp). */
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Unsent bytes per session above which it is not read (MaxOutputBuffer), closed after OutputTimeout. */
  maxOutputBytes: number;
  outputStallMs: number;
  /** Password checks at once, per IP, how many binds wait and how long (BindCheck*). */
  bindChecks: { concurrency: number; perIp: number; maxQueue: number; maxWaitMs: number };
  /** destination_addr of MO whose receiving number is unknown (DefaultMoDestination; else the PhoneID). */
  defaultMoDestination: string | undefined;
  /** Temporary refusals of one receipt or MO before it goes to the dead letters (DeliveryMaxAttempts). */
  deliveryMaxAttempts: number;
  /** Wait after a failed delivery attempt (DeliveryRetryInterval). */
  deliveryRetryMs: number;
  debug: boolean;
  /** Where smppd keeps its queues (default `<spool>/smppd`, beside reports/). */
  stateDir: string | undefined;
  /** The admin HTTP interface (KSMPPD's commands, JSON/XML, /metrics); off without AdminPort. */
  admin: AdminConfig | undefined;
  /** Kannel's sendsms over HTTP on smppd's accounts (HttpPort, HttpListen, ...); off without HttpPort. */
  httpFront: HttpFrontConfig | undefined;
  /** Calls of Kannel dlr-urls (DlrQueueSize, DlrMaxAttempts, DlrMaxAge, DlrTimeout). */
  dlr: { max: number; maxAttempts: number; maxAgeMs: number; timeoutMs: number };
  /** MO to application URLs: the rules (MoRoutesFile) and their call queue (MoUrl*). */
  moUrl: {
    routesFile: string | undefined;
    max: number;
    maxAttempts: number;
    maxAgeMs: number;
    timeoutMs: number;
    firstDelayMs: number;
  };
}

export interface AdminConfig {
  port: number;
  listen: string;
  password: string;
  /** /metrics without the password (a Prometheus scraper on a trusted network). */
  metricsPublic: boolean;
  /** A request must be complete (headers and all) within this (AdminRequestTimeout). */
  requestTimeoutMs?: number;
  /** Open connections at most (AdminMaxConnections); more are closed as they come. */
  maxConnections?: number;
  /** BlockTime, for the Retry-After of a refused address. */
  blockMs?: number;
}

const SQL_KEYS = [
  'sqldriver',
  'sqlhost',
  'sqluser',
  'sqlpassword',
  'sqldatabase',
  'usertable',
  'routetable',
  'versiontable',
];

/** [smppd]'s errors are the config layer's (file:line, key, value, what is allowed). */
export class SmppdConfigError extends ConfigError {
  constructor(message: string, file: string, src?: ValueSource) {
    super(message, { file, ...(src ? { line: src.line, key: src.rawKey, value: src.value } : {}) });
  }
}

const SOURCES: readonly SourceKind[] = ['file', 'sql', 'http'];

/** Driver names we take for the KSMPPD database: Gammu's (as in [smsd]) and the plain ones. */
const SQL_DRIVERS: Record<string, ConnectOptions['dialect']> = {
  native_mysql: 'mysql',
  mysql: 'mysql',
  mariadb: 'mysql',
  native_pgsql: 'pgsql',
  pgsql: 'pgsql',
  postgresql: 'pgsql',
  sqlite: 'sqlite',
  sqlite3: 'sqlite',
};

/** Table names go into SQL text (they cannot be bound), so only plain identifiers. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * `smsd` gives the [smsd] SQL keys: with AccountsSource or RoutesSource = sql and no SqlDriver in
 * [smppd], the KSMPPD tables are read from [smsd]'s database (Driver, Host, User, Password,
 * Database). With SqlDriver, [smppd]'s own SqlHost, SqlUser, SqlPassword, SqlDatabase are used
 * and none of [smsd]'s: a KSMPPD database is often not the one Gammu's tables live in.
 */
export function readSmppdConfig(
  sections: readonly IniSection[],
  file: string,
  cwd: string,
  smsd?: SmsdSqlKeys,
): { config: SmppdConfig; warnings: string[] } {
  const warnings: string[] = [];
  const values = new Map<string, ValueSource>();
  // A repeated section or key: the first value wins, as everywhere else in Gammu's format.
  for (const s of sections.filter((x) => x.name === 'smppd'))
    for (const e of s.entries)
      if (e.value !== '' && !values.has(e.key))
        values.set(e.key, { file, value: e.value, line: e.line, rawKey: e.rawKey });
  const used = new Set<string>();
  const str = (k: string): string | undefined => {
    used.add(k);
    return values.get(k)?.value;
  };
  const num = (
    k: string,
    def: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
    integer = true,
  ): number => {
    const v = values.get(k);
    used.add(k);
    return v ? parseNumber(v, { min, max, integer }) : def;
  };
  /** The error of key `k`: with file:line, key and value. */
  const failure = (k: string, message: string): SmppdConfigError =>
    new SmppdConfigError(message, file, values.get(k));
  const seconds = (k: string, def: number): number => Math.round(num(k, def, 0.01, 86_400, false) * 1000);
  const source = (k: string): SourceKind => {
    const v = values.get(k);
    used.add(k);
    return v ? parseEnum(v, SOURCES) : 'file';
  };
  const accountsSource = source('accountssource');
  const routesSource = source('routessource');
  const accounts = str('accountsfile');
  if (accountsSource === 'file' && !accounts)
    throw new SmppdConfigError('[smppd] needs AccountsFile = <path of the ESME accounts file>', file);
  const unusedWith = (key: string, rawKey: string, why: string): void => {
    const v = values.get(key);
    used.add(key);
    if (v) warnings.push(makeWarning(file, v.line, `${rawKey} is not used: ${why}`).message);
  };
  if (accountsSource !== 'file')
    unusedWith('accountsfile', 'AccountsFile', `AccountsSource = ${accountsSource}`);
  if (routesSource !== 'file') unusedWith('routesfile', 'RoutesFile', `RoutesSource = ${routesSource}`);
  const sql =
    accountsSource === 'sql' || routesSource === 'sql' || values.has('sqldriver')
      ? readSql()
      : (skipSql(), undefined);
  const http = readHttp();
  const levelSrc = values.get('loglevel');
  used.add('loglevel');
  const level = levelSrc ? parseEnum(levelSrc, ['debug', 'info'] as const) : 'info';
  let blockExempt: Cidr[] = [];
  const exempt = str('blockexempt');
  try {
    if (exempt) blockExempt = parseCidrList(exempt);
  } catch (err) {
    throw failure('blockexempt', `BlockExempt = ${quote(exempt ?? '')}: ${(err as Error).message}`);
  }
  const stateDir = str('statedir');
  const routes = str('routesfile');
  let tls: SmppdConfig['tls'];
  if (values.has('tlsport')) {
    const keyFile = str('tlskey');
    const certFile = str('tlscert');
    if (!keyFile || !certFile)
      throw failure('tlsport', 'TlsPort needs TlsKey = <PEM key file> and TlsCert = <PEM certificate file>');
    tls = {
      port: num('tlsport', 0, 0, 65535),
      listen: str('tlslisten') ?? str('listen') ?? '0.0.0.0',
      keyFile: path.resolve(cwd, keyFile),
      certFile: path.resolve(cwd, certFile),
    };
  } else for (const k of ['tlskey', 'tlscert', 'tlslisten']) used.add(k);
  let admin: AdminConfig | undefined;
  if (values.has('adminport')) {
    const password = str('adminpassword');
    // KSMPPD refuses every admin request without its password; an open admin port is never a default.
    if (!password) throw failure('adminport', 'AdminPort needs AdminPassword = <a secret>');
    const pub = values.get('adminmetricspublic');
    used.add('adminmetricspublic');
    admin = {
      port: num('adminport', 0, 0, 65535),
      listen: str('adminlisten') ?? '127.0.0.1',
      password,
      // The boolean words of every section (values.ts): yes/no, true/false, y/n, t/f, 1/0.
      metricsPublic: pub ? parseBool(pub) : false,
      requestTimeoutMs: seconds('adminrequesttimeout', 10),
      maxConnections: num('adminmaxconnections', 32, 1, 100_000),
      blockMs: seconds('blocktime', 300),
    };
  } else
    for (const k of [
      'adminpassword',
      'adminlisten',
      'adminmetricspublic',
      'adminrequesttimeout',
      'adminmaxconnections',
    ])
      used.add(k);
  let httpFront: HttpFrontConfig | undefined;
  if (values.has('httpport')) {
    httpFront = {
      port: num('httpport', 0, 0, 65535),
      listen: str('httplisten') ?? str('listen') ?? '0.0.0.0',
      maxConnections: num('httpmaxconnections', 1000, 1, 1_000_000),
      maxBody: num('httpmaxbody', 65_536, 1024, 16_777_216),
      headersTimeoutMs: seconds('httpheaderstimeout', 10),
      requestTimeoutMs: seconds('httprequesttimeout', 30),
      idempotency: {
        ttlMs: Math.round(num('httpidempotencyttl', 86_400, 60, 2_592_000, false) * 1000),
        maxKeys: num('httpidempotencykeys', 100_000, 1, 10_000_000),
        maxKeysPerAccount: num('httpidempotencykeysperaccount', 10_000, 1, 10_000_000),
      },
    };
  } else
    for (const k of [
      'httplisten',
      'httpmaxconnections',
      'httpmaxbody',
      'httpheaderstimeout',
      'httprequesttimeout',
      'httpidempotencyttl',
      'httpidempotencykeys',
      'httpidempotencykeysperaccount',
    ])
      used.add(k);
  const dlr = {
    max: num('dlrqueuesize', 100_000, 1, 10_000_000),
    maxAttempts: num('dlrmaxattempts', 30, 1, 1000),
    maxAgeMs: Math.round(num('dlrmaxage', 172_800, 1, 2_592_000, false) * 1000),
    timeoutMs: seconds('dlrtimeout', 10),
  };
  const moRoutes = str('moroutesfile');
  const moUrl = {
    routesFile: moRoutes ? path.resolve(cwd, moRoutes) : undefined,
    max: num('mourlqueuesize', 10_000, 1, 10_000_000),
    maxAttempts: num('mourlmaxattempts', 30, 1, 1000),
    maxAgeMs: Math.round(num('mourlmaxage', 172_800, 1, 2_592_000, false) * 1000),
    timeoutMs: seconds('mourltimeout', 10),
    firstDelayMs: seconds('mourlretryinterval', 5),
  };
  const config: SmppdConfig = {
    port: num('port', 2775, 0, 65535),
    listen: str('listen') ?? '0.0.0.0',
    accountsSource,
    accountsFile: accountsSource === 'file' && accounts ? path.resolve(cwd, accounts) : undefined,
    routesSource,
    routesFile: routesSource === 'file' && routes ? path.resolve(cwd, routes) : undefined,
    sql,
    http,
    nodeId: str('nodeid'),
    nodeTimeoutMs: seconds('nodetimeout', 15),
    // Up to 30 days / a year: TP-VP itself reaches 63 weeks.
    receiptGraceMs: Math.round(num('receiptgrace', 86_400, 0, 2_592_000, false) * 1000),
    receiptValidityMs: Math.round(num('receiptvalidity', 172_800, 1, 31_536_000, false) * 1000),
    tls,
    systemId: (str('systemid') ?? 'smsgate').slice(0, 15),
    maxPduLength: num('maxpdulength', 70_000, 256, 1_048_576),
    window: num('window', 100, 1, 10_000),
    sessionInitMs: seconds('sessioninittimeout', 30),
    enquireLinkMs: seconds('enquirelinkinterval', 30),
    inactivityMs: seconds('inactivitytimeout', 300),
    responseMs: seconds('responsetimeout', 30),
    blockAttempts: num('blockattempts', 5, 0, 1000),
    blockMs: seconds('blocktime', 300),
    blockExempt,
    maxConnections: num('maxconnections', 5_000, 1, 1_000_000),
    maxConnectionsPerIp: num('maxconnectionsperip', 200, 1, 1_000_000),
    maxOutputBytes: num('maxoutputbuffer', 262_144, 16_384, 1_073_741_824),
    outputStallMs: seconds('outputtimeout', 30),
    bindChecks: {
      concurrency: num('bindcheckconcurrency', 2, 1, 256),
      perIp: num('bindchecksperip', 2, 1, 256),
      maxQueue: num('bindcheckqueue', 1_000, 0, 100_000),
      maxWaitMs: seconds('bindcheckwait', 10),
    },
    defaultMoDestination: str('defaultmodestination')?.slice(0, 20),
    deliveryMaxAttempts: num('deliverymaxattempts', 50, 1, 1_000_000),
    deliveryRetryMs: seconds('deliveryretryinterval', 5),
    debug: level === 'debug',
    stateDir: stateDir ? path.resolve(cwd, stateDir) : undefined,
    admin,
    httpFront,
    dlr,
    moUrl,
  };
  for (const [k, v] of values) {
    if (used.has(k)) continue;
    const near = suggest(k, SMPPD_KEY_NAMES);
    const text = `unknown key ${quote(v.rawKey)} in [smppd] is ignored${near ? `; did you mean ${near}?` : ''}`;
    warnings.push(makeWarning(file, v.line, text, { section: 'smppd', key: v.rawKey }).message);
  }
  return { config, warnings };

  function table(k: string, rawKey: string, def: string): string {
    const v = str(k) ?? def;
    if (!IDENTIFIER.test(v))
      throw failure(k, `${rawKey} = ${quote(v)} is not a plain table name (letters, digits, _)`);
    return v;
  }

  function skipSql(): void {
    for (const k of SQL_KEYS) used.add(k);
  }

  function readSql(): { connection: ConnectOptions; tables: KsmppdTables } {
    const tables = {
      user: table('usertable', 'UserTable', 'smpp_user'),
      route: table('routetable', 'RouteTable', 'smpp_route'),
      version: table('versiontable', 'VersionTable', 'smpp_version'),
    };
    const own = str('sqldriver');
    const driverName = (own ?? smsd?.driver ?? '').toLowerCase();
    // Own keys only: `SqlDriver = constructor` must not find Object.prototype.constructor.
    const dialect = Object.hasOwn(SQL_DRIVERS, driverName) ? SQL_DRIVERS[driverName] : undefined;
    if (!dialect)
      throw failure(
        own ? 'sqldriver' : 'accountssource',
        own
          ? `SqlDriver = ${quote(own)} is not valid; use native_mysql (MySQL/MariaDB), native_pgsql (PostgreSQL) or sqlite3 (one node)`
          : 'AccountsSource/RoutesSource = sql needs SqlDriver = native_mysql, native_pgsql or sqlite3 in [smppd] (or Driver = one of them in [smsd])',
      );
    if (own) {
      const database = str('sqldatabase');
      if (!database) throw failure('sqldriver', 'SqlDriver needs SqlDatabase = <the KSMPPD database>');
      return {
        connection: {
          dialect,
          host: str('sqlhost') ?? 'localhost',
          user: str('sqluser') ?? 'root',
          password: str('sqlpassword') ?? '',
          // SQLite: SqlDatabase is the file, relative to the working folder.
          database: dialect === 'sqlite' ? path.resolve(cwd, database) : database,
        },
        tables,
      };
    }
    for (const k of ['sqlhost', 'sqluser', 'sqlpassword', 'sqldatabase'])
      unusedWith(k, values.get(k)?.rawKey ?? k, 'without SqlDriver the [smsd] database keys are used');
    const s = smsd as SmsdSqlKeys;
    return {
      connection: {
        dialect,
        host: s.host,
        user: s.user,
        password: s.password,
        database: s.database,
        ...(s.dbDir !== undefined ? { dbDir: s.dbDir } : {}),
      },
      tables,
    };
  }

  function readHttp(): KsmppdHttpConfig {
    const url = (k: string, rawKey: string, neededBy: string | undefined): string | undefined => {
      const v = str(k);
      if (!v) {
        if (neededBy)
          throw failure(neededBy.toLowerCase(), `${neededBy} = http needs ${rawKey} = http://...`);
        return undefined;
      }
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        // parsing only: the error names the key and value
        throw failure(k, `${rawKey} = ${quote(v)} is not a URL`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:')
        throw failure(k, `${rawKey} = ${quote(v)} is not valid; use an http:// or https:// URL`);
      return v;
    };
    const authUrl = url('authurl', 'AuthUrl', accountsSource === 'http' ? 'AccountsSource' : undefined);
    const routingUrl = url('routingurl', 'RoutingUrl', routesSource === 'http' ? 'RoutesSource' : undefined);
    if (authUrl && accountsSource !== 'http')
      unusedWith('authurl', 'AuthUrl', `AccountsSource = ${accountsSource}`);
    if (routingUrl && routesSource !== 'http')
      unusedWith('routingurl', 'RoutingUrl', `RoutesSource = ${routesSource}`);
    return {
      authUrl: accountsSource === 'http' ? authUrl : undefined,
      routingUrl: routesSource === 'http' ? routingUrl : undefined,
      timeoutMs: seconds('httptimeout', 5),
      authCacheMs: Math.round(num('authcachetime', 60, 0, 86_400, false) * 1000),
    };
  }
}

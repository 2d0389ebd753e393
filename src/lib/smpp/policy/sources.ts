import type { Logger } from '../../common/log.js';
import { SqlConnection } from '../../services/sql/connection.js';
import { loadAccounts, type Account, type AccountsLoad } from './accounts.js';
import type { SmppdConfig, SourceKind } from '../config.js';
import { HttpAuthenticator } from './http-auth.js';
import { HttpRouter } from './http-routing.js';
import { loadRoutes, type Route, type RoutesLoad } from './routes.js';
import { loadSqlAccounts, loadSqlRoutes } from '../sql/load.js';

/**
 * Where smppd's accounts and routes come from (AccountsSource, RoutesSource): the INI files, the
 * KSMPPD tables, or KSMPPD's HTTP services, each behind one interface. Files and SQL are read whole
 * at start and at each reload, so the bind and submit paths stay in memory (no await per submit);
 * HTTP is asked per bind (with a short cache) and per message.
 */

export interface Loaded {
  /** Undefined with HTTP auth: there is no list, accounts become known as they bind. */
  accounts: Map<string, Account> | undefined;
  /** Undefined with HTTP routing. */
  routes: Route[] | undefined;
  warnings: string[];
}

/** What one reload gives its sources: the KSMPPD database, connected on first use. */
export interface LoadContext {
  sql(): SqlConnection;
}

export interface AccountsSource {
  /** Where the accounts come from, for logs. */
  readonly where: string;
  /** An outside judge of binds (HTTP auth), instead of a list. */
  readonly authenticator?: HttpAuthenticator;
  /** The whole list, or `accounts` undefined when there is none (HTTP). */
  load(
    ctx: LoadContext,
  ): Promise<Pick<AccountsLoad, 'warnings'> & { accounts: AccountsLoad['accounts'] | undefined }>;
}

export interface RoutesSource {
  /** Where the routes come from, for logs ('' without a routes file). */
  readonly where: string;
  /** An outside router of submits (HTTP routing), instead of a list. */
  readonly router?: HttpRouter;
  load(
    ctx: LoadContext,
  ): Promise<Pick<RoutesLoad, 'warnings'> & { routes: RoutesLoad['routes'] | undefined }>;
}

/** The KSMPPD database of the config (config.ts reads it whenever a source is sql). */
function ksmppd(c: SmppdConfig): NonNullable<SmppdConfig['sql']> {
  if (!c.sql) throw new Error('the KSMPPD database is not configured');
  return c.sql;
}

const ACCOUNTS: Record<SourceKind, (c: SmppdConfig, log: Logger) => AccountsSource> = {
  file: (c) => ({
    where: c.accountsFile ?? '',
    load: async () => loadAccounts(c.accountsFile ?? ''),
  }),
  sql: (c) => ({
    where: `table ${c.sql?.tables.user ?? ''}`,
    load: (ctx) => loadSqlAccounts(ctx.sql(), ksmppd(c).tables),
  }),
  http: (c, log) => ({
    where: 'HTTP auth (known after binding)',
    authenticator: c.http.authUrl
      ? new HttpAuthenticator({
          url: c.http.authUrl,
          timeoutMs: c.http.timeoutMs,
          cacheMs: c.http.authCacheMs,
          log,
        })
      : undefined,
    load: async () => ({ accounts: undefined, warnings: [] }),
  }),
};

const ROUTES: Record<SourceKind, (c: SmppdConfig, log: Logger) => RoutesSource> = {
  file: (c) => ({
    where: c.routesFile ? ` from ${c.routesFile}` : '',
    load: async () => loadRoutes(c.routesFile),
  }),
  sql: (c) => ({
    where: ` from table ${c.sql?.tables.route ?? ''}`,
    load: (ctx) => loadSqlRoutes(ctx.sql(), ksmppd(c).tables),
  }),
  http: (c, log) => ({
    where: ' (HTTP routing)',
    router: c.http.routingUrl ? new HttpRouter(c.http.routingUrl, c.http.timeoutMs, log) : undefined,
    load: async () => ({ routes: undefined, warnings: [] }),
  }),
};

export class SmppdSources {
  readonly accounts: AccountsSource;
  readonly routes: RoutesSource;

  constructor(
    private readonly c: SmppdConfig,
    log: Logger,
  ) {
    this.accounts = ACCOUNTS[c.accountsSource](c, log);
    this.routes = ROUTES[c.routesSource](c, log);
  }

  get authenticator(): HttpAuthenticator | undefined {
    return this.accounts.authenticator;
  }

  get router(): HttpRouter | undefined {
    return this.routes.router;
  }

  /** Both read before either is used: a broken one throws and the caller keeps the old pair. */
  async load(): Promise<Loaded> {
    let conn: SqlConnection | undefined;
    const ctx: LoadContext = {
      // Opened per load: reloads are rare, and an idle connection is one the server drops.
      sql: () =>
        (conn ??= new SqlConnection({
          ...ksmppd(this.c).connection,
          retries: 2,
          connectTimeoutMs: 5_000,
        })),
    };
    try {
      const a = await this.accounts.load(ctx);
      const r = await this.routes.load(ctx);
      return { accounts: a.accounts, routes: r.routes, warnings: [...a.warnings, ...r.warnings] };
    } finally {
      await conn?.close().catch(() => undefined);
    }
  }

  /** Where the accounts come from, for logs. */
  accountsWhere(): string {
    return this.accounts.where;
  }

  /** Where the routes come from, for logs ('' without a routes file). */
  routesWhere(): string {
    return this.routes.where;
  }
}

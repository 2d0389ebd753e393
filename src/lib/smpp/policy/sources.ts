import type { Logger } from '../../common/log.js';
import { SqlConnection } from '../../services/sql/connection.js';
import { loadAccounts, type Account } from './accounts.js';
import type { SmppdConfig } from '../config.js';
import { HttpAuthenticator } from './http-auth.js';
import { HttpRouter } from './http-routing.js';
import { loadRoutes, type Route } from './routes.js';
import { loadSqlAccounts, loadSqlRoutes } from '../sql/load.js';

/**
 * Where smppd's accounts and routes come from (AccountsSource, RoutesSource): the INI files, the
 * KSMPPD tables, or KSMPPD's HTTP services. Files and SQL are read whole at start and at each
 * reload, so the bind and submit paths stay in memory (no await per submit); HTTP is asked per bind
 * (with a short cache) and per message.
 */

export interface Loaded {
  /** Undefined with HTTP auth: there is no list, accounts become known as they bind. */
  accounts: Map<string, Account> | undefined;
  /** Undefined with HTTP routing. */
  routes: Route[] | undefined;
  warnings: string[];
}

export class SmppdSources {
  readonly authenticator: HttpAuthenticator | undefined;
  readonly router: HttpRouter | undefined;

  constructor(
    private readonly c: SmppdConfig,
    log: Logger,
  ) {
    const { http } = c;
    this.authenticator =
      c.accountsSource === 'http' && http.authUrl
        ? new HttpAuthenticator({
            url: http.authUrl,
            timeoutMs: http.timeoutMs,
            cacheMs: http.authCacheMs,
            log,
          })
        : undefined;
    this.router =
      c.routesSource === 'http' && http.routingUrl
        ? new HttpRouter(http.routingUrl, http.timeoutMs, log)
        : undefined;
  }

  /** Both read before either is used: a broken one throws and the caller keeps the old pair. */
  async load(): Promise<Loaded> {
    const { c } = this;
    let conn: SqlConnection | undefined;
    if (c.sql && (c.accountsSource === 'sql' || c.routesSource === 'sql'))
      // Opened per load: reloads are rare, and an idle connection is one the server drops.
      conn = new SqlConnection({ ...c.sql.connection, retries: 2, connectTimeoutMs: 5_000 });
    try {
      const warnings: string[] = [];
      let accounts: Map<string, Account> | undefined;
      let routes: Route[] | undefined;
      if (c.accountsSource === 'file') {
        const a = loadAccounts(c.accountsFile ?? '');
        accounts = a.accounts;
        warnings.push(...a.warnings);
      } else if (c.accountsSource === 'sql' && conn && c.sql) {
        const a = await loadSqlAccounts(conn, c.sql.tables);
        accounts = a.accounts;
        warnings.push(...a.warnings);
      }
      if (c.routesSource === 'file') {
        const r = loadRoutes(c.routesFile);
        routes = r.routes;
        warnings.push(...r.warnings);
      } else if (c.routesSource === 'sql' && conn && c.sql) {
        const r = await loadSqlRoutes(conn, c.sql.tables);
        routes = r.routes;
        warnings.push(...r.warnings);
      }
      return { accounts, routes, warnings };
    } finally {
      await conn?.close().catch(() => undefined);
    }
  }

  /** Where the accounts come from, for logs. */
  accountsWhere(): string {
    const { c } = this;
    if (c.accountsSource === 'file') return c.accountsFile ?? '';
    if (c.accountsSource === 'sql') return `table ${c.sql?.tables.user ?? ''}`;
    return 'HTTP auth (known after binding)';
  }

  /** Where the routes come from, for logs ('' without a routes file). */
  routesWhere(): string {
    const { c } = this;
    if (c.routesSource === 'file') return c.routesFile ? ` from ${c.routesFile}` : '';
    if (c.routesSource === 'sql') return ` from table ${c.sql?.tables.route ?? ''}`;
    return ' (HTTP routing)';
  }
}

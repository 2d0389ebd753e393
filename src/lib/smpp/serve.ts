import fs from 'node:fs';
import path from 'node:path';
import { loadSmsdConfig, type SmsdConfig } from '../config/smsd-config.js';
import { streamLogger, type LogLevel, type Logger } from '../common/log.js';
import { AdminServer } from './admin/admin.js';
import type { Account } from './policy/accounts.js';
import { readSmppdConfig, type SmppdConfig } from './config.js';
import { smppdPaths } from './paths.js';
import { FailureBlocklist } from './protocol/net.js';
import { BindGate } from './policy/bind-gate.js';
import { DeliveryQueue } from './store/queue.js';
import { SmppServer } from './protocol/server.js';
import { SpoolEvents } from './store/spool-events.js';
import { OutboxStore } from './store/store.js';
import { MessageIndex } from './store/messages.js';
import { routeInbound, type Route } from './policy/routes.js';
import { SmppdSources } from './policy/sources.js';
import type { MoTarget, SpoolEventsOptions } from './store/spool-events.js';
import { Billing, type CreditKeeper } from './policy/billing.js';
import { SqlBilling } from './sql/billing.js';
import { SharedThroughput, SqlRateExchange } from './policy/shared-throughput.js';
import { SqlConnection, type ConnectOptions } from '../services/sql/connection.js';
import type { EventSource, MessageLookup, MessageStore } from './store/message-store.js';
import { sqlServiceOptions } from '../services/sql/settings.js';
import { SmppdDb, smppdNodeId } from './sql/db.js';
import { claimSoleNode, smppdConnection } from './sql/sole-node.js';
import { SqlMessageStore } from './sql/store.js';
import { TxCredit, type TxCreditTables } from './sql/credit-tx.js';
import { SqlMessageLookup } from './sql/messages.js';
import { SqlEvents } from './sql/events.js';
import { HttpFront } from './http/front.js';
import { DlrQueue, dlrCall } from './http/dlr.js';
import type { DlrReport } from './store/spool-events.js';
import { IdempotencyKeys } from './http/idempotency.js';
import { spoolMessageView, type MessageView } from './http/json-status.js';
import { sqlMessageView } from './http/json-status-sql.js';
import { webhookCall } from './http/webhook.js';
import { packageRoot } from '../config/locate.js';
import { MoDispatch } from './http/mo-dispatch.js';
import { ModemsUp } from './http/modems.js';

/**
 * `smppd serve`: wires the config, the store, the accounts and the server together. The store is
 * where `smsd run` sends from: the spool with `[smsd] Service = files`, Gammu's SQL outbox with
 * `Service = sql` (the same database settings as `smsd run`).
 */

export interface Smppd {
  port: number;
  server: SmppServer;
  /** The admin HTTP port, when AdminPort is set. */
  adminPort: number | undefined;
  /** The TLS port, when TlsPort is set. */
  tlsPort: number | undefined;
  /** The HTTP (Kannel sendsms) port, when HttpPort is set. */
  httpPort: number | undefined;
  /** dlr-url calls: waiting, made, dead-lettered, possibly repeated after a crash. */
  dlr: DlrQueue;
  /** The JSON API's receipt webhooks (signed POSTs), the same kind of queue. */
  webhooks: DlrQueue;
  /** MO to application URLs (MoRoutesFile), when configured. */
  moUrls: MoDispatch | undefined;
  /** Re-reads the accounts and routes (files or SQL; SIGHUP, routes rebuild); binds stay. Rejects and keeps the old ones. */
  reload(): Promise<string>;
  /** Resolves once every message acknowledged so far has its outbox file (they follow the ack). */
  settled(): Promise<void>;
  /** Stops accepting, unbinds, flushes the journal and the queue. */
  stop(): Promise<void>;
}

export interface StartOptions {
  smsd: SmsdConfig;
  smppd: SmppdConfig;
  log: Logger;
  /** Lowest level passed on to `log` (changed by /log-level); default: everything. */
  logLevel?: LogLevel;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** What the server and the event source need of the hooks serve.ts builds. */
interface EventHooks {
  queue: DeliveryQueue;
  moTarget: SpoolEventsOptions['moTarget'];
  refund: (sid: string, id: string, cost: number, why: string) => Promise<unknown>;
  knownSystemId: (sid: string) => string | undefined;
  queued: (sid: string) => void;
  dlr: (report: DlrReport) => void;
  moUrl?: SpoolEventsOptions['moUrl'];
  /** system_ids with a receiver bound on this node (the SQL backend shares queues between nodes). */
  receivers: () => ReadonlySet<string>;
  log: Logger;
  /** destination_addr of an MO with no recorded receiving number. */
  moDestination: (mo: { receiver: string; phone: string | undefined }) => string;
}

interface Backend {
  store: MessageStore;
  messages: MessageLookup;
  events: (hooks: EventHooks) => EventSource;
  /** GET /v1/messages/{id} of the JSON API; undefined where the store cannot show a message yet. */
  view?: (id: string, systemId: string) => Promise<MessageView | undefined>;
  /** Where messages go, for the start-up line. */
  describe: string;
  /** Closes what the backend holds after the server stopped. */
  close: () => Promise<void>;
}

function spoolBackend(paths: ReturnType<typeof smppdPaths>, log: Logger): Backend {
  fs.mkdirSync(paths.reports, { recursive: true });
  const messages = new MessageIndex(paths);
  const store = new OutboxStore(paths.outbox, [paths.sent, paths.error], {
    log,
    renamed: (id, name) => messages.remember(id, name),
  });
  messages.unmaterialized = store;
  const restored = store.recover();
  if (restored.length > 0)
    log(
      'warn',
      `restored ${restored.length} committed outbox files lost when a writer was killed or crashed`,
    );
  return {
    store,
    messages,
    events: ({ receivers: _local, ...hooks }) => new SpoolEvents({ paths, ...hooks }),
    view: (id, sid) => spoolMessageView(paths, messages, id, sid),
    describe: `spool ${path.dirname(paths.outbox)}`,
    close: async () => undefined,
  };
}

/** Two connections: group-committed submits on one, polls, query_sm and cancel_sm on the other. */
async function sqlBackend(
  smsd: SmsdConfig,
  node: string,
  log: Logger,
  timing: Pick<SmppdConfig, 'nodeTimeoutMs' | 'receiptGraceMs' | 'receiptValidityMs'>,
  credit: { connection: ConnectOptions; tables: TxCreditTables } | undefined,
): Promise<Backend> {
  const service = sqlServiceOptions(smsd, (level, m) => log(level, `SQL: ${m}`), 'smppd serve');
  const options = { ...service, connection: smppdConnection(service.connection) };
  // KSMPPD's credit in the outbox's own database: charged in the outbox transaction (one commit).
  const a = options.connection;
  const b = credit?.connection;
  const together =
    b !== undefined &&
    a.dialect === b.dialect &&
    a.host === b.host &&
    a.user === b.user &&
    a.database === b.database;
  if (credit)
    log(
      'info',
      together
        ? 'prepaid credit charged in the outbox transaction (KSMPPD tables in the same database)'
        : 'prepaid credit charged in a transaction of its own (KSMPPD tables in another database)',
    );
  const storeDb = await SmppdDb.open(options, node);
  let eventsDb: SmppdDb | undefined;
  let release: () => void;
  try {
    eventsDb = await SmppdDb.open(options, node);
    // After the opens: a file that cannot be written is reported as such, not as an unmakeable lock.
    release = await claimSoleNode(options.connection);
  } catch (err) {
    await eventsDb?.close();
    await storeDb.close();
    throw err;
  }
  const events = eventsDb;
  return {
    store: new SqlMessageStore(storeDb, together && credit ? new TxCredit(credit.tables, node) : undefined),
    messages: new SqlMessageLookup(events),
    events: (hooks) =>
      new SqlEvents({
        db: events,
        ...hooks,
        nodeTimeoutMs: timing.nodeTimeoutMs,
        receiptGraceMs: timing.receiptGraceMs,
        receiptValidityMs: timing.receiptValidityMs,
      }),
    view: (id, sid) => sqlMessageView(events, id, sid),
    describe: `SQL outbox ${storeDb.conn.target}, schema ${storeDb.svc.schemaVersion}, node ${node}`,
    close: () => events.close().finally(release),
  };
}

export async function startSmppd(o: StartOptions): Promise<Smppd> {
  const { smppd } = o;
  let minLevel = o.logLevel ?? 'debug';
  const log: Logger = (level, m) => {
    if (RANK[level] >= RANK[minLevel]) o.log(level, m);
  };
  const startedAt = Date.now();
  const paths = smppdPaths(o.smsd, smppd);
  // One name for this node wherever nodes meet: message ownership, heartbeats, the credit ledger,
  // the throughput exchange.
  const node = smppd.nodeId ?? smppdNodeId(paths.state);
  fs.mkdirSync(paths.reports, { recursive: true });
  const sources = new SmppdSources(smppd, log);
  const { authenticator, router } = sources;
  // With HTTP auth: the accounts that have bound (for receipts, MO, the admin interface).
  let accounts: Map<string, Account>;
  let routes: readonly Route[];
  {
    const loaded = await sources.load();
    for (const w of loaded.warnings) log('warn', w);
    accounts = loaded.accounts ?? new Map();
    routes = loaded.routes ?? [];
  }
  const fileBilling = new Billing(path.join(paths.state, 'billing'));
  try {
    fileBilling.open();
  } catch (err) {
    throw new Error(
      `billing ledgers in ${fileBilling.dir} are held by another smppd serve (${(err as Error).message})`,
    );
  }
  // Accounts in KSMPPD's tables keep their credit there (smpp_user.credit), shared by every node.
  let sqlBilling: SqlBilling | undefined;
  if (smppd.accountsSource === 'sql' && smppd.sql) {
    const conn = new SqlConnection(smppdConnection(smppd.sql.connection));
    sqlBilling = new SqlBilling(conn, node, { user: smppd.sql.tables.user, ledger: 'smppd_ledger' });
    try {
      await sqlBilling.init();
    } catch (err) {
      await conn.close().catch(() => undefined);
      await fileBilling.close();
      throw new Error(`prepaid credit in the database: ${(err as Error).message}`);
    }
  }
  const billing: CreditKeeper & { close(): Promise<void> } = sqlBilling ?? fileBilling;
  let backend: Backend;
  try {
    backend =
      o.smsd.smsd.service === 'sql'
        ? await sqlBackend(
            o.smsd,
            node,
            log,
            smppd,
            sqlBilling && smppd.sql
              ? {
                  connection: smppd.sql.connection,
                  tables: { user: smppd.sql.tables.user, ledger: 'smppd_ledger' },
                }
              : undefined,
          )
        : spoolBackend(paths, log);
  } catch (err) {
    await billing.close();
    if (sqlBilling) await fileBilling.close();
    throw err;
  }
  const { store } = backend;
  if (sqlBilling) {
    // Charges this node made but never confirmed (killed between charge and answer).
    const r = await sqlBilling.reconcile(
      async (sid, id) => (await backend.messages.query(id, sid)) !== undefined,
    );
    if (r.kept + r.released > 0)
      log(
        'warn',
        `credit after a crash: ${r.kept} charge(s) kept (stored), ${r.released} released (not stored)`,
      );
  }
  const queue = new DeliveryQueue(paths.state);
  queue.onError = (err) => log('error', `delivery queue ${paths.state}: ${err.message}`);
  const dlrQueue = new DlrQueue({ dir: path.join(paths.state, 'dlr'), ...smppd.dlr, log });
  dlrQueue.open();
  const webhooks = new DlrQueue({
    dir: path.join(paths.state, 'webhooks'),
    ...smppd.dlr,
    secret: (sid) => accounts.get(sid.toLowerCase())?.webhookSecret,
    log,
  });
  webhooks.open();
  let moUrls: MoDispatch | undefined;
  if (smppd.moUrl.routesFile) {
    moUrls = new MoDispatch({
      ...smppd.moUrl,
      routesFile: smppd.moUrl.routesFile,
      dir: paths.moUrl,
      log,
    });
    try {
      moUrls.open();
    } catch (err) {
      await billing.close();
      if (sqlBilling) await fileBilling.close();
      await backend.close();
      throw err;
    }
  }
  // Accounts in a shared database mean several nodes may serve them: their throughput limits are
  // shared by demand through the same database (shared-throughput.ts).
  let throughputShare: SharedThroughput | undefined;
  // The SQL outbox on SQLite makes this the only node (sole-node.ts): no other to share with.
  const soleNode = o.smsd.smsd.service === 'sql' && o.smsd.smsd.driver === 'sqlite3';
  if (smppd.accountsSource === 'sql' && smppd.sql && !soleNode) {
    const exchange = new SqlRateExchange(new SqlConnection({ ...smppd.sql.connection, retries: 1 }));
    try {
      await exchange.init();
      let failing = false;
      throughputShare = new SharedThroughput(node, exchange, 250, (err) => {
        if (!failing) log('warn', `throughput sharing with other nodes paused: ${err.message}`);
        failing = true;
      });
      throughputShare.start();
    } catch (err) {
      log(
        'warn',
        `throughput limits are per node: cannot share them through the database (${(err as Error).message})`,
      );
    }
  }
  const server = new SmppServer({
    throughputShare,
    systemId: smppd.systemId,
    accounts: () => accounts,
    routes: () => routes,
    ...(authenticator
      ? {
          authenticate: (sid: string, pw: string) =>
            authenticator.authenticate(sid, pw).then((outcome) => {
              if (outcome.ok) accounts.set(outcome.account.systemId.toLowerCase(), outcome.account);
              return outcome;
            }),
        }
      : {}),
    ...(router ? { routeSubmit: router.outbound.bind(router) } : {}),
    billing,
    store,
    queue,
    messages: backend.messages,
    log,
    timers: {
      sessionInitMs: smppd.sessionInitMs,
      enquireLinkMs: smppd.enquireLinkMs,
      inactivityMs: smppd.inactivityMs,
      responseMs: smppd.responseMs,
      maxOutputBytes: smppd.maxOutputBytes,
      outputStallMs: smppd.outputStallMs,
    },
    maxConnections: smppd.maxConnections,
    maxConnectionsPerIp: smppd.maxConnectionsPerIp,
    bindGate: new BindGate(smppd.bindChecks),
    deadLetterDir: path.join(paths.state, 'dead-letter'),
    maxDeliveryAttempts: smppd.deliveryMaxAttempts,
    retryMs: smppd.deliveryRetryMs,
    maxPduLength: smppd.maxPduLength,
    window: smppd.window,
    blocklist: new FailureBlocklist(smppd.blockAttempts, smppd.blockMs, smppd.blockExempt),
  });
  const events = backend.events({
    queue,
    // KSMPPD's inbound routes (or its HTTP router) first; else the first account (in file order) marked mo = yes.
    ...(moUrls ? { moUrl: moUrls.route.bind(moUrls) } : {}),
    moTarget: (mo) => {
      // An esme= rule of MoRoutesFile first.
      const pinned = moUrls?.esmeOf(mo);
      const pinnedAccount = pinned ? accounts.get(pinned.toLowerCase()) : undefined;
      if (pinned && !pinnedAccount) log('warn', `MoRoutesFile names esme=${pinned}, which is no account`);
      if (pinnedAccount) return pinnedAccount;
      const fallback = (): MoTarget | undefined => [...accounts.values()].find((a) => a.mo && a.enabled);
      if (router)
        return router.inbound(mo).then((sid) => {
          if (!sid) return fallback();
          // With HTTP auth an ESME not bound since the start is still somebody: KSMPPD's defaults.
          return (
            accounts.get(sid.toLowerCase()) ??
            (authenticator ? { systemId: sid, longMo: 'udh' } : undefined) ??
            unknownTarget(sid)
          );
        });
      const r = routeInbound(routes, mo);
      const account = r?.systemId ? accounts.get(r.systemId.toLowerCase()) : undefined;
      if (r && !account)
        log('warn', `inbound route [${r.label}] names system_id ${r.systemId ?? ''}, which is no account`);
      return account ?? fallback();
    },
    refund: (sid, id, cost, why) =>
      billing.refund(sid, id, cost, why).then((done) => {
        if (done) log('info', `refunded ${cost} to ${sid} for ${id}: ${why}`);
      }),
    // With HTTP auth there is no list to ask: whoever submitted gets the receipt.
    knownSystemId: (sid) => accounts.get(sid.toLowerCase())?.systemId ?? (authenticator ? sid : undefined),
    queued: (sid) => server.drain(sid),
    // Group-committed: the event counts as taken once the promise resolves.
    dlr: (r) => {
      const hook = webhookCall(r);
      const call = dlrCall(r);
      if (!hook && !call) return undefined;
      // Both group-committed (one flush for every call added meanwhile), as the dlr-url's was.
      return Promise.all([
        hook && webhooks.addAsync(hook.key, hook.url, hook.post),
        call && dlrQueue.addAsync(call.key, call.url),
      ]).then(() => undefined);
    },
    receivers: () => server.receiverSystemIds(),
    log,
    // The receiving number (OwnNumber, or the SIM's number smsd run recorded), else
    // DefaultMoDestination, else the receiving modem's PhoneID, else our SystemId: never empty.
    moDestination: (mo) => mo.receiver || smppd.defaultMoDestination || mo.phone || smppd.systemId,
  });
  let httpFront: HttpFront | undefined;
  let httpPort: number | undefined;
  let keys: IdempotencyKeys | undefined;
  /** A start that fails after the store is open: everything opened so far is closed again. */
  const abandon = async (err: Error): Promise<never> => {
    await httpFront?.close();
    httpFront?.destroyConnections();
    await dlrQueue.close();
    await webhooks.close();
    await keys?.close();
    await moUrls?.queue.close();
    await server.stop();
    await events.close();
    await store.close();
    await backend.close();
    queue.close();
    await billing.close();
    if (sqlBilling) await fileBilling.close();
    throw err;
  };
  const address = await server.listen(smppd.port, smppd.listen).catch(abandon);
  let tlsPort: number | undefined;
  if (smppd.tls) {
    const { keyFile, certFile } = smppd.tls;
    let key: Buffer;
    let cert: Buffer;
    try {
      key = fs.readFileSync(keyFile);
      cert = fs.readFileSync(certFile);
    } catch (err) {
      return abandon(new Error(`TLS: ${(err as Error).message}`));
    }
    try {
      tlsPort = (await server.listenTls(smppd.tls.port, smppd.tls.listen, key, cert)).port;
    } catch (err) {
      return abandon(
        new Error(`TLS listener on ${smppd.tls.listen}:${smppd.tls.port}: ${(err as Error).message}`),
      );
    }
    log('info', `smppd TLS listening on ${smppd.tls.listen}:${tlsPort}`);
  }
  if (smppd.httpFront) {
    keys = new IdempotencyKeys({
      file: path.join(paths.state, 'idempotency.log'),
      ...smppd.httpFront.idempotency,
      log,
    });
    try {
      keys.open();
    } catch (err) {
      return abandon(new Error(`idempotency keys: ${(err as Error).message}`));
    }
    let openapi: Buffer | undefined;
    const modemsUp = new ModemsUp(paths.status);
    const front = new HttpFront(smppd.httpFront, {
      admit: (sid, pw, ip) =>
        server.admit(sid, pw, ip).then((outcome) => {
          // With HTTP auth: an account known from its first request on (receipts, the admin interface).
          if (outcome.ok && authenticator)
            accounts.set(outcome.account.systemId.toLowerCase(), outcome.account);
          return outcome;
        }),
      submits: server.submits,
      blocklist: server.blocklist,
      full: () => store.full,
      stopping: () => server.isStopping,
      deferrable: o.smsd.smsd.service !== 'sql',
      canSend: (phone) => modemsUp.canSend(phone),
      json: {
        keys,
        messages: backend.messages,
        view: backend.view,
        webhooks: o.smsd.smsd.service !== 'sql',
        // Read on first request: a file of the package (in `files`), found beside package.json.
        openapi: () =>
          (openapi ??= fs.readFileSync(path.join(packageRoot(), 'src/lib/smpp/http/openapi.json'))),
      },
      log,
    });
    httpFront = front;
    const serverRoom = store.onRoom;
    store.onRoom = () => {
      serverRoom?.();
      front.room();
    };
    try {
      httpPort = (await front.listen()).port;
    } catch (err) {
      return abandon(
        new Error(`HTTP on ${smppd.httpFront.listen}:${smppd.httpFront.port}: ${(err as Error).message}`),
      );
    }
    log('info', `smppd HTTP (Kannel sendsms) on ${smppd.httpFront.listen}:${httpPort}`);
  }
  events.start();
  dlrQueue.start();
  webhooks.start();
  moUrls?.queue.start();
  for (const sid of queue.systemIds()) server.drain(sid);
  log(
    'info',
    `smppd listening on ${address.address}:${address.port} (system_id ${smppd.systemId}, ${authenticator ? 'HTTP auth' : `${accounts.size} accounts`}, ${backend.describe})`,
  );
  const unknownTarget = (sid: string): undefined => {
    log('warn', `HTTP routing names system_id ${sid} for an MO, which is no account`);
    return undefined;
  };
  const reload = async (): Promise<string> => {
    // Both are read before either is taken: a bad one leaves the old pair in place.
    const loaded = await sources.load();
    // MoRoutesFile too: a bad one keeps the old rules and fails the reload.
    const moRules = moUrls?.reload();
    for (const w of loaded.warnings) log('warn', w);
    if (loaded.accounts) accounts = loaded.accounts;
    if (loaded.routes) routes = loaded.routes;
    // A change made in the auth service counts from now on, not after the cache's lifetime.
    authenticator?.clear();
    httpFront?.clearAuthCache();
    server.accountsReloaded();
    return `Routes updated: ${routes.length} routes${sources.routesWhere()}, ${accounts.size} accounts from ${sources.accountsWhere()}${moRules === undefined ? '' : `, ${moRules} MO rules`}`;
  };
  let admin: AdminServer | undefined;
  let adminPort: number | undefined;
  if (smppd.admin) {
    admin = new AdminServer(smppd.admin, {
      server,
      queued: (sid) => queue.count(sid),
      queuedSystemIds: () => queue.systemIds(),
      rebuild: reload,
      knownAccount: (sid) => accounts.has(sid.toLowerCase()),
      setLogLevel: (level) => (minLevel = level),
      deliveryLatency: events.deliveryLatency,
      credit: async (sid, amount, note) =>
        amount === undefined ? billing.balance(sid) : billing.topUp(sid, amount, note),
      startedAt,
      extraMetrics: () => moUrls?.metrics() ?? [],
      log,
      // The SMPP binds' policy, its own count: a wrong admin password does not block binds.
      blocklist: new FailureBlocklist(smppd.blockAttempts, smppd.blockMs, smppd.blockExempt),
    });
    try {
      const a = await admin.listen();
      adminPort = a.port;
      log('info', `smppd admin HTTP on ${a.address}:${a.port}`);
    } catch (err) {
      return abandon(
        new Error(`admin HTTP on ${smppd.admin.listen}:${smppd.admin.port}: ${(err as Error).message}`),
      );
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    port: address.port,
    server,
    adminPort,
    tlsPort,
    httpPort,
    dlr: dlrQueue,
    webhooks,
    moUrls,
    settled: () => store.settled(),
    reload,
    stop: () =>
      (stopping ??= (async () => {
        // Stop reading, let every submit already taken become durable and get its response,
        // then unbind: an ESME never loses the answer to a message we stored. The files of the
        // last messages are created meanwhile (what is not done in time, the next start restores).
        const eventsClosed = events.close();
        const adminClosed = admin?.close();
        // First: HTTP requests held for room in the store are taken, to be drained below.
        const httpClosed = httpFront?.close();
        const listenerClosed = server.quiesce();
        await store.drain();
        await new Promise((r) => setImmediate(r));
        // Every HTTP request taken has its answer by now; what is still connected goes.
        httpFront?.destroyConnections();
        await httpClosed;
        await dlrQueue.close();
        await webhooks.close();
        await keys?.close();
        await moUrls?.queue.close();
        await server.stop();
        await store.close();
        await listenerClosed;
        await adminClosed;
        await eventsClosed;
        await backend.close();
        queue.close();
        await billing.close();
        if (sqlBilling) await fileBilling.close();
        await throughputShare?.stop();
        log('info', 'smppd stopped');
      })()),
  };
}

export interface ServeOptions {
  config?: string;
  log?: Logger;
}

/** The command: runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runServe(opts: ServeOptions): Promise<number> {
  let log = opts.log ?? streamLogger(process.stdout);
  let smppd: Smppd;
  try {
    const loaded = loadSmsdConfig(opts.config);
    const { config, warnings } = readSmppdConfig(
      loaded.config.smppd,
      loaded.source,
      process.cwd(),
      loaded.config.smsd,
    );
    // Debug lines pass the stream; startSmppd filters by level, which /log-level can change.
    if (!opts.log) log = streamLogger(process.stdout, { debug: true });
    for (const w of loaded.warnings) log('warn', w.message);
    for (const w of warnings) log('warn', w);
    smppd = await startSmppd({
      smsd: loaded.config,
      smppd: config,
      log,
      logLevel: config.debug ? 'debug' : 'info',
    });
  } catch (err) {
    log('error', `smppd cannot start: ${(err as Error).message}`);
    return 2;
  }
  const onHup = (): void => {
    smppd.reload().then(
      (what) => log('info', `SIGHUP: ${what}`),
      (err: Error) => log('error', `SIGHUP: not reloaded, the old accounts and routes stay: ${err.message}`),
    );
  };
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      log('info', `${sig}: stopping`);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  process.off('SIGHUP', onHup);
  await smppd.stop();
  return 0;
}

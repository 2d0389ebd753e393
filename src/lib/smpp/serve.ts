import fs from 'node:fs';
import path from 'node:path';
import { loadSmsdConfig, type SmsdConfig } from '../config/smsd-config.js';
import { streamLogger, type LogLevel, type Logger } from '../daemon/log.js';
import { AdminServer } from './admin.js';
import { daemonPaths } from '../daemon/paths.js';
import { loadAccounts, type Account } from './accounts.js';
import { readSmppdConfig, type SmppdConfig } from './config.js';
import { FailureBlocklist } from './net.js';
import { DeliveryQueue } from './queue.js';
import { SmppServer } from './server.js';
import { SpoolEvents } from './spool-events.js';
import { OutboxStore } from './store.js';
import { MessageIndex } from './messages.js';

/** `smppd serve`: wires the config, the spool, the accounts and the server together. */

export interface Smppd {
  port: number;
  server: SmppServer;
  /** The admin HTTP port, when AdminPort is set. */
  adminPort: number | undefined;
  /** Re-reads the accounts file (SIGHUP); binds stay. Throws AccountsError and keeps the old accounts. */
  reloadAccounts(): number;
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

/** Spool folders smppd reads and writes: reports/ where `smsd run` writes them (StatePath, else beside the outbox), smppd/ next to it. */
export function smppdPaths(smsd: SmsdConfig, smppd: SmppdConfig) {
  const reports = daemonPaths(smsd).reportsDir;
  return {
    outbox: smsd.smsd.outboxPath.path,
    sent: smsd.smsd.sentSmsPath.path,
    error: smsd.smsd.errorSmsPath.path,
    inbox: smsd.smsd.inboxPath.path,
    reports,
    state: smppd.stateDir ?? path.join(path.dirname(reports), 'smppd'),
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
  fs.mkdirSync(paths.reports, { recursive: true });
  let accounts: ReadonlyMap<string, Account>;
  {
    const loaded = loadAccounts(smppd.accountsFile);
    for (const w of loaded.warnings) log('warn', w);
    accounts = loaded.accounts;
  }
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
  const queue = new DeliveryQueue(paths.state);
  queue.onError = (err) => log('error', `delivery queue ${paths.state}: ${err.message}`);
  const server = new SmppServer({
    systemId: smppd.systemId,
    accounts: () => accounts,
    store,
    queue,
    messages,
    log,
    timers: {
      sessionInitMs: smppd.sessionInitMs,
      enquireLinkMs: smppd.enquireLinkMs,
      inactivityMs: smppd.inactivityMs,
      responseMs: smppd.responseMs,
    },
    maxPduLength: smppd.maxPduLength,
    window: smppd.window,
    blocklist: new FailureBlocklist(smppd.blockAttempts, smppd.blockMs, smppd.blockExempt),
  });
  const events = new SpoolEvents({
    paths,
    queue,
    // Until routes exist: MO goes to the first account (in file order) marked mo = yes.
    moTarget: () => [...accounts.values()].find((a) => a.mo && a.enabled),
    knownSystemId: (sid) => accounts.get(sid.toLowerCase())?.systemId,
    queued: (sid) => server.drain(sid),
    log,
  });
  let address: Awaited<ReturnType<SmppServer['listen']>>;
  try {
    address = await server.listen(smppd.port, smppd.listen);
  } catch (err) {
    await store.close();
    queue.close();
    throw err;
  }
  events.start();
  for (const sid of queue.systemIds()) server.drain(sid);
  log(
    'info',
    `smppd listening on ${address.address}:${address.port} (system_id ${smppd.systemId}, ${accounts.size} accounts, spool ${path.dirname(paths.outbox)})`,
  );
  const reloadAccounts = (): number => {
    const loaded = loadAccounts(smppd.accountsFile);
    for (const w of loaded.warnings) log('warn', w);
    accounts = loaded.accounts;
    server.accountsReloaded();
    return accounts.size;
  };
  let admin: AdminServer | undefined;
  let adminPort: number | undefined;
  if (smppd.admin) {
    admin = new AdminServer(smppd.admin, {
      server,
      queued: (sid) => queue.names(sid).length,
      queuedSystemIds: () => queue.systemIds(),
      // No routes yet: a rebuild is what SIGHUP does, re-reading the accounts file.
      rebuild: () =>
        `Routes updated (no RoutesFile yet: re-read ${reloadAccounts()} accounts from ${smppd.accountsFile})`,
      knownAccount: (sid) => accounts.has(sid.toLowerCase()),
      setLogLevel: (level) => (minLevel = level),
      startedAt,
      log,
    });
    try {
      const a = await admin.listen();
      adminPort = a.port;
      log('info', `smppd admin HTTP on ${a.address}:${a.port}`);
    } catch (err) {
      await server.stop();
      await store.close();
      events.close();
      queue.close();
      throw new Error(`admin HTTP on ${smppd.admin.listen}:${smppd.admin.port}: ${(err as Error).message}`);
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    port: address.port,
    server,
    adminPort,
    reloadAccounts,
    settled: () => store.settled(),
    stop: () =>
      (stopping ??= (async () => {
        // Stop reading, let every submit already taken become durable and get its response,
        // then unbind: an ESME never loses the answer to a message we stored. The files of the
        // last messages are created meanwhile (what is not done in time, the next start restores).
        events.close();
        const adminClosed = admin?.close();
        const listenerClosed = server.quiesce();
        await store.drain();
        await new Promise((r) => setImmediate(r));
        await server.stop();
        await store.close();
        await listenerClosed;
        await adminClosed;
        queue.close();
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
    const { config, warnings } = readSmppdConfig(loaded.config.smppd, loaded.source, process.cwd());
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
    try {
      log('info', `SIGHUP: reloaded ${smppd.reloadAccounts()} accounts`);
    } catch (err) {
      log('error', `SIGHUP: accounts not reloaded, the old ones stay: ${(err as Error).message}`);
    }
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

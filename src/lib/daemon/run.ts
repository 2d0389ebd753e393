import fs from 'node:fs';
import path from 'node:path';
import { loadSmsdConfig, type SmsdConfig } from '../config/smsd-config.js';
import { BUILTIN_SOURCE, defaultSpool } from '../config/locate.js';
import { signalReady } from './detach.js';
import { dropPrivileges, type Identity } from './privileges.js';
import { ensureEmbeddedSpool } from '../spool/layout.js';
import { FilesService } from '../services/files.js';
import { NullService } from '../services/null.js';
import { SqlService } from '../services/sql/service.js';
import { sqlServiceOptions } from '../services/sql/settings.js';
import type { SmsdService } from '../services/types.js';
import { SmsDaemon } from './daemon.js';
import { daemonPaths, daemonName } from './paths.js';
import { streamLogger, FileLog, type Logger } from '../common/log.js';
import { startEmbeddedEmulator, isEmulatorDevice } from './embedded-emulator.js';
import { isOutletConnection } from '../outlets/index.js';

export interface RunOptions {
  config?: string | undefined;
  pidFile?: string | undefined;
  log?: Logger;
  /** -U/-G: who to become once the PID file and LogFile are open. */
  identity?: Identity | undefined;
  /** -X: stop as on SIGTERM after this many seconds. */
  suicide?: number | undefined;
  /** -f: give up after this many failed connects in a row. */
  maxFailures?: number | undefined;
  /** -L: standard output even when LogFile is set. */
  noUseLog?: boolean | undefined;
}

export function createService(config: SmsdConfig, log: Logger): SmsdService {
  const s = config.smsd;
  switch (s.service) {
    case 'files':
      return new FilesService({
        inboxDir: s.inboxPath.path,
        outboxDir: s.outboxPath.path,
        sentDir: s.sentSmsPath.path,
        errorDir: s.errorSmsPath.path,
        inboxFormat: s.inboxFormat,
        transmitFormat: s.transmitFormat,
        log: (level, m) => log(level, m),
      });
    case 'null':
      return new NullService();
    case 'sql':
      // The service module loads mysql2 or pg only when it connects.
      return new SqlService(sqlServiceOptions(config, (level, m) => log(level, m)));
    default:
      throw new Error(`Service = ${s.serviceName} is not available to smsd run; use files, null or sql`);
  }
}

/** The folders of a files spool, and the folder holding them (the built-in default's spool). */
function spoolFolders(config: SmsdConfig): string[] {
  const s = config.smsd;
  const dirs = [s.inboxPath.path, s.outboxPath.path, s.sentSmsPath.path, s.errorSmsPath.path];
  return [path.dirname(path.resolve(s.inboxPath.path)), ...dirs];
}
const spoolOf = (config: SmsdConfig): string => path.dirname(path.resolve(config.smsd.inboxPath.path));

/** `smsd run`: load the config, start the daemon, wire the signals; resolves with the exit code. */
export async function runDaemon(opts: RunOptions): Promise<number> {
  let sink: Logger = opts.log ?? streamLogger(process.stdout);
  // Everything logs through this indirection, so LogFile can take over once the config is read.
  const log: Logger = (level, message) => sink(level, message);
  let loaded;
  try {
    loaded = loadSmsdConfig(opts.config);
  } catch (err) {
    log('error', `Failed to read config: ${(err as Error).message}`);
    return 2;
  }
  for (const w of loaded.warnings) log('warn', w.message);
  const config = loaded.config;
  const debug = config.smsd.debugLevel > 0;
  // Shared by the loggers: an outlet's SIGHUP turns DebugLevel on and off in place.
  const logOpts = { debug };
  if (!opts.log) sink = streamLogger(process.stdout, logOpts);
  let fileLog: FileLog | undefined;
  const logFile = config.smsd.logFile;
  if (logFile && !opts.log && !opts.noUseLog) {
    if (logFile === 'syslog' || logFile === 'eventlog')
      log('warn', `LogFile = ${logFile} is not supported; logging to standard output`);
    else {
      try {
        fileLog = new FileLog(logFile, logOpts);
        sink = fileLog.log;
      } catch (err) {
        log(
          'error',
          `Failed to open LogFile ${logFile}: ${(err as Error).message}; logging to standard output`,
        );
      }
    }
  }
  log('info', `config ${loaded.source}`);
  const builtin = loaded.source === BUILTIN_SOURCE;
  if (builtin) log('info', `spool ${spoolOf(config)} (${defaultSpool().why})`);
  let emulator: { device: string; stop(): Promise<void> } | undefined;
  let daemon: SmsDaemon | undefined;
  try {
    if (builtin) ensureEmbeddedSpool(config);
    if (opts.pidFile) fs.writeFileSync(opts.pidFile, `${process.pid}\n`);
    if (opts.identity) {
      // What root opened or created for the daemon stays usable after the switch: the PID file,
      // LogFile (reopened on SIGHUP) and the built-in spool.
      const owned = [opts.pidFile, fileLog?.file, ...(builtin ? spoolFolders(config) : [])];
      for (const f of owned) if (f) fs.chownSync(f, opts.identity.uid, opts.identity.gid);
      dropPrivileges(opts.identity);
      log('info', `running as uid ${opts.identity.uid} gid ${opts.identity.gid}`);
    }
    if (isEmulatorDevice(config.gammu.device)) {
      emulator = await startEmbeddedEmulator(config, log);
      config.gammu.device = emulator.device;
    }
    if (!isOutletConnection(config.gammu.connection)) daemon = createDaemon(config, opts, log);
  } catch (err) {
    // One line naming the path or key, never a stack trace (start-up errors exit 2).
    log('error', `Failed to run SMSD: ${startupError(err, config)}`);
    await emulator?.stop().catch(() => undefined);
    if (opts.pidFile) fs.rmSync(opts.pidFile, { force: true });
    return 2;
  }
  signalReady();
  if (!daemon)
    return runOutletDaemon(
      config,
      opts,
      log,
      daemonName(config),
      () => fileLog?.reopen(),
      () => fileLog?.close(),
      (d) => (logOpts.debug = d),
    );
  return serve(daemon, config, opts, log, emulator, () => fileLog);
}

function createDaemon(config: SmsdConfig, opts: RunOptions, log: Logger): SmsDaemon {
  const name = daemonName(config);
  return new SmsDaemon({
    config,
    service: createService(config, log),
    paths: daemonPaths(config),
    log,
    name,
    ...(opts.maxFailures ? { maxInitFailures: opts.maxFailures } : {}),
    openPhone: async () => {
      const { Phone } = await import('../at/phone.js');
      // A hung modem must be noticed within SendTimeout whatever command it hangs in; listing a
      // full SIM legitimately takes longer than one ordinary command, so it gets twice that.
      const sendMs = config.smsd.sendTimeout * 1000;
      return Phone.open(config.gammu.device, config.gammu.connection, {
        sendTimeoutMs: sendMs,
        commandTimeoutMs: Math.min(10_000, sendMs),
        listTimeoutMs: Math.min(30_000, 2 * sendMs),
        setCnmi: config.gammu.atgenSetCnmi,
      });
    },
  });
}

async function serve(
  daemon: SmsDaemon,
  config: SmsdConfig,
  opts: RunOptions,
  log: Logger,
  emulator: { stop(): Promise<void> } | undefined,
  getFileLog: () => FileLog | undefined,
): Promise<number> {
  const fileLog = getFileLog();
  let metrics: { close(): void } | undefined;
  if (config.smsd.metricsListen) {
    const { serveMetrics, renderMetrics } = await import('./metrics.js');
    const { readSnapshot, spoolDirs } = await import('../monitor/snapshot.js');
    const dirs = spoolDirs(config);
    metrics = await serveMetrics(
      config.smsd.metricsListen,
      () => renderMetrics(daemon.counters, readSnapshot(dirs).queues, daemon.latency),
      (err) => log('error', `metrics endpoint ${config.smsd.metricsListen}: ${err.message}`),
    );
    log('info', `metrics on http://${config.smsd.metricsListen}/metrics`);
  }
  const onStop = () => {
    log('info', 'stopping (signal)');
    void daemon.stop();
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  if (opts.suicide)
    setTimeout(() => {
      log('info', `stopping after ${opts.suicide} s (--suicide)`);
      void daemon.stop();
    }, opts.suicide * 1000).unref();
  process.on('SIGUSR1', () => {
    log('info', 'suspending (SIGUSR1): releasing the device');
    daemon.suspend();
  });
  process.on('SIGUSR2', () => {
    log('info', 'resuming (SIGUSR2)');
    daemon.resume();
  });
  process.on('SIGHUP', () => {
    log('info', 'SIGHUP: reopening the log file and reloading the configuration');
    fileLog?.reopen(); // after logrotate moved the file away
    daemon.reload(opts.config);
  });
  try {
    await daemon.start();
    return 0;
  } catch (err) {
    log('error', `Failed to run SMSD: ${startupError(err, config)}`);
    return 2;
  } finally {
    metrics?.close();
    await emulator?.stop();
    // After -U the PID file's folder (/run) may not be ours any more: say so rather than fail.
    if (opts.pidFile)
      try {
        fs.rmSync(opts.pidFile, { force: true });
      } catch (err) {
        log('warn', `cannot remove the PID file ${opts.pidFile}: ${(err as Error).message}`);
      }
    fileLog?.close();
  }
}

/**
 * A start-up failure as one line: a file-system error names its path and what to check (the
 * daemon's own folders, status/ and reports/, are under StatePath, by default beside the outbox).
 */
export function startupError(err: unknown, config: SmsdConfig): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && typeof e.path === 'string') {
    const where = daemonPaths(config);
    const own = [where.statusDir, where.reportsDir].some((d) => e.path?.startsWith(d));
    const key = own ? ' (StatePath; by default the outbox’s parent folder)' : '';
    const why =
      e.code === 'EACCES' ||
      e.code === 'EPERM' ||
      e.code === 'EROFS' ||
      (e.code === 'ENOENT' && e.syscall === 'mkdir')
        ? 'cannot be created or written (is its folder writable?)'
        : e.code === 'ENOSPC'
          ? 'no space left on its device'
          : `${e.syscall ?? 'access'} failed`;
    return `${e.path}${key}: ${why} [${e.code}]`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** `smsd run` with `Connection = smpp|smpps|kannel`: the outlet daemon instead of a modem's. */
async function runOutletDaemon(
  config: SmsdConfig,
  opts: RunOptions,
  log: Logger,
  name: string,
  reopenLog: () => void,
  closeLog: () => void,
  setDebug: (debug: boolean) => void,
): Promise<number> {
  const { createOutlet } = await import('../outlets/index.js');
  const { OutletDaemon } = await import('./outlet-daemon.js');
  let outlet;
  try {
    outlet = await createOutlet(config, (level, m) => log(level, m));
  } catch (err) {
    log('error', `Failed to read config: ${(err as Error).message}`);
    if (opts.pidFile) fs.rmSync(opts.pidFile, { force: true });
    closeLog();
    return 2;
  }
  const daemon = new OutletDaemon({
    config,
    service: createService(config, log),
    paths: daemonPaths(config),
    log,
    name,
    outlet,
  });
  let metrics: { close(): void } | undefined;
  if (config.smsd.metricsListen) {
    const { serveMetrics, renderMetrics, renderOutletMetrics } = await import('./metrics.js');
    const { readSnapshot, spoolDirs } = await import('../monitor/snapshot.js');
    const dirs = spoolDirs(config);
    metrics = await serveMetrics(
      config.smsd.metricsListen,
      () =>
        renderMetrics(daemon.counters, readSnapshot(dirs).queues, daemon.latency) +
        renderOutletMetrics(daemon.counters),
      (err) => log('error', `metrics endpoint ${config.smsd.metricsListen}: ${err.message}`),
    );
    log('info', `metrics on http://${config.smsd.metricsListen}/metrics`);
  }
  const onStop = () => {
    log('info', 'stopping (signal): draining the window, then unbinding');
    void daemon.stop();
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGUSR1', () => log('warn', 'SIGUSR1 (suspend) has no meaning for an outlet; ignored'));
  process.on('SIGUSR2', () => log('warn', 'SIGUSR2 (resume) has no meaning for an outlet; ignored'));
  process.on('SIGHUP', () => {
    log('info', 'SIGHUP: reopening the log file and reloading the outlet settings');
    reopenLog();
    void daemon.reload(opts.config, setDebug);
  });
  try {
    await daemon.start();
    return 0;
  } catch (err) {
    log('error', `Failed to run SMSD: ${(err as Error).message}`);
    return 2;
  } finally {
    metrics?.close();
    closeLog();
    if (opts.pidFile) fs.rmSync(opts.pidFile, { force: true });
  }
}

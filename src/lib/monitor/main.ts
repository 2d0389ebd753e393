import { loadSmsdConfig } from '../config/smsd-config.js';
import { formatCsv, formatLogLine, formatPlain } from './gammu-format.js';
import { readDaemonStatus, StatusUnavailable } from './read-status.js';

export interface MonitorOptions {
  config?: string;
  /** Seconds between loops (Gammu's default 20). */
  delay: number;
  /** Loops; -1 = forever (Gammu's default). */
  loops: number;
  csv: boolean;
  json: boolean;
  /** `-l`: Gammu's `Status: ...` line into the LogFile of the config instead of stdout. */
  useLog?: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The script-facing `smsd monitor`: what gammu-smsd-monitor prints (plain block or `-C` CSV line)
 * for the daemon of the config, every `delay` seconds, `loops` times; `--json` for new scripts.
 * Exit codes as Gammu: 2 config not read, 3 no status.
 */
/** The live view on a terminal (ink); loaded only then, so scripts do not pay for React. */
export async function runMonitorLive(configPath: string | undefined): Promise<number> {
  let loaded;
  try {
    loaded = loadSmsdConfig(configPath);
  } catch (e) {
    process.stderr.write(`Failed to read config: ${(e as Error).message}\n`);
    return 2;
  }
  const config = loaded.config;
  const { spoolDirs } = await import('./snapshot.js');
  // smppd serve of the same config, when it has an admin port to ask.
  let smppd: import('./smppd-view.js').SmppdPoller | undefined;
  try {
    const { readSmppdConfig } = await import('../smpp/config.js');
    const admin = readSmppdConfig(config.smppd, loaded.source, process.cwd(), config.smsd).config.admin;
    if (admin && admin.port > 0) smppd = new (await import('./smppd-view.js')).SmppdPoller(admin);
  } catch {
    // No usable [smppd] section (a config error, reported by smppd serve itself): the view shows
    // the daemons only; the monitor is no place to refuse a config it does not need.
  }
  // ink draws only the final frame when $CI is set (it takes that for "no terminal"); we are on a
  // terminal here, so the live view must update. Read by ink when it is first imported, just below.
  delete process.env.CI;
  const { runMonitorTui } = await import('./tui.js');
  return runMonitorTui(spoolDirs(config), smppd);
}

export async function runMonitorText(o: MonitorOptions): Promise<number> {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  let config;
  try {
    config = loadSmsdConfig(o.config).config;
  } catch (e) {
    err.write(`Failed to read config: ${(e as Error).message}\n`);
    return 2;
  }
  let fileLog: import('../common/log.js').FileLog | undefined;
  if (
    o.useLog &&
    config.smsd.logFile &&
    config.smsd.logFile !== 'syslog' &&
    config.smsd.logFile !== 'eventlog'
  ) {
    const { FileLog } = await import('../common/log.js');
    fileLog = new FileLog(config.smsd.logFile);
  }
  try {
    return await monitorLoop(o, config, out, err, fileLog);
  } finally {
    fileLog?.close();
  }
}

async function monitorLoop(
  o: MonitorOptions,
  config: ReturnType<typeof loadSmsdConfig>['config'],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  fileLog: import('../common/log.js').FileLog | undefined,
): Promise<number> {
  for (let i = 0; o.loops < 0 || i < o.loops; i++) {
    try {
      const s = readDaemonStatus(config);
      if (o.useLog) {
        // Gammu's -l: the status as one log line (to standard output when the config has no LogFile).
        const line = formatLogLine(s);
        if (fileLog) fileLog.log('info', line);
        else out.write(`${line}\n`);
      } else
        out.write(o.json ? `${JSON.stringify(s)}\n` : o.csv ? `${formatCsv(s)}\n` : `${formatPlain(s)}\n`);
    } catch (e) {
      if (!(e instanceof StatusUnavailable)) throw e;
      err.write(`Failed to get status: ${e.message}\n`);
      return 3;
    }
    // Gammu sleeps after the last loop too; scripts with -n 1 would wait 20 s for nothing.
    if (o.loops < 0 || i + 1 < o.loops) await sleep(o.delay * 1000);
  }
  return 0;
}

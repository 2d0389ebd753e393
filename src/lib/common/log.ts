import fs from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, message: string) => void;

const streams = new WeakMap<NodeJS.WritableStream, { broken: boolean }>();

/** Lines to a stream (stdout under systemd), timestamped; debug lines only when asked for. */
export function streamLogger(
  out: NodeJS.WritableStream,
  opts: { debug?: boolean; prefix?: string } = {},
): Logger {
  // A reader that went away (EPIPE: a closed pipe, a supervisor's log collector restarting) costs
  // the log lines, never the daemon: an 'error' on the stream would otherwise be uncaught.
  let state = streams.get(out);
  if (!state) {
    const s = { broken: false };
    streams.set(out, (state = s));
    out.on('error', () => (s.broken = true));
  }
  const st = state;
  return (level, message) => {
    if (st.broken || (level === 'debug' && !opts.debug)) return;
    const prefix = opts.prefix ? `${opts.prefix} ` : '';
    out.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${prefix}${message}\n`);
  };
}

/** Logs a recurring fault once until it changes or clears, instead of once per retry. */
export class FaultLog {
  private last: string | undefined;
  constructor(private readonly log: Logger) {}

  fault(message: string): void {
    if (message === this.last) return;
    this.last = message;
    this.log('error', message);
  }

  clear(recovered: string): void {
    if (this.last === undefined) return;
    this.last = undefined;
    this.log('info', recovered);
  }
}

/**
 * Gammu's `LogFile`: lines appended to a file, which is reopened on SIGHUP so logrotate can move
 * it away (the next line lands in a new file of the same name). `syslog`/`eventlog` are Gammu
 * values we do not speak: the caller falls back to standard output.
 */
export class FileLog {
  private fd: number;
  constructor(
    readonly file: string,
    private readonly opts: { debug?: boolean } = {},
  ) {
    this.fd = fs.openSync(file, 'a', 0o640);
  }

  readonly log: Logger = (level, message) => {
    if (level === 'debug' && !this.opts.debug) return;
    try {
      fs.writeSync(this.fd, `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
    } catch {
      // A full disk must not stop the daemon; the status file still tells what happens.
    }
  };

  reopen(): void {
    const next = fs.openSync(this.file, 'a', 0o640);
    fs.closeSync(this.fd);
    this.fd = next;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

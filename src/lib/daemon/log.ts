export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, message: string) => void;

/** Lines to a stream (stdout under systemd), timestamped; debug lines only when asked for. */
export function streamLogger(
  out: NodeJS.WritableStream,
  opts: { debug?: boolean; prefix?: string } = {},
): Logger {
  return (level, message) => {
    if (level === 'debug' && !opts.debug) return;
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

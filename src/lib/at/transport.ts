/**
 * Byte pipes to a modem: a serial device (serialport) or a TCP "network serial server" (`host:port`).
 * The AT channel only needs: bytes in ('data'), bytes out (write), and to learn when the pipe is gone
 * ('close' with a DeviceGoneError when the device vanished, undefined when we closed it ourselves).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { SerialPort } from 'serialport';
import { DeviceGoneError, TransportOpenError } from './errors.js';

export interface AtTransportEvents {
  data: [chunk: Buffer];
  /** Emitted once. `error` is set when the device went away (EIO, ENODEV, peer closed), not on close(). */
  close: [error: DeviceGoneError | undefined];
  /** Non-fatal problems; a fatal one is followed by 'close'. */
  error: [error: Error];
}

export interface AtTransport extends EventEmitter<AtTransportEvents> {
  /** For logs: `/dev/ttyUSB0 @115200` or `tcp://host:port`. */
  readonly description: string;
  readonly isOpen: boolean;
  /** Rejects with TransportOpenError (reason: missing, permission, busy, refused...). */
  open(): Promise<void>;
  /** Resolves once the bytes are handed to the OS. */
  write(buf: Buffer): Promise<void>;
  /** Idempotent; emits 'close' (without error) if the transport was open. */
  close(): Promise<void>;
}

export const DEFAULT_BAUD_RATE = 115200;

/** errno codes that mean "the device is not there any more" rather than a transient hiccup. */
const GONE_CODES = ['EIO', 'ENODEV', 'ENXIO', 'ENOENT', 'EBADF', 'EPIPE', 'ECONNRESET'] as const;

/** serialport's DisconnectedError keeps only a message; recover the errno name from its wording. */
const GONE_TEXT: readonly [RegExp, string][] = [
  [/i\/o error|input\/output error/i, 'EIO'],
  [/no such device or address/i, 'ENXIO'],
  [/no such device/i, 'ENODEV'],
  [/no such file/i, 'ENOENT'],
  [/bad file descriptor/i, 'EBADF'],
];

function goneCode(text: string): string | undefined {
  return (
    GONE_CODES.find((c) => new RegExp(`\\b${c}\\b`).test(text)) ??
    GONE_TEXT.find(([re]) => re.test(text))?.[1]
  );
}

/**
 * Gammu's `Connection` value: `at` or `at<baud>` (`at115200`, `at19200`). Other Gammu drivers (fbus,
 * blueat, ...) are not AT over a byte pipe we can open, so they are refused with a clear message.
 */
export function parseConnection(connection: string): { baudRate: number } {
  const m = /^at(\d+)?$/i.exec(connection.trim() || 'at');
  if (!m) {
    throw new TransportOpenError(
      connection,
      'unsupported',
      `unsupported Connection "${connection}": only "at" or "at<baud>" (e.g. at115200) is supported`,
    );
  }
  const baudRate = m[1] === undefined ? DEFAULT_BAUD_RATE : Number(m[1]);
  if (!Number.isSafeInteger(baudRate) || baudRate <= 0) {
    throw new TransportOpenError(
      connection,
      'unsupported',
      `invalid baud rate in Connection "${connection}"`,
    );
  }
  return { baudRate };
}

/**
 * `host:port` or `[v6addr]:port` means a modem behind a network serial server. A path (starting
 * with `/`) or `COM1:` (port not numeric) stays serial.
 */
export function parseHostPort(device: string): { host: string; port: number } | undefined {
  if (device.startsWith('/')) return undefined;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(device) ?? /^([^:/\s]+):(\d+)$/.exec(device);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1], port };
}

/** Turn serialport's open error strings ("Error: Permission denied, cannot open ...") into a reason. */
function classifySerialOpenError(path: string, err: Error): TransportOpenError {
  const text = err.message;
  if (/No such file or directory|ENOENT|No such device|ENODEV|ENXIO/i.test(text)) {
    return new TransportOpenError(path, 'missing', `serial device ${path} does not exist (${text})`, {
      cause: err,
    });
  }
  if (/Permission denied|EACCES|EPERM/i.test(text)) {
    return new TransportOpenError(
      path,
      'permission',
      `no permission to open ${path} (${text}); is the user in the dialout group?`,
      { cause: err },
    );
  }
  if (/Cannot lock port|Resource temporarily unavailable|EAGAIN|EWOULDBLOCK|busy|EBUSY/i.test(text)) {
    return new TransportOpenError(
      path,
      'busy',
      `${path} is in use by another process (${text}); check ModemManager, another smsd, getty or ppp`,
      { cause: err },
    );
  }
  return new TransportOpenError(path, 'other', `cannot open ${path}: ${text}`, { cause: err });
}

export interface SerialTransportOptions {
  path: string;
  baudRate?: number;
  /**
   * flock(LOCK_EX|LOCK_NB) on the fd (serialport's default). It is advisory: it keeps a second smsd
   * (or anything else using flock) off the port and reports "busy", but ModemManager, getty or
   * minicom don't flock and are not stopped. `false` skips it, e.g. when a tool you trust shares the port.
   */
  lock?: boolean;
  /** RTS/CTS hardware flow control; off by default because many USB modems' virtual ports ignore it. */
  rtscts?: boolean;
}

export class SerialTransport extends EventEmitter<AtTransportEvents> implements AtTransport {
  readonly path: string;
  readonly baudRate: number;
  private readonly lock: boolean;
  private readonly rtscts: boolean;
  private port: SerialPort | undefined;
  private closing = false;

  constructor(options: SerialTransportOptions) {
    super();
    this.path = options.path;
    this.baudRate = options.baudRate ?? DEFAULT_BAUD_RATE;
    this.lock = options.lock ?? true;
    this.rtscts = options.rtscts ?? false;
  }

  get description(): string {
    return `${this.path} @${this.baudRate}`;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    if (this.port) throw new Error(`${this.description} is already open`);
    // Lazy import: the native binding loads only when a port is really opened (CLI start-up stays cheap).
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({
      path: this.path,
      baudRate: this.baudRate,
      autoOpen: false,
      lock: this.lock,
      rtscts: this.rtscts,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => (err ? reject(classifySerialOpenError(this.path, err)) : resolve()));
    });
    this.port = port;
    this.closing = false;
    port.on('data', (chunk: Buffer) => this.emit('data', chunk));
    // A write failing after the channel let go (device gone, port closing) must not become an
    // unhandled 'error' event, which would kill the daemon: 'close' already reports the loss.
    port.on('error', (err: Error) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    // serialport closes the stream itself on a read/write failure and passes a DisconnectedError.
    port.on('close', (err: Error | null | undefined) => {
      this.port = undefined;
      if (err && !this.closing) {
        this.emit(
          'close',
          new DeviceGoneError(`serial device ${this.path} vanished: ${err.message}`, goneCode(err.message), {
            cause: err,
          }),
        );
      } else {
        this.emit('close', undefined);
      }
    });
  }

  write(buf: Buffer): Promise<void> {
    const port = this.port;
    if (!port || !port.isOpen) {
      return Promise.reject(new DeviceGoneError(`serial device ${this.path} is not open`));
    }
    return new Promise((resolve, reject) => {
      port.write(buf, (err: Error | null | undefined) => {
        if (!err) return resolve();
        const code = goneCode(err.message);
        reject(code ? new DeviceGoneError(`write to ${this.path} failed: ${err.message}`, code) : err);
      });
    });
  }

  close(): Promise<void> {
    const port = this.port;
    if (!port || !port.isOpen) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      // A close error (device already gone) still leaves us closed; 'close' is emitted either way.
      port.close(() => resolve());
    });
  }
}

export interface TcpTransportOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
}

export class TcpTransport extends EventEmitter<AtTransportEvents> implements AtTransport {
  readonly host: string;
  readonly port: number;
  private readonly connectTimeoutMs: number;
  private socket: net.Socket | undefined;
  private closing = false;

  constructor(options: TcpTransportOptions) {
    super();
    this.host = options.host;
    this.port = options.port;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  get description(): string {
    return `tcp://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  open(): Promise<void> {
    if (this.socket) return Promise.reject(new Error(`${this.description} is already open`));
    const where = `${this.host}:${this.port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      const fail = (err: NodeJS.ErrnoException): void => {
        socket.destroy();
        const code = err.code ?? '';
        const reason =
          code === 'ECONNREFUSED'
            ? 'refused'
            : code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH'
              ? 'missing'
              : code === 'EACCES'
                ? 'permission'
                : 'other';
        reject(
          new TransportOpenError(where, reason, `cannot connect to ${where}: ${err.message}`, { cause: err }),
        );
      };
      socket.setTimeout(this.connectTimeoutMs, () =>
        fail(
          Object.assign(new Error(`no connection within ${this.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
        ),
      );
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.setTimeout(0);
        // AT traffic is tiny and latency-bound: don't let Nagle hold back a command line.
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        this.socket = socket;
        this.closing = false;
        let lastError: Error | undefined;
        socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
        socket.on('error', (err: Error) => {
          lastError = err;
        });
        socket.on('close', () => {
          this.socket = undefined;
          if (this.closing) {
            this.emit('close', undefined);
            return;
          }
          const detail = lastError ? lastError.message : 'connection closed by peer';
          const code = lastError ? goneCode(detail) : undefined;
          this.emit(
            'close',
            new DeviceGoneError(`modem at ${where} went away: ${detail}`, code, { cause: lastError }),
          );
        });
        resolve();
      });
    });
  }

  write(buf: Buffer): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) {
      return Promise.reject(new DeviceGoneError(`${this.description} is not connected`));
    }
    return new Promise((resolve, reject) => {
      socket.write(buf, (err) =>
        err ? reject(new DeviceGoneError(`write failed: ${err.message}`)) : resolve(),
      );
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}

export interface TransportOptions {
  /** See SerialTransportOptions.lock. */
  lock?: boolean;
  rtscts?: boolean;
  connectTimeoutMs?: number;
}

/** Pick the transport for Gammu's `Device` / `Connection` pair without opening it. */
export function createTransport(
  device: string,
  connection = 'at',
  options: TransportOptions = {},
): AtTransport {
  const { baudRate } = parseConnection(connection);
  const tcp = parseHostPort(device);
  if (tcp) {
    const opts: TcpTransportOptions = { ...tcp };
    if (options.connectTimeoutMs !== undefined) opts.connectTimeoutMs = options.connectTimeoutMs;
    return new TcpTransport(opts);
  }
  const opts: SerialTransportOptions = { path: device, baudRate };
  if (options.lock !== undefined) opts.lock = options.lock;
  if (options.rtscts !== undefined) opts.rtscts = options.rtscts;
  return new SerialTransport(opts);
}

/** createTransport + open. */
export async function openTransport(
  device: string,
  connection = 'at',
  options: TransportOptions = {},
): Promise<AtTransport> {
  const transport = createTransport(device, connection, options);
  await transport.open();
  return transport;
}

import { appendFileSync, readFileSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { resolve } from 'node:path';
import { ControlServer, type ControlTarget, type Endpoints } from './control.js';
import { EmulatorError } from './errors.js';
import type { IncomingInput } from './incoming.js';
import { ModemEmulator, type ModemEmulatorOptions } from './modem.js';
import { PtyDevice } from './pty.js';
import type { SentRecord } from './records.js';

/**
 * The modem on a TCP port (127.0.0.1 by default), like a serial-over-IP server: one session at a
 * time; a second connection is closed at once while the first is open.
 */
export class TcpModemServer {
  private server: Server | undefined;
  private active: Socket | undefined;
  private returnTimer: NodeJS.Timeout | undefined;
  private boundPort: number | undefined;
  private stopped = false;

  constructor(
    readonly modem: ModemEmulator,
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {}

  /** The bound port (useful with port 0). */
  get actualPort(): number | undefined {
    return this.boundPort;
  }

  async listen(): Promise<void> {
    this.stopped = false;
    const server = createServer((socket) => {
      if (this.active) {
        socket.destroy();
        return;
      }
      this.active = socket;
      socket.on('error', () => undefined);
      this.modem.attach(socket);
      socket.on('close', () => {
        if (this.active === socket) this.active = undefined;
      });
    });
    // Re-listening after a vanish must get the same port back.
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(this.boundPort ?? this.port, this.host, () => {
        server.off('error', fail);
        ok();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.active?.destroy();
    this.active = undefined;
    if (server) await new Promise<void>((ok) => server.close(() => ok()));
  }

  /** Drops the session and refuses connections for `ms`. */
  async vanish(ms: number): Promise<void> {
    if (this.returnTimer) clearTimeout(this.returnTimer);
    await this.closeServer();
    this.returnTimer = setTimeout(() => {
      this.returnTimer = undefined;
      if (!this.stopped) this.listen().catch(() => undefined);
    }, ms);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.returnTimer) clearTimeout(this.returnTimer);
    await this.closeServer();
  }
}

export interface EmulatorServerOptions {
  /** PTY link path; omit (or null) for no pseudo-terminal. */
  device?: string | null;
  /** TCP port on tcpHost; 0 picks a free one. Omit for no TCP. */
  tcpPort?: number | null;
  tcpHost?: string;
  /** Control socket path; default `<device>.ctl` when there is a device; null for none. */
  control?: string | null;
  /** JSON lines delivered at start: a raw PDU string, `{pdu}` or an IncomingMessage per line. */
  incoming?: string | null;
  /** Appends every decoded SUBMIT (refused ones with `error`) as a JSON line. */
  sentLog?: string | null;
  /** The modem, or options to build one. */
  modem?: ModemEmulator | ModemEmulatorOptions;
  socat?: string;
  /** Transport diagnostics (socat output). */
  log?: (line: string) => void;
}

/** Reads an --incoming file: one JSON value per line; blank lines and `#` comments skipped. */
export function readIncomingFile(path: string): IncomingInput[] {
  const out: IncomingInput[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      try {
        out.push(JSON.parse(line) as IncomingInput);
      } catch (e) {
        throw new EmulatorError(`${path}:${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  return out;
}

/**
 * A running emulator: the modem, on a pseudo-terminal and/or a TCP port, with its control socket,
 * the --incoming messages delivered and the --sent-log written.
 */
export class EmulatorServer implements ControlTarget {
  readonly modem: ModemEmulator;
  readonly pty: PtyDevice | undefined;
  readonly tcp: TcpModemServer | undefined;
  readonly control: ControlServer | undefined;
  private readonly ownsModem: boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(opts: EmulatorServerOptions) {
    if (opts.modem instanceof ModemEmulator) {
      this.modem = opts.modem;
      this.ownsModem = false;
    } else {
      this.modem = new ModemEmulator(opts.modem);
      this.ownsModem = true;
    }
    const log = opts.log;
    if (opts.device) this.pty = new PtyDevice(this.modem, { path: opts.device, socat: opts.socat, log });
    if (opts.tcpPort !== undefined && opts.tcpPort !== null) {
      this.tcp = new TcpModemServer(this.modem, opts.tcpPort, opts.tcpHost);
    }
    const controlPath =
      opts.control === undefined
        ? this.pty
          ? `${this.pty.path}.ctl`
          : undefined
        : (opts.control ?? undefined);
    if (controlPath) this.control = new ControlServer(resolve(controlPath), this);
    if (opts.sentLog) {
      const file = resolve(opts.sentLog);
      // Synchronous, so the line is on disk before the host sees +CMGS.
      const write = (r: SentRecord | null): void => {
        if (r) appendFileSync(file, `${JSON.stringify(r)}\n`);
      };
      this.modem.on('submit', (r) => write(r));
      this.modem.on('submit-error', (r) => write(r));
    }
    // A USB modem re-enumerates after a reset: let the OK out, then drop off the bus.
    this.modem.on('reset', (reason) => {
      const ms = this.modem.getFaults().resetVanishMs;
      if (reason !== 'cfun' || ms <= 0) return;
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.vanish(ms).catch(() => undefined);
      }, 100);
      this.timers.add(t);
    });
  }

  static async start(opts: EmulatorServerOptions): Promise<EmulatorServer> {
    if (!opts.device && (opts.tcpPort === undefined || opts.tcpPort === null)) {
      throw new EmulatorError('the emulator needs a device path and/or a TCP port');
    }
    const server = new EmulatorServer(opts);
    try {
      if (opts.incoming) for (const m of readIncomingFile(opts.incoming)) server.modem.deliver(m);
      await server.control?.listen();
      await server.pty?.start();
      await server.tcp?.listen();
    } catch (e) {
      await server.close();
      throw e;
    }
    return server;
  }

  get devicePath(): string | undefined {
    return this.pty?.path;
  }

  get tcpPort(): number | undefined {
    return this.tcp?.actualPort;
  }

  get controlPath(): string | undefined {
    return this.control?.path;
  }

  endpoints(): Endpoints {
    return {
      device: this.pty?.path ?? null,
      pts: this.pty?.ptsName ?? null,
      present: this.pty ? this.pty.present : this.tcp !== undefined,
      tcp: this.tcp?.actualPort ?? null,
      control: this.control?.path ?? null,
    };
  }

  /** The device disappears for `ms` (PTY path removed, TCP session dropped) and the modem power-cycles. */
  async vanish(ms: number): Promise<void> {
    await Promise.all([this.pty?.vanish(ms), this.tcp?.vanish(ms)]);
    if (!this.pty) this.modem.powerCycle('power');
  }

  /** Stops everything (socat killed, sockets closed). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([this.pty?.stop(), this.tcp?.close(), this.control?.close()]);
    if (this.ownsModem) this.modem.dispose();
  }
}

/** Starts an emulator; see EmulatorServerOptions. */
export function startEmulator(opts: EmulatorServerOptions): Promise<EmulatorServer> {
  return EmulatorServer.start(opts);
}

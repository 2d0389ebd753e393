import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, connect, createConnection, createServer } from 'node:net';
import { EmulatorError } from './errors.js';
import type { IncomingMessage, IncomingPdu } from './incoming.js';
import type {
  DeliverOutcome,
  FaultInput,
  ModemEmulator,
  ModemFaults,
  ModemSettings,
  ModemStatus,
} from './modem.js';
import { type SentMessage, type SentRecord, joinSent } from './records.js';
import type { MemoryName, StoredMessage } from './storage.js';

/** One JSON line on the control socket. */
export type ControlRequest =
  | ({ cmd: 'deliver' } & (IncomingMessage | IncomingPdu))
  | ({ cmd: 'fault' } & FaultInput)
  | ({ cmd: 'set' } & Partial<ModemSettings>)
  | { cmd: 'sent'; clear?: boolean }
  | { cmd: 'status' }
  | { cmd: 'vanish'; ms: number }
  | { cmd: 'messages'; memory?: MemoryName }
  | { cmd: 'clear' }
  | { cmd: 'reset' };

export type ControlReply = ({ ok: true } & Record<string, unknown>) | { ok: false; error: string };

/** Where the emulator can be reached, for `status` and the command's banner. */
export interface Endpoints {
  device: string | null;
  pts: string | null;
  present: boolean;
  tcp: number | null;
  control: string | null;
}

export type ServerStatus = Endpoints & ModemStatus;

/** What the control socket drives: a modem plus the transport that can make it vanish. */
export interface ControlTarget {
  readonly modem: ModemEmulator;
  vanish(ms: number): Promise<void>;
  endpoints(): Endpoints;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Executes one control request; protocol and validation errors come back as `{ok: false}`. */
export async function handleControl(target: ControlTarget, request: unknown): Promise<ControlReply> {
  try {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw new EmulatorError('a request is a JSON object with "cmd"');
    }
    const { cmd, ...rest } = request as Record<string, unknown>;
    const modem = target.modem;
    const noArgs = (): void => {
      const extra = Object.keys(rest);
      if (extra.length > 0) throw new EmulatorError(`unknown field "${extra[0]}" for ${String(cmd)}`);
    };
    switch (cmd) {
      case 'deliver': {
        const outcome: DeliverOutcome = modem.deliver(rest as unknown as IncomingMessage | IncomingPdu);
        return { ok: true, ...outcome };
      }
      case 'fault':
        modem.setFault(rest as FaultInput);
        return { ok: true, faults: modem.getFaults() };
      case 'set':
        modem.set(rest as Partial<ModemSettings>);
        return { ok: true, settings: modem.getSettings() };
      case 'sent': {
        const { clear, ...other } = rest;
        if (Object.keys(other).length > 0)
          throw new EmulatorError(`unknown field "${Object.keys(other)[0]}" for sent`);
        const sent = modem.sendAttempts;
        if (clear === true) modem.clearSent();
        return { ok: true, sent, messages: joinSent(sent.filter((r) => r.error === null)) };
      }
      case 'status':
        noArgs();
        return { ok: true, ...target.endpoints(), ...modem.status() };
      case 'vanish': {
        const { ms, ...other } = rest;
        if (Object.keys(other).length > 0)
          throw new EmulatorError(`unknown field "${Object.keys(other)[0]}" for vanish`);
        if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0)
          throw new EmulatorError('vanish needs "ms" >= 0');
        await target.vanish(ms);
        return { ok: true };
      }
      case 'messages': {
        const { memory, ...other } = rest;
        if (Object.keys(other).length > 0)
          throw new EmulatorError(`unknown field "${Object.keys(other)[0]}" for messages`);
        if (memory !== undefined && memory !== 'SM' && memory !== 'ME')
          throw new EmulatorError('memory is "SM" or "ME"');
        return { ok: true, messages: modem.messages(memory) };
      }
      case 'clear':
        noArgs();
        modem.clearMessages();
        modem.clearSent();
        return { ok: true };
      case 'reset':
        noArgs();
        modem.powerCycle('power');
        return { ok: true };
      default:
        throw new EmulatorError(`unknown cmd ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    return { ok: false, error: message(e) };
  }
}

/** Removes a stale socket file; refuses to touch anything else or a socket someone still listens on. */
async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new EmulatorError(`${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new EmulatorError(`${path} is in use by another emulator`);
  unlinkSync(path);
}

/** The JSON-lines control socket (a Unix socket). Requests on one connection are answered in order. */
/** A control request is a small JSON object; a line longer than this is refused and the peer dropped. */
const MAX_REQUEST_LINE = 1024 * 1024;

export class ControlServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly target: ControlTarget,
  ) {}

  async listen(): Promise<void> {
    await clearStaleSocket(this.path);
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    let buf = '';
    let chain = Promise.resolve();
    let refused = false;
    socket.on('data', (chunk: string) => {
      if (refused) return;
      // Only the new chunk can end a line: searching all of `buf` again is quadratic on a long line.
      if (!chunk.includes('\n')) {
        buf += chunk;
        if (buf.length > MAX_REQUEST_LINE) {
          // A peer that never ends its line would take the emulator's memory.
          buf = '';
          refused = true;
          socket.end(
            `${JSON.stringify({ ok: false, error: `request line longer than ${MAX_REQUEST_LINE} characters` })}\n`,
          );
        }
        return;
      }
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        chain = chain.then(async () => {
          let reply: ControlReply;
          try {
            reply = await handleControl(this.target, JSON.parse(line));
          } catch (e) {
            reply = { ok: false, error: `invalid JSON: ${message(e)}` };
          }
          if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
        });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    // net removes the socket file on close; a crash leaves it, and listen() clears such leftovers.
  }
}

/** A control request answered with ok: false. */
export class EmulatorControlError extends Error {
  override readonly name = 'EmulatorControlError';
}

/** Client of the control socket, for tests and the command line. */
export class EmulatorControl {
  private buf = '';
  private readonly pending: Array<{ resolve: (r: ControlReply) => void; reject: (e: Error) => void }> = [];
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const waiter = this.pending.shift();
        if (!waiter) continue;
        try {
          waiter.resolve(JSON.parse(line) as ControlReply);
        } catch (e) {
          waiter.reject(new EmulatorControlError(`bad reply: ${message(e)}`));
        }
      }
    });
    const fail = (e: Error): void => {
      this.closed = e;
      for (const w of this.pending.splice(0)) w.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(this.closed ?? new EmulatorControlError('control socket closed')));
  }

  static connect(path: string, timeoutMs = 5000): Promise<EmulatorControl> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const t = setTimeout(() => {
        socket.destroy();
        reject(new EmulatorControlError(`no answer from control socket ${path}`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(t);
        socket.off('error', onError);
        resolve(new EmulatorControl(socket));
      });
      const onError = (e: Error): void => {
        clearTimeout(t);
        reject(new EmulatorControlError(`cannot connect to ${path}: ${e.message}`));
      };
      socket.once('error', onError);
    });
  }

  /** Connects, sends one request, closes. */
  static async once(path: string, request: ControlRequest, timeoutMs = 10_000): Promise<ControlReply> {
    const c = await EmulatorControl.connect(path, timeoutMs);
    try {
      return await c.request(request, timeoutMs);
    } finally {
      c.close();
    }
  }

  /** Sends a request and resolves with its reply, ok or not. */
  request(request: ControlRequest, timeoutMs = 10_000): Promise<ControlReply> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.pending.indexOf(waiter);
        // Leave the slot in place so later replies still pair up; just stop waiting.
        if (i >= 0) this.pending[i] = { resolve: () => undefined, reject: () => undefined };
        reject(new EmulatorControlError(`no reply to ${request.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: (r: ControlReply) => {
          clearTimeout(t);
          resolve(r);
        },
        reject: (e: Error) => {
          clearTimeout(t);
          reject(e);
        },
      };
      this.pending.push(waiter);
      this.socket.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Like request, but an `{ok: false}` reply throws EmulatorControlError. */
  async call(request: ControlRequest, timeoutMs?: number): Promise<Record<string, unknown>> {
    const r = await this.request(request, timeoutMs);
    if (!r.ok) throw new EmulatorControlError(r.error);
    return r;
  }

  async deliver(msg: IncomingMessage | IncomingPdu | string): Promise<DeliverOutcome> {
    const body = typeof msg === 'string' ? { pdu: msg } : msg;
    return (await this.call({ cmd: 'deliver', ...body })) as unknown as DeliverOutcome;
  }

  async fault(f: FaultInput): Promise<ModemFaults> {
    return (await this.call({ cmd: 'fault', ...f })).faults as ModemFaults;
  }

  async set(s: Partial<ModemSettings>): Promise<ModemSettings> {
    return (await this.call({ cmd: 'set', ...s })).settings as ModemSettings;
  }

  async sent(clear = false): Promise<{ sent: SentRecord[]; messages: SentMessage[] }> {
    const r = await this.call(clear ? { cmd: 'sent', clear } : { cmd: 'sent' });
    return { sent: r.sent as SentRecord[], messages: r.messages as SentMessage[] };
  }

  async status(): Promise<ServerStatus> {
    return (await this.call({ cmd: 'status' })) as unknown as ServerStatus;
  }

  async vanish(ms: number): Promise<void> {
    await this.call({ cmd: 'vanish', ms });
  }

  async messages(memory?: MemoryName): Promise<StoredMessage[]> {
    return (await this.call(memory ? { cmd: 'messages', memory } : { cmd: 'messages' }))
      .messages as StoredMessage[];
  }

  close(): void {
    this.closed ??= new EmulatorControlError('control client closed');
    this.socket.end();
  }
}

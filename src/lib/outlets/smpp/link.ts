import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { CMD, RESP, PduReader, encodePdu, encodeBind, statusName, type Pdu } from './codec.js';
import type { UpstreamConfig } from './config.js';

export type LinkKind = 'transceiver' | 'transmitter' | 'receiver';

/** The SMSC refused the bind: its status (wrong password, system id, ...). */
export class BindRefused extends Error {
  constructor(readonly status: number) {
    super(`bind refused by the SMSC: ${statusName(status)}`);
  }
}

/** The link went away before the SMSC answered this request. */
export class LinkLost extends Error {}

interface Pending {
  resolve(p: Pdu): void;
  reject(e: Error): void;
  sentAt: number;
}

export interface LinkEvents {
  /** deliver_sm / data_sm from the SMSC; resolves with the status to answer (after durable storage). */
  incoming(pdu: Pdu): Promise<number>;
  /** The link is gone (any reason); pending requests were rejected with LinkLost just before. */
  down(reason: string, wasBound: boolean): void;
}

/**
 * One TCP (or TLS) connection and one bind to the SMSC. Writes are gathered per tick into one
 * socket write; enquire_link both ways; a silent link (nothing heard within LinkTimeout) or an
 * unanswered request older than ResponseTimeout is closed, so the outlet reconnects.
 */
export class Link {
  private socket: net.Socket | undefined;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private out: Buffer[] = [];
  private flushQueued = false;
  private lastHeard = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private lastEnquire = Date.now();
  private closed = false;
  bound = false;

  constructor(
    readonly kind: LinkKind,
    private readonly cfg: UpstreamConfig,
    private readonly events: LinkEvents,
  ) {}

  get inFlight(): number {
    return this.pending.size;
  }

  /** Connects and binds; rejects with BindRefused or a network error. */
  async open(): Promise<void> {
    const c = this.cfg;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      const s = c.tls
        ? tls.connect({
            host: c.host,
            port: c.port,
            servername: c.tlsServerName ?? (net.isIP(c.host) ? undefined : c.host),
            rejectUnauthorized: c.tlsVerify,
            ...(c.tlsCa ? { ca: fs.readFileSync(c.tlsCa) } : {}),
          })
        : net.connect({ host: c.host, port: c.port });
      s.once('error', onError);
      s.once(c.tls ? 'secureConnect' : 'connect', () => {
        s.off('error', onError);
        resolve(s);
      });
      s.setTimeout(15_000, () => s.destroy(new Error('connect timed out')));
    });
    socket.setTimeout(0);
    socket.setNoDelay(true);
    this.socket = socket;
    const reader = new PduReader();
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      let pdus: Pdu[];
      try {
        pdus = reader.push(chunk);
      } catch (err) {
        this.close(`broken stream from the SMSC: ${(err as Error).message}`);
        return;
      }
      for (const p of pdus) this.onPdu(p);
    });
    socket.on('error', (e) => this.close(e.message));
    socket.on('close', () => this.close('connection closed by the SMSC'));
    const command = {
      transceiver: CMD.bind_transceiver,
      transmitter: CMD.bind_transmitter,
      receiver: CMD.bind_receiver,
    }[this.kind];
    const resp = await this.request(
      command,
      encodeBind({
        systemId: c.systemId,
        password: c.password,
        systemType: c.systemType,
        ton: 0,
        npi: 0,
        addressRange: c.addressRange,
      }),
    );
    // 0x05 ESME_RALYBND: the SMSC still holds our old bind after a blip; it is bound (Kannel too).
    if (resp.status !== 0 && resp.status !== 0x05) {
      this.close(`bind refused: ${statusName(resp.status)}`);
      throw new BindRefused(resp.status);
    }
    this.bound = true;
    this.lastHeard = Date.now();
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastHeard > this.cfg.linkTimeoutMs) {
      this.close(`nothing heard from the SMSC for ${Math.round((now - this.lastHeard) / 1000)} s`);
      return;
    }
    for (const p of this.pending.values())
      if (now - p.sentAt > this.cfg.responseTimeoutMs) {
        this.close(`no answer from the SMSC within ${this.cfg.responseTimeoutMs / 1000} s`);
        return;
      }
    if (now - this.lastEnquire >= this.cfg.enquireLinkMs) {
      this.lastEnquire = now;
      this.request(CMD.enquire_link).catch(() => undefined);
    }
  }

  /** Sends a request; resolves with its response (whatever its status). */
  request(command: number, body?: Buffer): Promise<Pdu> {
    if (this.closed || !this.socket) return Promise.reject(new LinkLost('link closed'));
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    const seq = this.seq;
    return new Promise<Pdu>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, sentAt: Date.now() });
      this.write(encodePdu(command, 0, seq, body));
    });
  }

  private write(b: Buffer): void {
    this.out.push(b);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      const bufs = this.out;
      this.out = [];
      if (!this.socket || this.closed || bufs.length === 0) return;
      this.socket.write(bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs));
    });
  }

  private onPdu(p: Pdu): void {
    if (p.command & RESP) {
      const w = this.pending.get(p.seq);
      if (w) {
        this.pending.delete(p.seq);
        w.resolve(p);
      }
      return;
    }
    switch (p.command) {
      case CMD.enquire_link:
        this.write(encodePdu(CMD.enquire_link | RESP, 0, p.seq));
        return;
      case CMD.unbind:
        this.write(encodePdu(CMD.unbind | RESP, 0, p.seq));
        setImmediate(() => this.close('the SMSC unbound'));
        return;
      case CMD.deliver_sm:
      case CMD.data_sm: {
        const respCmd = p.command | RESP;
        this.events.incoming(p).then(
          (status) => this.write(encodePdu(respCmd, status, p.seq, Buffer.from([0]))),
          () => this.write(encodePdu(respCmd, 0x64, p.seq, Buffer.from([0]))),
        );
        return;
      }
      default:
        this.write(encodePdu(CMD.generic_nack, 0x03, p.seq));
    }
  }

  /** unbind, waiting up to `ms` for its answer (and the answers still due), then close. */
  async unbind(ms: number): Promise<void> {
    if (this.closed) return;
    const wait = this.request(CMD.unbind).catch(() => undefined);
    await Promise.race([wait, new Promise((r) => setTimeout(r, ms).unref())]);
    this.close('unbound');
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const wasBound = this.bound;
    this.bound = false;
    if (this.timer) clearInterval(this.timer);
    const socket = this.socket;
    if (socket) {
      // Whatever is still buffered (answers to deliver_sm, the unbind) goes before the close.
      const bufs = this.out;
      this.out = [];
      if (bufs.length > 0 && !socket.destroyed) socket.write(Buffer.concat(bufs));
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    }
    const lost = [...this.pending.values()];
    this.pending.clear();
    for (const p of lost) p.reject(new LinkLost(reason));
    this.events.down(reason, wasBound);
  }
}

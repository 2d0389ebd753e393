import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './spool.js';

/**
 * Hostile SMPP peers built from raw sockets and hand-made PDU bytes (none of the project's SMPP
 * code, nor the `smpp` package), and `smppd serve` as a real process to attack.
 */

export const CMD = {
  bind_transmitter: 0x02,
  bind_transceiver: 0x09,
  submit_sm: 0x04,
  enquire_link: 0x15,
  unbind: 0x06,
} as const;

export function header(length: number, id: number, status: number, seq: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length >>> 0, 0);
  b.writeUInt32BE(id >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(seq >>> 0, 12);
  return b;
}

export function pdu(id: number, seq: number, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([header(16 + body.length, id, 0, seq), body]);
}

const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);

export function bindPdu(
  systemId: string,
  password: string,
  seq = 1,
  id: number = CMD.bind_transceiver,
): Buffer {
  // system_id, password, system_type, interface_version 0x34, addr_ton, addr_npi, address_range
  return pdu(
    id,
    seq,
    Buffer.concat([cstr(systemId), cstr(password), cstr(''), Buffer.from([0x34, 0, 0]), cstr('')]),
  );
}

export function enquireLink(seq: number): Buffer {
  return pdu(CMD.enquire_link, seq);
}

export interface SubmitFields {
  destination?: string;
  source?: string;
  esmClass?: number;
  dataCoding?: number;
  /** The bytes of short_message. */
  message?: Buffer;
  /** sm_length as written (default: message.length); a lie is the point of some tests. */
  smLength?: number;
  /** Raw TLV bytes after the mandatory fields. */
  tlvs?: Buffer;
}

export function submitPdu(seq: number, f: SubmitFields = {}): Buffer {
  const msg = f.message ?? Buffer.from('hello');
  const body = Buffer.concat([
    cstr(''), // service_type
    Buffer.from([1, 1]),
    cstr(f.source ?? '12345'),
    Buffer.from([1, 1]),
    cstr(f.destination ?? '420123456789'),
    Buffer.from([f.esmClass ?? 0, 0, 0]), // esm_class, protocol_id, priority_flag
    cstr(''), // schedule_delivery_time
    cstr(''), // validity_period
    Buffer.from([0, 0, f.dataCoding ?? 0, 0, f.smLength ?? msg.length]),
    msg,
    f.tlvs ?? Buffer.alloc(0),
  ]);
  return pdu(CMD.submit_sm, seq, body);
}

/** A response read off the wire. */
export interface Resp {
  id: number;
  status: number;
  seq: number;
  body: Buffer;
}

/** A raw connection that frames what the server sends and lets a test wait for answers by sequence. */
export class RawPeer {
  readonly socket: net.Socket;
  readonly received: Resp[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: { match: (r: Resp) => boolean; resolve: (r: Resp) => void }[] = [];
  private closeWaiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closeWaiters) w();
      this.closeWaiters = [];
    });
  }

  /** Connects to 127.0.0.1:`port`, optionally from `localAddress` (any 127.x.y.z on Linux). */
  static connect(port: number, localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
      s.once('connect', () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  private onData(c: Buffer): void {
    this.buf = Buffer.concat([this.buf, c]);
    while (this.buf.length >= 16) {
      const len = this.buf.readUInt32BE(0);
      if (this.buf.length < len) break;
      const r: Resp = {
        id: this.buf.readUInt32BE(4),
        status: this.buf.readUInt32BE(8),
        seq: this.buf.readUInt32BE(12),
        body: Buffer.from(this.buf.subarray(16, len)),
      };
      this.buf = this.buf.subarray(len);
      const w = this.waiters.find((x) => x.match(r));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(r);
      } else this.received.push(r);
    }
  }

  send(b: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(b, () => resolve()));
  }

  /** The answer with sequence `seq` (or the connection closing: then undefined), within `ms`. */
  answer(seq: number, ms = 10_000): Promise<Resp | undefined> {
    const got = this.received.find((r) => r.seq === seq);
    if (got) return Promise.resolve(got);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      const w = {
        match: (r: Resp) => r.seq === seq,
        resolve: (r: Resp) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.waiters.push(w);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  /** Sends `b` and waits for the answer to `seq`. */
  async call(b: Buffer, seq: number, ms?: number): Promise<Resp | undefined> {
    await this.send(b);
    return this.answer(seq, ms);
  }

  whenClosed(ms = 10_000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A peer that never reads: its socket is paused from the start (the kernel's receive buffer fills,
 * then the server's output has nowhere to go) while it writes `chunk` as fast as the server takes it.
 * Resolves with the bytes written once `ms` has passed or the server closed the connection.
 */
export function neverReader(
  port: number,
  first: Buffer,
  chunk: Buffer,
  ms: number,
  localAddress?: string,
): Promise<{ written: number; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    s.pause();
    let written = 0;
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ written, closedByServer });
    };
    const timer = setTimeout(() => finish(false), ms);
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    const pump = (): void => {
      while (!done) {
        written += chunk.length;
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
    };
    s.once('connect', () => {
      s.write(first);
      pump();
    });
  });
}

export const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');

/** `smppd serve -c config` as a real process; resolves once it listens, with its port. */
export async function spawnSmppd(
  config: string,
  opts: { timeoutMs?: number } = {},
): Promise<{ child: ChildProcess; port: number; adminPort?: number; output: () => string }> {
  const child = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) {
      await new Promise((r) => setTimeout(r, 50));
      const a = /admin HTTP on [^:]+:(\d+)/.exec(out);
      return {
        child,
        port: Number(m[1]),
        ...(a ? { adminPort: Number(a[1]) } : {}),
        output: () => out,
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`smppd did not start (exit ${child.exitCode}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `n` distinct 127.a.b.c source addresses (c never 0 or 255), from block `a` (2..254). */
export function loopbackAddresses(n: number, a = 2): string[] {
  return Array.from(
    { length: n },
    (_, i) => `127.${a + Math.floor(i / (254 * 256))}.${Math.floor(i / 254) % 256}.${1 + (i % 254)}`,
  );
}

/** A deliver_sm as read by hand. */
export interface DeliverSm {
  seq: number;
  source: string;
  destination: string;
  esmClass: number;
  /** short_message, or message_payload when short_message is empty. */
  message: Buffer;
}

function readCstring(b: Buffer, off: number): [string, number] {
  const end = b.indexOf(0, off);
  if (end < 0) throw new Error('unterminated C-Octet String');
  return [b.toString('latin1', off, end), end + 1];
}

/** The body of a deliver_sm (after its 16-byte header), field by field per SMPP 3.4 §4.6.1. */
export function parseDeliverSm(seq: number, body: Buffer): DeliverSm {
  let off = 0;
  [, off] = readCstring(body, off); // service_type
  off += 2;
  const [source, afterSource] = readCstring(body, off);
  off = afterSource + 2;
  const [destination, afterDestination] = readCstring(body, off);
  off = afterDestination;
  const esmClass = body[off] ?? 0;
  off += 3;
  [, off] = readCstring(body, off); // schedule_delivery_time
  [, off] = readCstring(body, off); // validity_period
  off += 4; // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
  const smLength = body[off] ?? 0;
  off += 1;
  let message = body.subarray(off, off + smLength);
  off += smLength;
  while (message.length === 0 && off + 4 <= body.length) {
    const tag = body.readUInt16BE(off);
    const len = body.readUInt16BE(off + 2);
    if (tag === 0x0424) message = body.subarray(off + 4, off + 4 + len);
    off += 4 + len;
  }
  return { seq, source, destination, esmClass, message: Buffer.from(message) };
}

/**
 * An ESME bound as receiver (raw socket) that answers each deliver_sm with the status `answer`
 * picks, and keeps every one it got.
 */
export class ReceivingEsme {
  readonly got: DeliverSm[] = [];
  private buf = Buffer.alloc(0);

  private constructor(
    readonly socket: net.Socket,
    private readonly answer: (d: DeliverSm) => number,
  ) {
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('error', () => undefined);
  }

  static async bind(
    port: number,
    systemId: string,
    password: string,
    answer: (d: DeliverSm) => number = () => 0,
  ): Promise<ReceivingEsme> {
    const peer = await RawPeer.connect(port);
    const a = await peer.call(bindPdu(systemId, password, 1, 0x01), 1);
    if (a?.status !== 0) throw new Error(`bind_receiver refused: ${a?.status}`);
    peer.socket.removeAllListeners('data');
    return new ReceivingEsme(peer.socket, answer);
  }

  private onData(c: Buffer): void {
    this.buf = Buffer.concat([this.buf, c]);
    while (this.buf.length >= 16 && this.buf.length >= this.buf.readUInt32BE(0)) {
      const len = this.buf.readUInt32BE(0);
      const id = this.buf.readUInt32BE(4);
      const seq = this.buf.readUInt32BE(12);
      const body = this.buf.subarray(16, len);
      this.buf = this.buf.subarray(len);
      if (id === 0x05) {
        const d = parseDeliverSm(seq, body);
        this.got.push(d);
        // deliver_sm_resp: message_id (NULL) only
        const resp = Buffer.concat([header(17, 0x80000005, this.answer(d), seq), Buffer.from([0])]);
        this.socket.write(resp);
      } else if (id === 0x15) this.socket.write(header(16, 0x80000015, 0, seq));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

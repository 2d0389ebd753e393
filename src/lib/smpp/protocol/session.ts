import type net from 'node:net';
import {
  CMD,
  Framer,
  HEADER_LENGTH,
  RESPONSE_BIT,
  STATUS,
  decodePdu,
  headerOnly,
  PduDecodeError,
  type FrameEvent,
  type RawPdu,
} from './pdu.js';
import type { Account } from '../policy/accounts.js';

/**
 * One ESME connection: framing, the SMPP 3.4 session states and timers, and the requests we send
 * (deliver_sm, enquire_link, unbind) with their response timers. What a PDU means is decided by the
 * server through `SessionHandler`.
 *
 *   OPEN --bind_*--> BINDING --ok--> BOUND_TX | BOUND_RX | BOUND_TRX --unbind--> UNBOUND --> CLOSED
 */

export type SessionState = 'open' | 'binding' | 'bound' | 'unbound' | 'closed';
export type BindType = 'tx' | 'rx' | 'trx';

export interface SessionTimers {
  /** Close a connection that has not bound within this time. */
  sessionInitMs: number;
  /** Send enquire_link after this much silence from the ESME. */
  enquireLinkMs: number;
  /** Close when the ESME has sent nothing for this long. */
  inactivityMs: number;
  /** A request of ours (deliver_sm, enquire_link) not answered within this time fails. */
  responseMs: number;
  /**
   * Bytes written but not yet taken by the peer above which we stop reading from it (an ESME
   * that never reads cannot make us queue answers without end). Default 256 KiB.
   */
  maxOutputBytes?: number;
  /** Close a session whose output stays above `maxOutputBytes` this long. Default `responseMs`. */
  outputStallMs?: number;
}

/** Why a session's socket is paused: it reads again only once every reason is gone. */
export type HoldReason = 'output' | 'submits' | 'stopping';

export interface SessionHandler {
  onPdu(session: Session, pdu: RawPdu): void;
  onClose(session: Session): void;
}

export type ResponseCallback = (result: { status: number; pdu?: RawPdu } | { error: string }) => void;

interface Outstanding {
  callback: ResponseCallback;
  timer: NodeJS.Timeout;
}

let nextBindId = 1;

export class Session {
  readonly id = nextBindId++;
  readonly ip: string;
  readonly connectedAt = Date.now();
  state: SessionState = 'open';
  bindType: BindType | undefined;
  account: Account | undefined;
  /** interface_version of the bind: below 0x34 the peer speaks SMPP 3.3 and gets no TLVs. */
  interfaceVersion = 0x34;
  /** Submits accepted but not yet answered (waiting for their commit). */
  pendingSubmits = 0;
  /** For /esme-status: when the bind succeeded, messages taken (submits) and sent (deliver_sm). */
  boundAt: number | undefined;
  messagesIn = 0;
  messagesOut = 0;
  private readonly framer: Framer;
  private sequence = 0;
  private readonly outstanding = new Map<number, Outstanding>();
  private lastReceived = Date.now();
  private initTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private enquirePending = false;
  private readonly holds = new Set<HoldReason>();
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly handler: SessionHandler,
    private readonly timers: SessionTimers,
    maxPduLength: number,
    private readonly log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void,
  ) {
    this.ip = socket.remoteAddress ?? '?';
    this.framer = new Framer(maxPduLength);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log('debug', `${this.label()}: socket error ${err.message}`));
    socket.on('close', () => this.onClosed());
    socket.on('drain', () => this.onDrain());
    // SessionInitTimeout is the time allowed until a bind request (SMPP's session_init_timer). One
    // that came waits for its password check, which the bind gate bounds and answers either way:
    // closing it here would leave a legitimate ESME unanswered on a busy server.
    this.initTimer = setTimeout(() => {
      if (this.state === 'open') {
        this.log('warn', `${this.label()}: not bound within ${this.timers.sessionInitMs} ms; closing`);
        this.destroy();
      }
    }, timers.sessionInitMs);
    this.scheduleIdle();
  }

  label(): string {
    return `bind ${this.id} (${this.account?.systemId ?? 'unbound'} from ${this.ip})`;
  }

  get canTransmit(): boolean {
    return this.state === 'bound' && (this.bindType === 'tx' || this.bindType === 'trx');
  }

  get canReceive(): boolean {
    return this.state === 'bound' && (this.bindType === 'rx' || this.bindType === 'trx');
  }

  get inFlight(): number {
    return this.outstanding.size;
  }

  private onData(chunk: Buffer): void {
    this.lastReceived = Date.now();
    const events = this.framer.push(chunk);
    if (this.backlogAt >= this.backlog.length) {
      this.backlog = events;
      this.backlogAt = 0;
    } else for (const ev of events) this.backlog.push(ev);
    this.work();
  }

  /** Handles framed PDUs until none is left or the output is full (one chunk may hold thousands). */
  private work(): void {
    while (this.backlogAt < this.backlog.length && !this.holds.has('output')) {
      const ev = this.backlog[this.backlogAt++] as FrameEvent;
      if (this.state === 'closed') {
        this.backlog = [];
        this.backlogAt = 0;
        return;
      }
      if (ev.kind === 'bad-length') {
        this.log(
          'warn',
          `${this.label()}: command_length ${ev.length} is out of range; generic_nack and close`,
        );
        this.write(headerOnly(CMD.generic_nack, STATUS.RINVCMDLEN, ev.seq));
        this.close();
        return;
      }
      let pdu: RawPdu;
      try {
        pdu = decodePdu(ev.buf);
      } catch (err) {
        const status = err instanceof PduDecodeError ? err.status : STATUS.RSYSERR;
        if (err instanceof PduDecodeError && err.answer) {
          // Framed well, one field wrong (sm_length past the body): this request is refused, the session goes on.
          this.log('info', `${this.label()}: ${err.message}; refused`);
          this.write(headerOnly(ev.buf.readUInt32BE(4) | RESPONSE_BIT, status, ev.buf.readUInt32BE(12)));
          continue;
        }
        this.log('warn', `${this.label()}: ${(err as Error).message}; generic_nack and close`);
        this.write(
          headerOnly(CMD.generic_nack, status, ev.buf.length >= HEADER_LENGTH ? ev.buf.readUInt32BE(12) : 0),
        );
        this.close();
        return;
      }
      if (pdu.id & RESPONSE_BIT) {
        this.onResponse(pdu);
        continue;
      }
      try {
        this.handler.onPdu(this, pdu);
      } catch (err) {
        // A bug of ours must cost this session, never the server.
        this.log(
          'error',
          `${this.label()}: handling ${pdu.command ?? pdu.id}: ${(err as Error).stack ?? String(err)}`,
        );
        this.write(headerOnly(CMD.generic_nack, STATUS.RSYSERR, pdu.seq));
        this.close();
        return;
      }
    }
  }
  /** PDUs framed but not handled yet (held back by a full output), from `backlogAt` on. */
  private backlog: FrameEvent[] = [];
  private backlogAt = 0;

  private onResponse(pdu: RawPdu): void {
    if (pdu.id === CMD.enquire_link + RESPONSE_BIT) this.enquirePending = false;
    const o = this.outstanding.get(pdu.seq);
    if (!o) return; // never answer a response; a stray one is dropped
    this.outstanding.delete(pdu.seq);
    clearTimeout(o.timer);
    o.callback({ status: pdu.status, pdu });
  }

  bound(account: Account, type: BindType): void {
    this.account = account;
    this.bindType = type;
    this.state = 'bound';
    this.boundAt ??= Date.now();
    if (this.initTimer) clearTimeout(this.initTimer);
  }

  /**
   * Writes are gathered until the current callbacks have run and go out as one buffer on the next
   * tick: a group commit answers a hundred submits in one write, and what waits for a peer that
   * does not read is one buffer per tick, so its byte count is what it costs (thousands of
   * 16-byte writes queued one by one cost a kilobyte each).
   */
  write(buf: Buffer): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.outParts.push(buf);
    this.outBytes += buf.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    if (!this.holds.has('output') && this.unsent > (this.timers.maxOutputBytes ?? 1 << 18)) this.outputFull();
  }

  /** Bytes answered but not yet taken by the peer (gathered here or queued in the socket). */
  get unsent(): number {
    return this.outBytes + this.socket.writableLength;
  }

  private outParts: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.outParts.length === 0) return;
    const out =
      this.outParts.length === 1 ? (this.outParts[0] as Buffer) : Buffer.concat(this.outParts, this.outBytes);
    this.outParts = [];
    this.outBytes = 0;
    if (!this.socket.destroyed) this.socket.write(out);
  };

  /** Pauses the socket for `reason` (several reasons may hold it at once). */
  hold(reason: HoldReason): void {
    this.holds.add(reason);
    if (!this.socket.isPaused()) this.socket.pause();
  }

  /** Drops `reason`; reads again when no other reason holds the socket. */
  release(reason: HoldReason): void {
    this.holds.delete(reason);
    if (this.holds.size === 0 && this.socket.isPaused() && this.state !== 'closed') this.socket.resume();
  }

  held(reason: HoldReason): boolean {
    return this.holds.has(reason);
  }

  /** The peer does not take what we write: read nothing more until it does, close if it never does. */
  private outputFull(): void {
    this.hold('output');
    const ms = this.timers.outputStallMs ?? this.timers.responseMs;
    this.log(
      'warn',
      `${this.label()}: ${this.unsent} bytes unsent (the ESME does not read); reading paused, closing in ${ms} ms unless it reads`,
    );
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.state === 'closed' || !this.holds.has('output')) return;
      this.log('warn', `${this.label()}: output still not taken after ${ms} ms; closing`);
      this.state = 'closed';
      // A reset: what was queued for a peer that never read is dropped with the socket, not flushed.
      try {
        this.socket.resetAndDestroy();
      } catch {
        this.socket.destroy();
      }
    }, ms);
    this.stallTimer.unref();
  }

  private onDrain(): void {
    if (!this.holds.has('output')) return;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.release('output');
    this.work();
  }

  /** Sends a request; `pdu` is fully encoded except its sequence number. */
  request(pdu: Buffer, callback: ResponseCallback): void {
    if (this.state === 'closed') {
      callback({ error: 'session closed' });
      return;
    }
    this.sequence = this.sequence >= 0x7fffffff ? 1 : this.sequence + 1;
    const seq = this.sequence;
    const buf = Buffer.from(pdu);
    buf.writeUInt32BE(seq, 12);
    const timer = setTimeout(() => {
      this.outstanding.delete(seq);
      callback({ error: `no response within ${this.timers.responseMs} ms` });
    }, this.timers.responseMs);
    this.outstanding.set(seq, { callback, timer });
    this.write(buf);
  }

  private scheduleIdle(): void {
    const period = Math.min(this.timers.enquireLinkMs, this.timers.inactivityMs);
    this.idleTimer = setTimeout(() => this.onIdleTick(), Math.max(10, period / 2));
    this.idleTimer.unref();
  }

  private onIdleTick(): void {
    if (this.state === 'closed') return;
    const idle = Date.now() - this.lastReceived;
    // A peer waiting for its bind's answer is not idle (the bind gate bounds that wait).
    if (idle >= this.timers.inactivityMs && this.state !== 'binding') {
      this.log('warn', `${this.label()}: nothing received for ${idle} ms; closing`);
      this.destroy();
      return;
    }
    if (idle >= this.timers.enquireLinkMs && !this.enquirePending && this.state === 'bound') {
      this.enquirePending = true;
      this.request(headerOnly(CMD.enquire_link, 0, 0), (r) => {
        this.enquirePending = false;
        if ('error' in r) {
          this.log('warn', `${this.label()}: enquire_link not answered; closing`);
          this.destroy();
        }
      });
    }
    this.scheduleIdle();
  }

  /** Sends unbind and closes when it is answered (or after the response timer). */
  unbind(): Promise<void> {
    return new Promise((resolve) => {
      if (this.state !== 'bound') {
        this.close();
        resolve();
        return;
      }
      this.state = 'unbound';
      this.socket.once('close', () => resolve());
      this.request(headerOnly(CMD.unbind, 0, 0), () => this.close());
    });
  }

  /** Ends the connection after what was written has gone out. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.flush();
    this.socket.end();
    // A peer that never reads must not keep the socket half-open.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  destroy(): void {
    this.state = 'closed';
    this.socket.destroy();
  }

  private onClosed(): void {
    this.state = 'closed';
    if (this.initTimer) clearTimeout(this.initTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.outParts = [];
    this.outBytes = 0;
    this.backlog = [];
    this.backlogAt = 0;
    for (const [seq, o] of this.outstanding) {
      clearTimeout(o.timer);
      this.outstanding.delete(seq);
      o.callback({ error: 'session closed' });
    }
    this.handler.onClose(this);
  }
}

/**
 * A box on Kannel's bearerbox (what KSMPPD and smsbox are): one TCP link to smsbox-port,
 * identified by BoxId, heartbeats, reconnect with back-off. MT go as sms mt_push and are decided by
 * bearerbox's ack; MO and DLRs come in, are stored through the handlers, and only then acked.
 *
 * Bounds: `window` MT unacknowledged (more callers wait, at most 4 windows of them), `inboundLimit`
 * MO/DLR being stored, `dedupeSize` remembered inbound ids, `maxFrame` bytes per frame.
 */
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import type {
  Outlet,
  OutletHandlers,
  OutletPart,
  OutletStatus,
  ReceiptSettings,
  ReloadResult,
  SubmitOutcome,
} from '../types.js';
import type { SmsdConfig } from '../../config/smsd-config.js';
import { applyKannelReload, readKannelConfig } from './config.js';
import {
  ACK_BUFFERED,
  ACK_FAILED,
  ACK_FAILED_TMP,
  ACK_SUCCESS,
  ADMIN_IDENTIFY,
  ADMIN_RESTART,
  ADMIN_SHUTDOWN,
  BoxProtocolError,
  FrameReader,
  MSG_ACK,
  MSG_ADMIN,
  MSG_HEARTBEAT,
  MSG_SMS,
  SMS_MO,
  SMS_REPORT_MO,
  decodePayload,
  encodeMsg,
  type Msg,
  type Sms,
} from './codec.js';
import type { KannelSettings } from './config.js';
import { PartError, moFromSms, mtFromPart, reportFromSms } from './convert.js';
import { RecentIds } from './recent.js';

/** Same shape as the daemon's Logger (this floor does not import the daemon). */
export type OutletLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

interface PendingMt {
  key: string;
  sentAt: number;
  resolve: (o: SubmitOutcome) => void;
  /** DLRs that came before the ack (bearerbox's own NACK DLR does): run once it is answered. */
  afterAck?: Array<() => void>;
}

/** A link stays "stable" after this long up: the reconnect back-off starts again from its base. */
const STABLE_MS = 10_000;
/** Longest wait before answering "try later" to an MO/DLR we could not store. */
const NACK_BACKOFF_MAX_MS = 30_000;

export interface KannelOutletCounters {
  /** Inbound redeliveries recognised by id and acked without storing again. */
  duplicatesDropped: number;
  /** MO/DLR answered "try later" because storing failed. */
  inboundDeferred: number;
  /** Inbound refused (no ack) because inboundLimit were already being stored. */
  inboundOverLimit: number;
  /** Links dropped for bad frames from bearerbox. */
  protocolErrors: number;
  /** Links established. */
  connects: number;
}

export class KannelOutlet implements Outlet {
  private handlers: OutletHandlers | undefined;
  private socket: net.Socket | undefined;
  private state: OutletStatus['state'] = 'down';
  private closing = false;
  private readonly pending = new Map<string, PendingMt>();
  private readonly waiters: Array<() => void> = [];
  private readonly storing = new Map<string, Promise<boolean>>();
  private readonly stored: RecentIds;
  /** MT bearerbox answered "failed": the "NACK/..." DLR it sends after names no part of ours. */
  private readonly refused = new RecentIds(1000);
  private readonly deferred = new Set<NodeJS.Timeout>();
  private storeFailures = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private upSince = 0;
  private lastFault: string | undefined;
  private bound!: { promise: Promise<void>; resolve: () => void };
  private corked = false;
  private readonly counters = {
    submitted: 0,
    accepted: 0,
    temporaryErrors: 0,
    permanentErrors: 0,
    resentUnanswered: 0,
    moReceived: 0,
    reportsReceived: 0,
  };
  readonly extra: KannelOutletCounters = {
    duplicatesDropped: 0,
    inboundDeferred: 0,
    inboundOverLimit: 0,
    protocolErrors: 0,
    connects: 0,
  };
  private lastError: string | undefined;

  constructor(
    readonly settings: KannelSettings,
    private readonly log: OutletLog,
  ) {
    this.stored = new RecentIds(settings.dedupeSize);
    this.backoffMs = settings.reconnectMs;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.bound = { promise, resolve };
  }

  get receipts(): ReceiptSettings {
    return { timeoutMs: this.settings.receiptTimeoutMs, limit: this.settings.receiptLimit };
  }

  /** SIGHUP: window, timers, DLR masks, SmscId and Sender apply now; Device and BoxId at a restart. */
  reload(config: SmsdConfig): ReloadResult {
    const { settings: next, warnings } = readKannelConfig(config, config.file);
    for (const w of warnings) this.log('warn', w);
    return applyKannelReload(this.settings, next);
  }

  private get peer(): string {
    return `bearerbox ${this.settings.host}:${this.settings.port}`;
  }

  start(handlers: OutletHandlers): Promise<void> {
    if (this.handlers) return this.bound.promise;
    this.handlers = handlers;
    this.connect();
    return this.bound.promise;
  }

  status(): OutletStatus {
    const s: OutletStatus = {
      connection: 'kannel',
      state: this.state,
      inFlight: this.pending.size,
      window: this.settings.window,
      ...this.counters,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  private setState(state: OutletStatus['state']): void {
    if (state === this.state) return;
    this.state = state;
    this.handlers?.state?.(this.status());
  }

  private fault(message: string): void {
    this.lastError = message;
    if (message === this.lastFault) return this.log('debug', message);
    this.lastFault = message;
    this.log('error', message);
  }

  // ---- the link ----

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closing) return;
    this.setState('connecting');
    const sock = net.connect({ host: this.settings.host, port: this.settings.port });
    this.socket = sock;
    const reader = new FrameReader(this.settings.maxFrame);
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 5000);
    sock.on('connect', () => {
      if (sock !== this.socket) return;
      this.upSince = Date.now();
      this.extra.connects++;
      this.send(sock, { type: MSG_ADMIN, command: ADMIN_IDENTIFY, boxcId: Buffer.from(this.settings.boxId) });
      this.send(sock, { type: MSG_HEARTBEAT, load: 0 });
      this.lastError = undefined;
      if (this.lastFault === undefined)
        this.log('info', `${this.peer}: connected as box ${this.settings.boxId}`);
      else {
        // The fault stays "current" (logged once) until the link has held a while: a peer that
        // accepts and then breaks every link makes one error line, not one per reconnect.
        this.log('debug', `${this.peer}: connected as box ${this.settings.boxId}`);
        setTimeout(() => {
          if (sock !== this.socket || sock.destroyed || this.lastFault === undefined) return;
          this.lastFault = undefined;
          this.log('info', `${this.peer}: link up again as box ${this.settings.boxId}`);
        }, STABLE_MS).unref();
      }
      this.heartbeat = setInterval(() => this.beat(sock), this.settings.heartbeatMs);
      this.heartbeat.unref();
      const tick = Math.max(100, Math.min(1000, this.settings.ackTimeoutMs / 4));
      this.watchdog = setInterval(() => this.checkAcks(sock), tick);
      this.watchdog.unref();
      this.setState('bound');
      this.bound.resolve();
      this.wake();
    });
    sock.on('data', (chunk: Buffer) => {
      if (sock !== this.socket) return;
      try {
        for (const payload of reader.push(chunk)) {
          this.onMessage(decodePayload(payload), sock);
          if (sock.destroyed) return;
        }
      } catch (err) {
        if (!(err instanceof BoxProtocolError)) throw err;
        this.extra.protocolErrors++;
        this.fault(`${this.peer} sent a bad frame (${err.message}); closing the link`);
        sock.destroy();
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (sock === this.socket) this.fault(`${this.peer}: ${err.code ?? err.message}`);
    });
    sock.on('close', () => this.linkDown(sock));
  }

  private linkDown(sock: net.Socket): void {
    if (sock !== this.socket) return;
    this.socket = undefined;
    clearInterval(this.heartbeat);
    clearInterval(this.watchdog);
    const unanswered = [...this.pending.values()];
    this.pending.clear();
    if (unanswered.length > 0) {
      this.counters.resentUnanswered += unanswered.length;
      this.counters.temporaryErrors += unanswered.length;
      this.log(
        'warn',
        `${this.peer}: link lost with ${unanswered.length} MT unanswered; they go back to the queue (bearerbox may have taken some: a resend can duplicate them)`,
      );
      for (const p of unanswered) {
        p.resolve({ kind: 'temporary', reason: 'bearerbox link lost before its ack', unanswered: true });
        for (const f of p.afterAck ?? []) f();
      }
    }
    this.wake();
    if (this.closing) {
      this.setState('down');
      return;
    }
    if (this.upSince > 0 && Date.now() - this.upSince >= STABLE_MS)
      this.backoffMs = this.settings.reconnectMs;
    const down = `${this.peer}: link down; reconnecting in ${this.backoffMs / 1000} s`;
    // A fault already logged (refused, bad frame) names the cause; this line would only repeat it.
    if (this.lastFault === undefined) this.fault(down);
    else this.log('debug', down);
    this.upSince = 0;
    this.setState('down');
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.settings.reconnectMaxMs);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private send(sock: net.Socket, msg: Msg): void {
    if (sock.destroyed) return;
    // Frames written in one turn of the event loop leave in one packet.
    if (!this.corked) {
      this.corked = true;
      sock.cork();
      process.nextTick(() => {
        this.corked = false;
        sock.uncork();
      });
    }
    sock.write(encodeMsg(msg));
  }

  private beat(sock: net.Socket): void {
    this.send(sock, { type: MSG_HEARTBEAT, load: this.pending.size + this.storing.size });
  }

  /** bearerbox has no idle timeout of its own: an MT left unacked this long means a dead link. */
  private checkAcks(sock: net.Socket): void {
    const oldest = this.pending.values().next().value as PendingMt | undefined;
    if (oldest && Date.now() - oldest.sentAt > this.settings.ackTimeoutMs) {
      this.fault(`${this.peer}: no ack for ${this.settings.ackTimeoutMs / 1000} s; dropping the link`);
      sock.destroy();
    }
  }

  // ---- MT ----

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async submit(part: OutletPart): Promise<SubmitOutcome> {
    for (;;) {
      if (this.closing) return this.temporary('outlet closing');
      const sock = this.socket;
      // A socket already destroyed (bad frame, ack timeout) but not yet closed takes nothing more.
      if (!sock || sock.destroyed || this.state !== 'bound')
        return this.temporary('bearerbox link down', Math.max(this.backoffMs, 100));
      if (this.pending.size < this.settings.window) return this.sendMt(sock, part);
      if (this.waiters.length >= this.settings.window * 4)
        return this.temporary('outlet queue full (4 windows waiting)', 100);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private temporary(reason: string, retryAfterMs?: number): SubmitOutcome {
    this.counters.temporaryErrors++;
    return retryAfterMs === undefined
      ? { kind: 'temporary', reason }
      : { kind: 'temporary', reason, retryAfterMs };
  }

  private sendMt(sock: net.Socket, part: OutletPart): Promise<SubmitOutcome> {
    const id = randomUUID();
    let sms: Sms;
    try {
      sms = mtFromPart(part, id, this.settings, Date.now());
    } catch (err) {
      if (!(err instanceof PartError)) throw err;
      this.counters.permanentErrors++;
      return Promise.resolve({ kind: 'permanent', reason: `not sendable: ${err.message}` });
    }
    return new Promise<SubmitOutcome>((resolve) => {
      this.pending.set(id, { key: part.key, sentAt: Date.now(), resolve });
      this.counters.submitted++;
      this.send(sock, { type: MSG_SMS, sms });
    });
  }

  private onAck(nack: number, id: string | null): void {
    const p = id === null ? undefined : this.pending.get(id);
    if (!p || id === null) {
      this.log('debug', `${this.peer}: ack ${nack} for an unknown MT ${id ?? '(no id)'}`);
      return;
    }
    this.pending.delete(id);
    const w = this.waiters.shift();
    if (w) w();
    let outcome: SubmitOutcome;
    if (nack === ACK_SUCCESS || nack === ACK_BUFFERED) {
      this.counters.accepted++;
      outcome = { kind: 'accepted', messageId: id };
    } else if (nack === ACK_FAILED) {
      this.counters.permanentErrors++;
      this.refused.add(id);
      outcome = {
        kind: 'permanent',
        reason: 'bearerbox refused it (no SMSC route, validity expired, or a white/black list)',
      };
    } else if (nack === ACK_FAILED_TMP) {
      outcome = this.temporary('bearerbox queue full or shutting down', this.settings.reconnectMs);
    } else {
      outcome = this.temporary(`bearerbox answered ack ${nack}`, this.settings.reconnectMs);
    }
    this.log('debug', `${p.key}: bearerbox ack ${nack} for ${id}`);
    p.resolve(outcome);
    for (const f of p.afterAck ?? []) f();
  }

  // ---- inbound ----

  private onMessage(msg: Msg, sock: net.Socket): void {
    switch (msg.type) {
      case MSG_ACK:
        return this.onAck(msg.nack, msg.id);
      case MSG_HEARTBEAT:
        return;
      case MSG_ADMIN:
        if (msg.command === ADMIN_SHUTDOWN || msg.command === ADMIN_RESTART) {
          this.log(
            'info',
            `${this.peer} is ${msg.command === ADMIN_SHUTDOWN ? 'shutting down' : 'restarting'}`,
          );
          sock.end();
        } else this.log('debug', `${this.peer}: admin command ${msg.command}`);
        return;
      case MSG_SMS:
        return this.onSms(msg.sms, sock);
      default:
        this.log('warn', `${this.peer}: ignoring a WAP datagram (this box takes SMS only)`);
    }
  }

  private ack(sock: net.Socket, sms: Sms, nack: number): void {
    if (sms.id !== null) this.send(sock, { type: MSG_ACK, nack, time: sms.time, id: sms.id });
  }

  private onSms(sms: Sms, sock: net.Socket): void {
    if (this.closing) {
      // Not stored, not acked: bearerbox gives what a box leaves unacked to its other boxes (or to
      // us again at the next link). Storing it now could end with the link closed before the ack,
      // and the same DLR stored a second time by another box.
      this.log('debug', `${this.peer}: closing; sms ${sms.id ?? '(no id)'} left to bearerbox`);
      return;
    }
    const kind = sms.sms_type === SMS_MO ? 'mo' : sms.sms_type === SMS_REPORT_MO ? 'report' : undefined;
    if (!kind) {
      this.log('warn', `${this.peer}: an sms of type ${sms.sms_type} is not for a box; answering "failed"`);
      return this.ack(sock, sms, ACK_FAILED);
    }
    const id = sms.id;
    if (id === null) {
      // Kannel always sets one; without it there is nothing to ack nor to dedupe by.
      this.log('warn', `${this.peer}: an ${kind} without an id; storing it (it cannot be acked)`);
      void this.store(kind, sms).catch(() => undefined);
      return;
    }
    if (this.stored.has(id)) {
      this.extra.duplicatesDropped++;
      this.log('debug', `${this.peer}: ${kind} ${id} again (already stored); acked`);
      return this.ack(sock, sms, ACK_SUCCESS);
    }
    const running = this.storing.get(id);
    if (running) {
      // Redelivered on a new link while the first copy is still being stored.
      this.extra.duplicatesDropped++;
      void running.then((ok) => ok && this.socket === sock && this.ack(sock, sms, ACK_SUCCESS));
      return;
    }
    if (this.storing.size + this.deferred.size >= this.settings.inboundLimit) {
      // bearerbox keeps at most smsbox-max-pending unacked; a peer past our bound gets no answer
      // (it redelivers after a reconnect) rather than more memory.
      if (this.extra.inboundOverLimit++ === 0 || this.extra.inboundOverLimit % 1000 === 0)
        this.log(
          'warn',
          `${this.peer}: more than ${this.settings.inboundLimit} MO/DLR at once; not answering`,
        );
      return;
    }
    const job = this.store(kind, sms).then(
      () => true,
      (err: unknown) => {
        this.log('error', `${this.peer}: storing ${kind} ${id} failed: ${(err as Error).message}`);
        return false;
      },
    );
    this.storing.set(id, job);
    void job.then((ok) => {
      this.storing.delete(id);
      if (ok) {
        this.storeFailures = 0;
        this.stored.add(id);
        if (this.socket === sock) this.ack(sock, sms, ACK_SUCCESS);
        return;
      }
      this.deferNack(sock, sms);
    });
  }

  /**
   * bearerbox redelivers a "failed_tmp" within milliseconds: answer it only after a growing delay,
   * so a storage fault costs a retry every few seconds, not a storm.
   */
  private deferNack(sock: net.Socket, sms: Sms): void {
    this.extra.inboundDeferred++;
    const delay = Math.min(1000 * 2 ** this.storeFailures, NACK_BACKOFF_MAX_MS);
    this.storeFailures = Math.min(this.storeFailures + 1, 16);
    const t = setTimeout(() => {
      this.deferred.delete(t);
      if (this.socket === sock) this.ack(sock, sms, ACK_FAILED_TMP);
    }, delay);
    this.deferred.add(t);
  }

  private async store(kind: 'mo' | 'report', sms: Sms): Promise<void> {
    const h = this.handlers as OutletHandlers;
    if (kind === 'mo') {
      await h.mo(moFromSms(sms, this.settings.boxId, Date.now()));
      this.counters.moReceived++;
      return;
    }
    const report = reportFromSms(sms, Date.now());
    if (!report) {
      this.log('warn', `${this.peer}: a DLR without dlr_url (not ours, nothing to match); dropped`);
      return;
    }
    const unacked = this.pending.get(report.messageId);
    if (unacked) await new Promise<void>((r) => (unacked.afterAck ??= []).push(r));
    if (this.refused.has(report.messageId)) {
      this.log(
        'info',
        `${this.peer}: ${report.raw ?? ''} for ${report.messageId} (already failed at submit)`,
      );
      return;
    }
    await h.report(report);
    this.counters.reportsReceived++;
  }

  // ---- shutdown ----

  async close(drainMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.setState('closing');
    clearTimeout(this.reconnectTimer);
    this.wake();
    const deadline = Date.now() + drainMs;
    while ((this.pending.size > 0 || this.storing.size > 0) && this.socket && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    for (const t of this.deferred) clearTimeout(t);
    this.deferred.clear();
    const sock = this.socket;
    if (sock) {
      await new Promise<void>((resolve) => {
        sock.once('close', () => resolve());
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
      });
    }
    this.setState('down');
    this.bound.resolve();
  }
}

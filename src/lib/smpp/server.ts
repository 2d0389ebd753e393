import net from 'node:net';
import type { Logger } from '../daemon/log.js';
import { verifyPassword, type Account } from './accounts.js';
import { checkSubmit, newMessageId } from './mt.js';
import { FailureBlocklist, TokenBucket, ipAllowed, normalizeIp } from './net.js';
import {
  CMD,
  RESPONSE_BIT,
  STATUS,
  encodePdu,
  fieldString,
  headerOnly,
  messageIdResp,
  withoutTlvs,
  type RawPdu,
} from './pdu.js';
import type { DeliveryQueue } from './queue.js';
import { Session, type BindType, type SessionHandler, type SessionTimers } from './session.js';
import type { OutboxStore } from './store.js';
import { smppTime, type MessageIndex } from './messages.js';

/**
 * The SMPP server: accepts ESME connections, authenticates binds, takes submits into the spool
 * (through OutboxStore) and drains the per-ESME delivery queues (receipts, MO) into bound receivers.
 */

export interface SmppServerOptions {
  /** system_id we answer binds with. */
  systemId: string;
  accounts: () => ReadonlyMap<string, Account>;
  store: OutboxStore;
  queue: DeliveryQueue;
  messages: MessageIndex;
  log: Logger;
  timers: SessionTimers;
  maxPduLength: number;
  /** deliver_sm awaiting deliver_sm_resp per bind. */
  window: number;
  blocklist: FailureBlocklist;
  /** Submits awaiting their commit per bind before we stop reading from it. */
  maxPendingSubmits?: number;
  /** After a failed delivery attempt, wait this long before the next. */
  retryMs?: number;
}

const BIND_TYPES: Record<string, BindType> = {
  bind_transmitter: 'tx',
  bind_receiver: 'rx',
  bind_transceiver: 'trx',
};

/** Requests we know but do not carry out (yet): each gets its own response with an error status. */
const REFUSED: Record<string, number> = {
  replace_sm: 0x13, // ESME_RREPLACEFAIL: an outbox file is not rewritten under a daemon's feet
  submit_multi: STATUS.RINVCMDID,
  broadcast_sm: STATUS.RINVCMDID,
  query_broadcast_sm: STATUS.RINVCMDID,
  cancel_broadcast_sm: STATUS.RINVCMDID,
};

/** deliver_sm_resp statuses that mean "never": ESME_RX_P_APPN (permanent application error), ESME_RX_R_APPN (reject). */
const PERMANENT_REFUSALS = new Set([STATUS.RX_P_APPN, 0x66]);

export class SmppServer implements SessionHandler {
  private readonly server: net.Server;
  readonly sessions = new Set<Session>();
  private readonly buckets = new Map<string, TokenBucket>();
  /** Queue entries being delivered, per system_id (lower case). */
  private readonly inFlight = new Map<string, Set<string>>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private stopping = false;
  readonly counters = { mt: 0, receipts: 0, mo: 0, errors: 0, deliverSm: 0 };

  constructor(private readonly o: SmppServerOptions) {
    this.server = net.createServer((socket) => this.onConnection(socket));
    o.store.onRoom = () => this.resumeReading();
    this.server.on('error', (err) => this.o.log('error', `listener: ${err.message}`));
  }

  listen(port: number, host: string): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  private onConnection(socket: net.Socket): void {
    const ip = normalizeIp(socket.remoteAddress ?? '');
    if (this.stopping || this.o.blocklist.blocked(ip)) {
      this.o.log(
        'info',
        `connection from ${ip} refused (${this.stopping ? 'shutting down' : 'blocked after failed binds'})`,
      );
      socket.destroy();
      return;
    }
    const s = new Session(socket, this, this.o.timers, this.o.maxPduLength, this.o.log);
    this.sessions.add(s);
    this.o.log('debug', `${s.label()}: connected`);
  }

  onClose(s: Session): void {
    this.sessions.delete(s);
    this.o.log(s.account ? 'info' : 'debug', `${s.label()}: closed`);
  }

  onPdu(s: Session, pdu: RawPdu): void {
    const cmd = pdu.command;
    switch (cmd) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        return this.onBind(s, pdu, BIND_TYPES[cmd] ?? 'trx');
      case 'enquire_link':
        return s.write(headerOnly(CMD.enquire_link | RESPONSE_BIT, STATUS.ROK, pdu.seq));
      case 'unbind':
        s.write(headerOnly(CMD.unbind | RESPONSE_BIT, STATUS.ROK, pdu.seq));
        this.o.log('info', `${s.label()}: unbound by the ESME`);
        s.state = 'unbound';
        s.close();
        return;
      case 'submit_sm':
      case 'data_sm':
        return this.onSubmit(s, pdu);
      case 'query_sm':
        return this.onQuery(s, pdu);
      case 'cancel_sm':
        return this.onCancel(s, pdu);
      case 'generic_nack':
        return;
      case undefined:
        // command_id unknown to SMPP: generic_nack (3.4 §4.3), the session goes on.
        return s.write(headerOnly(CMD.generic_nack, STATUS.RINVCMDID, pdu.seq));
    }
    const refused = REFUSED[cmd];
    if (refused !== undefined) {
      if (s.state !== 'bound') return s.write(headerOnly(pdu.id | RESPONSE_BIT, STATUS.RINVBNDSTS, pdu.seq));
      return s.write(headerOnly(pdu.id | RESPONSE_BIT, refused, pdu.seq));
    }
    // deliver_sm, outbind, alert_notification...: not something an ESME sends to an SMSC.
    if (cmd === 'alert_notification') return; // has no response
    s.write(headerOnly(CMD.generic_nack, STATUS.RINVCMDID, pdu.seq));
  }

  private bindResp(s: Session, pdu: RawPdu, status: number): void {
    if (status !== STATUS.ROK) {
      s.write(headerOnly(pdu.id | RESPONSE_BIT, status, pdu.seq));
      return;
    }
    const version = pdu.fields.interface_version;
    s.write(
      encodePdu(`${pdu.command ?? 'bind_transceiver'}_resp`, {
        sequence_number: pdu.seq,
        system_id: this.o.systemId,
        // 3.4 §4.1: sc_interface_version only when the ESME speaks 3.4 or later
        ...(typeof version === 'number' && version >= 0x34 ? { sc_interface_version: 0x34 } : {}),
      }),
    );
  }

  private onBind(s: Session, pdu: RawPdu, type: BindType): void {
    if (s.state === 'bound') return this.bindResp(s, pdu, STATUS.RALYBND);
    if (s.state !== 'open') return this.bindResp(s, pdu, STATUS.RINVBNDSTS);
    s.state = 'binding';
    const systemId = fieldString(pdu, 'system_id');
    const password = fieldString(pdu, 'password');
    const accounts = this.o.accounts();
    const account = accounts.get(systemId.toLowerCase());
    // An unknown system_id is checked against another account's hash: same cost, same answer.
    const hash = account?.passwordHash ?? accounts.values().next().value?.passwordHash;
    const ip = normalizeIp(s.ip);
    const fail = (status: number, why: string): void => {
      this.o.log('warn', `bind ${s.id} from ${ip} as "${systemId}" refused: ${why}`);
      this.o.blocklist.fail(ip);
      this.bindResp(s, pdu, status);
      s.close();
    };
    verifyPassword(password, hash, account !== undefined)
      .then((ok) => {
        if (s.state !== 'binding') return;
        // Unknown system_id and wrong password get the same answer, after the same work.
        if (!ok || !account) return fail(STATUS.RINVPASWD, account ? 'wrong password' : 'unknown system_id');
        if (!account.enabled) return fail(STATUS.RBINDFAIL, 'account disabled');
        if (!ipAllowed(ip, account.allow)) return fail(STATUS.RBINDFAIL, `address ${ip} not allowed`);
        const binds = [...this.sessions].filter(
          (x) => x.state === 'bound' && x.account?.systemId.toLowerCase() === account.systemId.toLowerCase(),
        ).length;
        if (account.maxBinds > 0 && binds >= account.maxBinds)
          return fail(STATUS.RBINDFAIL, `already ${binds} binds (max_binds ${account.maxBinds})`);
        s.bound(account, type);
        const version = pdu.fields.interface_version;
        if (typeof version === 'number') s.interfaceVersion = version;
        this.bindResp(s, pdu, STATUS.ROK);
        this.o.log('info', `${s.label()}: bound as ${type}`);
        if (s.canReceive) this.drain(account.systemId);
      })
      .catch((err: Error) => fail(STATUS.RSYSERR, err.message));
  }

  private bucket(account: Account): TokenBucket {
    const key = account.systemId.toLowerCase();
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = new TokenBucket(account.throughput)));
    else b.setRate(account.throughput);
    return b;
  }

  private onSubmit(s: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    const account = s.account;
    if (!s.canTransmit || !account) return s.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const refuse = (status: number, why: string): void => {
      this.counters.errors++;
      this.o.log(
        'info',
        `${s.label()}: ${pdu.command} seq ${pdu.seq} refused (0x${status.toString(16).padStart(2, '0')}): ${why}`,
      );
      s.write(headerOnly(respId, status, pdu.seq));
    };
    // Pipelined behind our unbind during a shutdown: not taken (the ESME submits it again later).
    if (this.stopping) return refuse(STATUS.RSYSERR, 'shutting down');
    const now = new Date();
    const check = checkSubmit(pdu, now);
    if (!check.ok) return refuse(check.status, check.reason);
    const req = check.request;
    if (account.sourcePattern && !account.sourcePattern.test(req.source.addr))
      return refuse(
        STATUS.RINVSRCADR,
        `source_addr "${req.source.addr}" is not allowed for ${account.systemId}`,
      );
    // Every part counts against the rate, so a long message costs what it costs the modem.
    if (!this.bucket(account).take(req.entries.length))
      return refuse(STATUS.RTHROTTLED, `over ${account.throughput} messages/s`);
    const id = newMessageId(account.messageId);
    s.pendingSubmits++;
    this.o.store.add(
      req,
      {
        sid: account.systemId,
        id,
        rd: req.receipt,
        ...(req.intermediate ? { inter: true } : {}),
        src: req.source,
        at: now.toISOString(),
      },
      now,
      (err, name) => {
        s.pendingSubmits--;
        if (err) {
          this.o.log('error', `${s.label()}: cannot store the message: ${err.message}`);
          refuse(STATUS.RSYSERR, err.message);
        } else {
          this.counters.mt++;
          s.messagesIn++;
          this.o.messages.remember(id, name);
          this.o.log('debug', `${s.label()}: ${id} -> ${name}`);
          s.write(messageIdResp(respId, pdu.seq, id));
        }
        this.backpressure(s);
      },
    );
    this.backpressure(s);
  }

  private onQuery(s: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    if (!s.canTransmit || !s.account) return s.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const id = fieldString(pdu, 'message_id');
    const st = this.o.messages.query(id, s.account.systemId);
    if (!st) return s.write(headerOnly(respId, STATUS.RINVMSGID, pdu.seq));
    s.write(
      encodePdu('query_sm_resp', {
        sequence_number: pdu.seq,
        message_id: id,
        final_date: st.finalDate ? smppTime(st.finalDate) : '',
        message_state: st.state,
        error_code: st.error & 0xff,
      }),
    );
  }

  private onCancel(s: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    const account = s.account;
    if (!s.canTransmit || !account) return s.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const id = fieldString(pdu, 'message_id');
    // Only by message_id: cancelling every message to an address is not supported.
    if (!id) return s.write(headerOnly(respId, 0x11, pdu.seq));
    this.o.messages
      .cancel(id, account.systemId, (name) => this.o.queue.markTaken([`receipt:${name}`]))
      .then(
        (ok) => {
          this.o.log(
            'info',
            `${s.label()}: cancel_sm ${id}: ${ok ? 'cancelled' : 'not cancellable (unknown, not yours, or already sending)'}`,
          );
          s.write(headerOnly(respId, ok ? STATUS.ROK : 0x11, pdu.seq));
        },
        (err: Error) => {
          this.o.log('error', `${s.label()}: cancel_sm ${id}: ${err.message}`);
          s.write(headerOnly(respId, 0x11, pdu.seq));
        },
      );
  }

  /**
   * Stops reading from an ESME that has many submits waiting for their commit, or from any that
   * submits while too many acknowledged messages still wait for their outbox file (the store calls
   * `resumeReading` once that backlog has shrunk).
   */
  private backpressure(s: Session): void {
    if (this.stopping) return; // quiesce() paused every socket; stop() resumes them
    const max = this.o.maxPendingSubmits ?? 1000;
    if ((s.pendingSubmits >= max || this.o.store.full) && !s.socket.isPaused()) s.socket.pause();
    else if (s.pendingSubmits < max / 2 && !this.o.store.full && s.socket.isPaused()) s.socket.resume();
  }

  /** The store has room again: sessions paused for it read again. */
  resumeReading(): void {
    for (const s of this.sessions) this.backpressure(s);
  }

  /** Sends queued deliver_sm of `systemId` to its bound receivers, oldest first, within their windows. */
  drain(systemId: string): void {
    const sid = systemId.toLowerCase();
    const names = this.o.queue.names(sid);
    if (names.length === 0 || this.stopping) return;
    const receivers = [...this.sessions].filter(
      (x) => x.canReceive && x.account?.systemId.toLowerCase() === sid,
    );
    if (receivers.length === 0) return;
    const busy = this.inFlight.get(sid) ?? new Set<string>();
    this.inFlight.set(sid, busy);
    for (const name of names) {
      if (busy.has(name)) continue;
      const r = receivers
        .filter((x) => x.inFlight < this.o.window)
        .sort((a, b) => a.inFlight - b.inFlight)[0];
      if (!r) break;
      let entry;
      try {
        entry = this.o.queue.read(sid, name);
      } catch (err) {
        this.o.log('error', `queue entry ${name} of ${sid} unreadable: ${(err as Error).message}; dropped`);
        this.o.queue.remove(sid, name);
        continue;
      }
      busy.add(name);
      let left = entry.pdus.length;
      let failed = false;
      const kind = entry.kind;
      for (const hex of entry.pdus) {
        const encoded = Buffer.from(hex, 'hex');
        this.counters.deliverSm++;
        r.messagesOut++;
        r.request(r.interfaceVersion < 0x34 ? withoutTlvs(encoded) : encoded, (res) => {
          const ok = 'status' in res && res.status === STATUS.ROK;
          if (!ok) failed = true;
          if (--left > 0) return;
          busy.delete(name);
          if (!failed) {
            this.o.queue.remove(sid, name);
            if (kind === 'receipt') this.counters.receipts++;
            else this.counters.mo++;
            this.drain(sid);
            return;
          }
          const why = 'error' in res ? res.error : `deliver_sm_resp status 0x${res.status.toString(16)}`;
          if ('status' in res && PERMANENT_REFUSALS.has(res.status)) {
            // The ESME says it will never take this one: retrying forever would block nothing but fill the log.
            this.o.log('warn', `${kind} ${name} refused for good by ${r.label()} (${why}); dropped`);
            this.o.queue.remove(sid, name);
            this.drain(sid);
            return;
          }
          this.o.log('warn', `delivery of ${kind} ${name} to ${r.label()} failed (${why}); retrying later`);
          this.retryLater(sid);
        });
      }
    }
  }

  private retryLater(sid: string): void {
    if (this.retryTimers.has(sid) || this.stopping) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(sid);
      this.drain(sid);
    }, this.o.retryMs ?? 5_000);
    t.unref();
    this.retryTimers.set(sid, t);
  }

  /** After a reload, bound sessions take their account's new settings; a removed account keeps its binds. */
  accountsReloaded(): void {
    const accounts = this.o.accounts();
    for (const s of this.sessions) {
      const fresh = s.account && accounts.get(s.account.systemId.toLowerCase());
      if (fresh) s.account = fresh;
    }
  }

  /** Bound sessions of `systemId` (case-insensitive), all or the one with `bindId`. */
  bindsOf(systemId: string, bindId?: number): Session[] {
    const sid = systemId.toLowerCase();
    return [...this.sessions].filter(
      (s) =>
        s.state === 'bound' &&
        s.account?.systemId.toLowerCase() === sid &&
        (bindId === undefined || s.id === bindId),
    );
  }

  get windowSize(): number {
    return this.o.window;
  }

  /** First step of a shutdown: no new connections, nothing more read from the ESMEs. */
  quiesce(): Promise<void> {
    this.stopping = true;
    for (const s of this.sessions) s.socket.pause();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Then, once the submits already taken are answered: unbind every session (bounded wait), close the rest. */
  async stop(graceMs = 3_000): Promise<void> {
    const closed = this.stopping ? Promise.resolve() : this.quiesce();
    // Read again: the unbind_resp must get through (any late submit is refused, see onSubmit).
    for (const s of this.sessions) s.socket.resume();
    for (const t of this.retryTimers.values()) clearTimeout(t);
    const unbinds = Promise.all([...this.sessions].map((s) => s.unbind()));
    await Promise.race([unbinds, new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const s of this.sessions) s.destroy();
    await closed;
  }
}

import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../common/log.js';
import { verifyPassword, type Account } from '../policy/accounts.js';
import { FailureBlocklist, ipAllowed, ipMatchesPattern, normalizeIp } from './net.js';
import {
  CMD,
  RESPONSE_BIT,
  STATUS,
  encodePdu,
  fieldString,
  headerOnly,
  withoutTlvs,
  type RawPdu,
} from './pdu.js';
import type { DeliveryQueue } from '../store/queue.js';
import { Session, type BindType, type SessionHandler, type SessionTimers } from './session.js';
import type { MessageLookup, MessageStore } from '../store/message-store.js';
import { smppTime, type MessageStatus } from '../store/messages.js';
import type { OutboundDecision, Route } from '../policy/routes.js';
import type { AuthOutcome } from '../policy/http-auth.js';
import type { CreditKeeper } from '../policy/billing.js';
import type { SubmitRequest } from './mt.js';
import type { SharedThroughput } from '../policy/shared-throughput.js';
import { replacement } from './replace.js';
import { keepDeadLetter } from '../store/dead-letter.js';
import { BindGate } from '../policy/bind-gate.js';
import { SubmitPipeline } from './submit.js';

/**
 * The SMPP server: accepts ESME connections, authenticates binds, takes submits into the spool or
 * the SQL outbox (through a MessageStore) and drains the per-ESME delivery queues (receipts, MO) into bound receivers.
 */

export interface SmppServerOptions {
  /** system_id we answer binds with. */
  systemId: string;
  accounts: () => ReadonlyMap<string, Account>;
  /** Sorted by priority (routes.ts); empty: everything to the spool, any modem. */
  routes: () => readonly Route[];
  /** An outside judge of binds (HTTP auth) instead of the hashes in `accounts()`. */
  authenticate?: (systemId: string, password: string) => Promise<AuthOutcome>;
  /** An outside router of submits (HTTP routing) instead of `routes()`; local routing stays synchronous. */
  routeSubmit?: (account: Account, req: SubmitRequest, id: string, now: Date) => Promise<OutboundDecision>;
  billing: CreditKeeper;
  store: MessageStore;
  queue: DeliveryQueue;
  messages: MessageLookup;
  log: Logger;
  timers: SessionTimers;
  maxPduLength: number;
  /** deliver_sm awaiting deliver_sm_resp per bind. */
  window: number;
  blocklist: FailureBlocklist;
  /** Submits awaiting their commit per bind before we stop reading from it. */
  maxPendingSubmits?: number;
  /** Several nodes: each account's throughput is shared by demand (shared-throughput.ts). */
  throughputShare?: SharedThroughput;
  /** After a failed delivery attempt, wait this long before the next. */
  retryMs?: number;
  /** Password checks at once, per IP, and how long and how many binds wait for one. */
  bindGate?: BindGate;
  /** Open connections in all and from one IP; more are closed at once (MaxConnections, MaxConnectionsPerIp). */
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  /** Where receipts and MO refused for good (or too often) go, one JSON file each. */
  deadLetterDir?: string;
  /** Temporary refusals of one entry before it goes to the dead letters (DeliveryMaxAttempts). */
  maxDeliveryAttempts?: number;
}

const BIND_TYPES: Record<string, BindType> = {
  bind_transmitter: 'tx',
  bind_receiver: 'rx',
  bind_transceiver: 'trx',
};

/** Requests we know but do not carry out (yet): each gets its own response with an error status. */
const REFUSED: Record<string, number> = {
  submit_multi: STATUS.RINVCMDID,
  broadcast_sm: STATUS.RINVCMDID,
  query_broadcast_sm: STATUS.RINVCMDID,
  cancel_broadcast_sm: STATUS.RINVCMDID,
};

/**
 * deliver_sm_resp statuses that mean "later": ESME_RX_T_APPN, ESME_RMSGQFUL, ESME_RTHROTTLED,
 * ESME_RSYSERR. Any other error (ESME_RX_P_APPN, ESME_RX_R_APPN, ESME_RINVDSTADR: Kannel's answer
 * to an MO with no destination...) is for good: retrying it every few seconds would never end.
 */
const TEMPORARY_REFUSALS = new Set<number>([
  STATUS.RX_T_APPN,
  STATUS.RMSGQFUL,
  STATUS.RTHROTTLED,
  STATUS.RSYSERR,
]);

export class SmppServer implements SessionHandler {
  private readonly server: net.Server;
  private tlsServer: tls.Server | undefined;
  readonly sessions = new Set<Session>();
  /** Queue entries being delivered, per system_id (lower case). */
  private readonly inFlight = new Map<string, Set<string>>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private stopping = false;
  private readonly perIp = new Map<string, number>();
  private readonly gate: BindGate;
  /** Connections closed at once over a limit, and when that was last logged (one line per 10 s). */
  private refusedSinceLog = 0;
  private refusedLoggedAt = 0;
  readonly counters = {
    mt: 0,
    receipts: 0,
    mo: 0,
    errors: 0,
    deliverSm: 0,
    refusedConnections: 0,
    bindsRefusedUnchecked: 0,
    deadLetters: 0,
  };
  /** Temporary failures per queue entry (`sid/name`), for DeliveryMaxAttempts. */
  private readonly attempts = new Map<string, number>();
  /** The same per system_id (lower case), for per-ESME throughput in /metrics. */
  readonly esmeCounters = new Map<string, { mt: number; errors: number; deliverSm: number }>();

  private esmeCounter(sid: string): { mt: number; errors: number; deliverSm: number } {
    const key = sid.toLowerCase();
    let c = this.esmeCounters.get(key);
    if (!c) this.esmeCounters.set(key, (c = { mt: 0, errors: 0, deliverSm: 0 }));
    return c;
  }

  /** submit_sm and data_sm, from checks to the durable answer (submit.ts); also the HTTP front end's. */
  readonly submits: SubmitPipeline;

  constructor(private readonly o: SmppServerOptions) {
    this.gate = o.bindGate ?? new BindGate({ concurrency: 2, perIp: 2, maxWaitMs: 10_000, maxQueue: 1_000 });
    this.gate.useLimit(o.blocklist);
    this.submits = new SubmitPipeline({
      o,
      counters: this.counters,
      esmeCounter: (sid) => this.esmeCounter(sid),
      backpressure: (s) => this.backpressure(s),
      drain: (sid) => this.drain(sid),
      stopping: () => this.stopping,
    });
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

  /** The same service over TLS (SMPP over TLS, as SMSCs offer on port 3550 or so). */
  listenTls(port: number, host: string, key: Buffer, cert: Buffer): Promise<net.AddressInfo> {
    const server = tls.createServer({ key, cert }, (socket) => this.onConnection(socket));
    // A failed handshake (plain text on the TLS port, a bad client certificate) costs that connection only.
    server.on('tlsClientError', (err, socket) =>
      this.o.log(
        'info',
        `TLS handshake from ${normalizeIp(socket.remoteAddress ?? '')} failed: ${err.message}`,
      ),
    );
    server.on('error', (err) => this.o.log('error', `TLS listener: ${err.message}`));
    this.tlsServer = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  private onConnection(socket: net.Socket): void {
    const ip = normalizeIp(socket.remoteAddress ?? '');
    const fromIp = this.perIp.get(ip) ?? 0;
    const over =
      this.sessions.size >= (this.o.maxConnections ?? Infinity)
        ? `${this.sessions.size} connections open (MaxConnections)`
        : fromIp >= (this.o.maxConnectionsPerIp ?? Infinity)
          ? `${fromIp} connections open from ${ip} (MaxConnectionsPerIp)`
          : undefined;
    if (this.stopping || this.o.blocklist.blocked(ip) || over) {
      if (over) {
        // A flood of connections must not become a flood of log lines.
        this.counters.refusedConnections++;
        this.refusedSinceLog++;
        const now = Date.now();
        if (now - this.refusedLoggedAt >= 10_000) {
          this.o.log(
            'warn',
            `connection from ${ip} refused: ${over} (${this.refusedSinceLog} refused in the last 10 s)`,
          );
          this.refusedLoggedAt = now;
          this.refusedSinceLog = 0;
        }
      } else
        this.o.log(
          'info',
          `connection from ${ip} refused (${this.stopping ? 'shutting down' : 'blocked after failed binds'})`,
        );
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.perIp.set(ip, fromIp + 1);
    const s = new Session(socket, this, this.o.timers, this.o.maxPduLength, this.o.log);
    this.sessions.add(s);
    this.o.log('debug', `${s.label()}: connected`);
  }

  onClose(s: Session): void {
    if (!this.sessions.has(s)) return;
    this.sessions.delete(s);
    const ip = normalizeIp(s.ip);
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(ip, n);
    else this.perIp.delete(ip);
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
        return this.submits.onSubmit(s, pdu);
      case 'query_sm':
        return this.onQuery(s, pdu);
      case 'cancel_sm':
        return this.onCancel(s, pdu);
      case 'replace_sm':
        return this.onReplace(s, pdu);
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
    const ip = normalizeIp(s.ip);
    const fail = (status: number, why: string, strike = true): void => {
      this.o.log('warn', `bind ${s.id} from ${ip} as "${systemId}" refused: ${why}`);
      if (strike) this.o.blocklist.fail(ip);
      this.bindResp(s, pdu, status);
      s.close();
    };
    // Refused without a password check: the IP is at its limit of failures plus checks in flight
    // (so parallel connections get no more checks than BlockAttempts), or no check is free in time.
    const unchecked = (why: string): void => {
      this.counters.bindsRefusedUnchecked++;
      fail(STATUS.RBINDFAIL, why, false);
    };
    let ended = false;
    const end = (failed: boolean): void => {
      if (ended) return;
      ended = true;
      this.o.blocklist.end(ip, failed);
    };
    this.gate
      .run(
        ip,
        () => this.admit(systemId, password, ip),
        () => s.state === 'binding',
      )
      .then((gated) => {
        if (!gated.ok) {
          ended = true; // never admitted: nothing in flight to end
          if (s.state === 'binding') unchecked(gated.why);
          return;
        }
        const outcome = gated.value;
        end(!outcome.ok && outcome.strike);
        if (s.state !== 'binding') return;
        // end() counted a failed check already.
        if (!outcome.ok) return fail(outcome.status, outcome.why, false);
        const account = outcome.account;
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
      .catch((err: Error) => {
        end(false);
        fail(STATUS.RSYSERR, err.message, false);
      });
  }

  /**
   * Who may submit: the password (local hashes or the auth service), the account enabled, the
   * peer's address in its allow-list. The same for a bind and an HTTP request; the caller strikes.
   */
  async admit(systemId: string, password: string, ip: string): Promise<AuthOutcome> {
    const outcome = await (this.o.authenticate ?? ((sid, pw) => this.checkLocally(sid, pw)))(
      systemId,
      password,
    );
    if (!outcome.ok) return outcome;
    const account = outcome.account;
    if (!account.enabled)
      return { ok: false, status: STATUS.RBINDFAIL, why: 'account disabled', strike: true };
    const allowed =
      ipAllowed(ip, account.allow) ||
      (account.allowPatterns !== undefined && ipMatchesPattern(ip, account.allowPatterns));
    if (!allowed)
      return { ok: false, status: STATUS.RBINDFAIL, why: `address ${ip} not allowed`, strike: true };
    return outcome;
  }

  /** The block list of failed binds, shared with the HTTP front end. */
  get blocklist(): FailureBlocklist {
    return this.o.blocklist;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** The password against the loaded accounts (file or SQL). */
  private async checkLocally(systemId: string, password: string): Promise<AuthOutcome> {
    const accounts = this.o.accounts();
    const account = accounts.get(systemId.toLowerCase());
    // An unknown system_id is checked against another account's hash: same cost, same answer.
    const hash = account?.passwordHash ?? accounts.values().next().value?.passwordHash;
    const ok = await verifyPassword(password, hash, account !== undefined);
    // Unknown system_id and wrong password get the same answer, after the same work.
    if (!ok || !account)
      return {
        ok: false,
        status: STATUS.RINVPASWD,
        why: account ? 'wrong password' : 'unknown system_id',
        strike: true,
      };
    return { ok: true, account };
  }

  private onQuery(s: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    if (!s.canTransmit || !s.account) return s.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const id = fieldString(pdu, 'message_id');
    const answer = (st: MessageStatus | undefined): void => {
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
    };
    const st = this.o.messages.query(id, s.account.systemId);
    if (!(st instanceof Promise)) return answer(st);
    const label = s.label();
    st.then(answer, (err: Error) => {
      this.o.log('error', `${label}: query_sm ${id}: ${err.message}`);
      s.write(headerOnly(respId, STATUS.RQUERYFAIL, pdu.seq));
    });
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
   * replace_sm, where it can be honoured: a message of this ESME still queued (no daemon has
   * claimed it, no part sent) gets the new text (and registered_delivery, validity when given);
   * otherwise ESME_RREPLACEFAIL. Both stores offer it.
   */
  private onReplace(s: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    const account = s.account;
    if (!s.canTransmit || !account) return s.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const id = fieldString(pdu, 'message_id');
    const r = replacement(pdu, new Date());
    if (!r.ok) return s.write(headerOnly(respId, r.status, pdu.seq));
    if (!id || !this.o.messages.replace) return s.write(headerOnly(respId, STATUS.RREPLACEFAIL, pdu.seq));
    this.o.messages.replace(id, account.systemId, r).then(
      (ok) => {
        this.o.log(
          'info',
          `${s.label()}: replace_sm ${id}: ${ok ? 'replaced' : 'not replaceable (unknown, not yours, already sending, or the new text is not valid)'}`,
        );
        s.write(headerOnly(respId, ok ? STATUS.ROK : STATUS.RREPLACEFAIL, pdu.seq));
      },
      (err: Error) => {
        this.o.log('error', `${s.label()}: replace_sm ${id}: ${err.message}`);
        s.write(headerOnly(respId, STATUS.RREPLACEFAIL, pdu.seq));
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
    if (s.pendingSubmits >= max || this.o.store.full) s.hold('submits');
    else if (s.pendingSubmits < max / 2 && !this.o.store.full) s.release('submits');
  }

  /** The store has room again: sessions paused for it read again. */
  resumeReading(): void {
    for (const s of this.sessions) this.backpressure(s);
  }

  /** Sends queued deliver_sm of `systemId` to its bound receivers, oldest first, within their windows. */
  drain(systemId: string): void {
    const sid = systemId.toLowerCase();
    if (this.o.queue.count(sid) === 0 || this.stopping) return;
    const receivers = [...this.sessions].filter(
      (x) => x.canReceive && x.account?.systemId.toLowerCase() === sid,
    );
    if (receivers.length === 0) return;
    const busy = this.inFlight.get(sid) ?? new Set<string>();
    this.inFlight.set(sid, busy);
    // The page starts with the entries in flight (answered ones leave it), so a pass costs
    // O(window), not O(queued); it holds at least what the windows can take.
    for (const name of this.o.queue.page(sid, receivers.length * this.o.window)) {
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
      /** The first part's failure: what the entry's fate is judged by. */
      let failure: Parameters<Parameters<Session['request']>[1]>[0] | undefined;
      const kind = entry.kind;
      for (const hex of entry.pdus) {
        const encoded = Buffer.from(hex, 'hex');
        this.counters.deliverSm++;
        this.esmeCounter(sid).deliverSm++;
        r.messagesOut++;
        r.request(r.interfaceVersion < 0x34 ? withoutTlvs(encoded) : encoded, (res) => {
          const ok = 'status' in res && res.status === STATUS.ROK;
          if (!ok) {
            failed = true;
            failure ??= res;
          }
          if (--left > 0) return;
          busy.delete(name);
          if (!failed) {
            this.attempts.delete(`${sid}/${name}`);
            this.o.queue.remove(sid, name);
            if (kind === 'receipt') this.counters.receipts++;
            else this.counters.mo++;
            this.drain(sid);
            return;
          }
          const bad = failure ?? res;
          const why = 'error' in bad ? bad.error : `deliver_sm_resp status 0x${bad.status.toString(16)}`;
          const tries = (this.attempts.get(`${sid}/${name}`) ?? 0) + 1;
          const max = this.o.maxDeliveryAttempts ?? 50;
          const permanent = 'status' in bad && !TEMPORARY_REFUSALS.has(bad.status);
          if (permanent || tries >= max) {
            // Retrying forever would block nothing but fill the log: kept aside, loudly.
            this.deadLetter(
              sid,
              name,
              entry,
              permanent ? `refused for good (${why})` : `refused ${tries} times (last: ${why})`,
              r,
            );
            this.drain(sid);
            return;
          }
          this.attempts.set(`${sid}/${name}`, tries);
          this.o.log(
            'warn',
            `delivery of ${kind} ${name} to ${r.label()} failed (${why}); retrying later (attempt ${tries} of ${max})`,
          );
          this.retryLater(sid);
        });
      }
    }
  }

  /** An entry the ESME will not take: into the dead-letter folder, out of the queue, loudly. */
  private deadLetter(
    sid: string,
    name: string,
    entry: { key: string; kind: string; pdus: string[] },
    why: string,
    r: Session,
  ): void {
    this.attempts.delete(`${sid}/${name}`);
    this.counters.deadLetters++;
    const where = keepDeadLetter(this.o.deadLetterDir, name, { systemId: sid, ...entry, why });
    this.o.log('warn', `${entry.kind} ${name} to ${r.label()}: ${why}; dead letter, ${where}`);
    this.o.queue.remove(sid, name);
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

  /** system_ids (lower case) with a receiver (rx or trx) bound here. */
  receiverSystemIds(): Set<string> {
    const out = new Set<string>();
    for (const s of this.sessions) if (s.canReceive && s.account) out.add(s.account.systemId.toLowerCase());
    return out;
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
    for (const s of this.sessions) s.hold('stopping');
    const tlsClosed = new Promise<void>((resolve) =>
      this.tlsServer ? this.tlsServer.close(() => resolve()) : resolve(),
    );
    return Promise.all([new Promise<void>((resolve) => this.server.close(() => resolve())), tlsClosed]).then(
      () => undefined,
    );
  }

  /** Then, once the submits already taken are answered: unbind every session (bounded wait), close the rest. */
  async stop(graceMs = 3_000): Promise<void> {
    const closed = this.stopping ? Promise.resolve() : this.quiesce();
    // Read again: the unbind_resp must get through (any late submit is refused, see onSubmit).
    for (const s of this.sessions) {
      s.release('submits');
      s.release('stopping');
    }
    for (const t of this.retryTimers.values()) clearTimeout(t);
    const unbinds = Promise.all([...this.sessions].map((s) => s.unbind()));
    await Promise.race([unbinds, new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const s of this.sessions) s.destroy();
    await closed;
  }
}

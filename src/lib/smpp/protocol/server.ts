import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../common/log.js';
import { verifyPassword, type Account } from '../policy/accounts.js';
import { checkSubmit, newMessageId } from './mt.js';
import { FailureBlocklist, TokenBucket, ipAllowed, ipMatchesPattern, normalizeIp } from './net.js';
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
import type { DeliveryQueue } from '../store/queue.js';
import { Session, type BindType, type SessionHandler, type SessionTimers } from './session.js';
import type { MessageLookup, MessageStore } from '../store/message-store.js';
import { smppTime, type MessageStatus } from '../store/messages.js';
import { routeOutbound, type OutboundDecision, type Route } from '../policy/routes.js';
import type { AuthOutcome } from '../policy/http-auth.js';
import { roundMoney, type CreditKeeper } from '../policy/billing.js';
import { simulateSubmit } from '../policy/simulation.js';
import { buildMo, buildReceipt, MESSAGE_STATE, type MoBody } from './deliver.js';
import type { SubmitRequest } from './mt.js';
import type { SharedThroughput } from '../policy/shared-throughput.js';
import { replacement } from './replace.js';

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

/** deliver_sm_resp statuses that mean "never": ESME_RX_P_APPN (permanent application error), ESME_RX_R_APPN (reject). */
const PERMANENT_REFUSALS = new Set([STATUS.RX_P_APPN, 0x66]);

export class SmppServer implements SessionHandler {
  private readonly server: net.Server;
  private tlsServer: tls.Server | undefined;
  readonly sessions = new Set<Session>();
  private readonly buckets = new Map<string, TokenBucket>();
  /** Submits per simulated account (lower case), for "every Nth". */
  private readonly simulatedCounts = new Map<string, number>();
  /** Queue entries being delivered, per system_id (lower case). */
  private readonly inFlight = new Map<string, Set<string>>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private stopping = false;
  readonly counters = { mt: 0, receipts: 0, mo: 0, errors: 0, deliverSm: 0 };
  /** The same per system_id (lower case), for per-ESME throughput in /metrics. */
  readonly esmeCounters = new Map<string, { mt: number; errors: number; deliverSm: number }>();

  private esmeCounter(sid: string): { mt: number; errors: number; deliverSm: number } {
    const key = sid.toLowerCase();
    let c = this.esmeCounters.get(key);
    if (!c) this.esmeCounters.set(key, (c = { mt: 0, errors: 0, deliverSm: 0 }));
    return c;
  }

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
    (this.o.authenticate ?? ((sid, pw) => this.checkLocally(sid, pw)))(systemId, password)
      .then((outcome) => {
        if (s.state !== 'binding') return;
        if (!outcome.ok) return fail(outcome.status, outcome.why, outcome.strike);
        const account = outcome.account;
        if (!account.enabled) return fail(STATUS.RBINDFAIL, 'account disabled');
        const allowed =
          ipAllowed(ip, account.allow) ||
          (account.allowPatterns !== undefined && ipMatchesPattern(ip, account.allowPatterns));
        if (!allowed) return fail(STATUS.RBINDFAIL, `address ${ip} not allowed`);
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

  private bucket(account: Account): TokenBucket {
    const key = account.systemId.toLowerCase();
    const share = this.o.throughputShare?.share(key) ?? 1;
    const rate = account.throughput * share;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = new TokenBucket(rate)));
    else b.setRate(rate);
    return b;
  }

  private onSubmit(s: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    const account = s.account;
    if (!s.canTransmit || !account) return s.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const refuse = (status: number, why: string): void => {
      this.counters.errors++;
      this.esmeCounter(account.systemId).errors++;
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
    if (account.throughput > 0) this.o.throughputShare?.offer(account.systemId, req.entries.length);
    if (!this.bucket(account).take(req.entries.length))
      return refuse(STATUS.RTHROTTLED, `over ${account.throughput} messages/s`);
    const id = newMessageId(account.messageId);
    if (account.simulate) return this.simulate(s, pdu, account, req, id, now, refuse);
    if (this.o.routeSubmit) {
      // Counts as pending while the router thinks, so a slow router slows the reading, not memory.
      s.pendingSubmits++;
      this.backpressure(s);
      this.o
        .routeSubmit(account, req, id, now)
        .catch((err: Error): OutboundDecision => ({ ok: false, status: STATUS.RSYSERR, reason: err.message }))
        .then((route) => {
          s.pendingSubmits--;
          this.take(s, pdu, account, req, id, now, route, refuse);
        });
      return;
    }
    this.take(
      s,
      pdu,
      account,
      req,
      id,
      now,
      routeOutbound(this.o.routes(), account, req.destination, req.source.addr),
      refuse,
    );
  }

  /** A routed submit: charged if prepaid, stored, answered once durable. */
  private take(
    s: Session,
    pdu: RawPdu,
    account: Account,
    req: SubmitRequest,
    id: string,
    now: Date,
    route: OutboundDecision,
    refuse: (status: number, why: string) => void,
  ): void {
    if (!route.ok) return refuse(route.status, route.reason);
    const cost = account.prepaid ? roundMoney(route.cost * req.entries.length) : 0;
    if (cost <= 0) return this.store(s, pdu, account, req, id, now, route, 0, refuse);
    const sid = account.systemId;
    const note = `${req.entries.length} part(s) to ${req.destination}`;
    const insufficient = (): void =>
      refuse(
        STATUS.RSUBMITFAIL,
        `insufficient credit: ${req.entries.length} part(s) at ${route.cost} cost ${cost}`,
      );
    const reserved = this.o.billing.reserve(sid, id, cost, note);
    if (typeof reserved === 'boolean') {
      // The ledger files: decided in this step of the event loop, nothing to wait for.
      if (!reserved) return insufficient();
      return this.store(s, pdu, account, req, id, now, route, cost, refuse);
    }
    // The database: group-committed with other submits; the session reads on meanwhile.
    s.pendingSubmits++;
    this.backpressure(s);
    reserved.then(
      (ok) => {
        s.pendingSubmits--;
        if (!ok) return insufficient();
        this.store(s, pdu, account, req, id, now, route, cost, refuse);
      },
      (err: Error) => {
        s.pendingSubmits--;
        this.o.log('error', `${s.label()}: credit not checked: ${err.message}`);
        refuse(STATUS.RSYSERR, err.message);
      },
    );
  }

  /** Stores a routed (and paid) submit; the answer once it is durable. */
  private store(
    s: Session,
    pdu: RawPdu,
    account: Account,
    req: SubmitRequest,
    id: string,
    now: Date,
    route: Extract<OutboundDecision, { ok: true }>,
    cost: number,
    refuse: (status: number, why: string) => void,
  ): void {
    const respId = pdu.id | RESPONSE_BIT;
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
        ...(route.phone ? { phone: route.phone } : {}),
        ...(cost > 0 ? { cost } : {}),
      },
      now,
      (err, name) => {
        if (err) {
          s.pendingSubmits--;
          if (cost > 0)
            void Promise.resolve(this.o.billing.release(account.systemId, id, cost)).catch((e: Error) =>
              this.o.log('error', `${id}: credit of ${cost} not given back: ${e.message}`),
            );
          this.o.log('error', `${s.label()}: cannot store the message: ${err.message}`);
          refuse(STATUS.RSYSERR, err.message);
          this.backpressure(s);
          return;
        }
        const answer = (): void => {
          s.pendingSubmits--;
          this.counters.mt++;
          this.esmeCounter(account.systemId).mt++;
          s.messagesIn++;
          this.o.messages.remember(id, name);
          this.o.log(
            'debug',
            `${s.label()}: ${id} -> ${name}${route.route ? ` (route ${route.route.label})` : ''}`,
          );
          s.write(messageIdResp(respId, pdu.seq, id));
          this.backpressure(s);
        };
        // Stored: from here on the message will be sent, so it is answered ROK even if the
        // charge cannot be recorded (a refusal would only make the ESME send it twice).
        if (cost <= 0) return answer();
        this.o.billing
          .commit(account.systemId, id, cost, `${req.entries.length} part(s) to ${req.destination}`)
          .catch((e: Error) => this.o.log('error', `${id}: charge of ${cost} not recorded: ${e.message}`))
          .finally(answer);
      },
    );
    this.backpressure(s);
  }

  /** A simulated account: an answer without a modem, and every Nth a receipt or an MO echo. */
  private simulate(
    s: Session,
    pdu: RawPdu,
    account: Account,
    req: SubmitRequest,
    id: string,
    now: Date,
    refuse: (status: number, why: string) => void,
  ): void {
    const sim = account.simulate;
    if (!sim) return;
    const key = account.systemId.toLowerCase();
    const count = (this.simulatedCounts.get(key) ?? 0) + 1;
    this.simulatedCounts.set(key, count);
    const outcome = simulateSubmit(sim, count);
    if (!('deliver' in outcome)) return refuse(outcome.status, outcome.reason);
    this.counters.mt++;
    this.esmeCounter(account.systemId).mt++;
    s.messagesIn++;
    s.write(messageIdResp(pdu.id | RESPONSE_BIT, pdu.seq, id));
    this.o.log('debug', `${s.label()}: ${id} simulated (submit ${count})`);
    const text = req.entries.map((e) => e.text).join('');
    const pdus: { key: string; kind: 'receipt' | 'mo'; pdus: Buffer[] }[] = [];
    // KSMPPD sends the simulated DELIVRD whether or not registered_delivery asked for it.
    if (outcome.deliver)
      pdus.push({
        key: `sim-receipt:${id}`,
        kind: 'receipt',
        pdus: [
          buildReceipt({
            messageId: id,
            recipient: req.destination,
            esmeAddress: req.source,
            state: MESSAGE_STATE.DELIVERED,
            submitted: now,
            done: new Date(),
            error: 0,
            text,
          }),
        ],
      });
    if (outcome.mo) {
      const data = req.entries.some((e) => e.coding === '8bit');
      const body: MoBody = data
        ? { kind: 'data', data: Buffer.concat(req.entries.map((e) => e.data ?? Buffer.alloc(0))) }
        : { kind: 'text', text };
      const sender = req.source.ton === 1 ? `+${req.source.addr}` : req.source.addr;
      pdus.push({
        key: `sim-mo:${id}`,
        kind: 'mo',
        pdus: buildMo(req.destination, sender, body, account.longMo),
      });
    }
    try {
      for (const p of pdus)
        this.o.queue.add(account.systemId, {
          key: p.key,
          kind: p.kind,
          pdus: p.pdus.map((b) => b.toString('hex')),
        });
    } catch (err) {
      this.o.log(
        'error',
        `${id}: simulated ${pdus.map((p) => p.kind).join(' and ')} not queued: ${(err as Error).message}`,
      );
    }
    if (pdus.length > 0) this.drain(account.systemId);
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
   * otherwise ESME_RREPLACEFAIL. The SQL outbox does not offer it.
   */
  private onReplace(s: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    const account = s.account;
    if (!s.canTransmit || !account) return s.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const id = fieldString(pdu, 'message_id');
    const r = replacement(pdu, new Date());
    if (!r.ok) return s.write(headerOnly(respId, r.status, pdu.seq));
    if (!id || !this.o.messages.replace) return s.write(headerOnly(respId, STATUS.RREPLACEFAIL, pdu.seq));
    this.o.messages.replace(id, account.systemId, r.build).then(
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
      const kind = entry.kind;
      for (const hex of entry.pdus) {
        const encoded = Buffer.from(hex, 'hex');
        this.counters.deliverSm++;
        this.esmeCounter(sid).deliverSm++;
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
    for (const s of this.sessions) s.socket.pause();
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
    for (const s of this.sessions) s.socket.resume();
    for (const t of this.retryTimers.values()) clearTimeout(t);
    const unbinds = Promise.all([...this.sessions].map((s) => s.unbind()));
    await Promise.race([unbinds, new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const s of this.sessions) s.destroy();
    await closed;
  }
}

import type { Logger } from '../../common/log.js';
import type { Account } from '../policy/accounts.js';
import { roundMoney, type CreditKeeper } from '../policy/billing.js';
import { routeOutbound, type OutboundDecision, type Route } from '../policy/routes.js';
import type { SharedThroughput } from '../policy/shared-throughput.js';
import { simulateSubmit } from '../policy/simulation.js';
import { NoCreditError, type MessageLookup, type MessageStore } from '../store/message-store.js';
import type { DeliveryQueue } from '../store/queue.js';
import { buildMo, buildReceipt, MESSAGE_STATE, type MoBody } from './deliver.js';
import { checkSubmit, newMessageId, type SubmitRequest } from './mt.js';
import { TokenBucket } from './net.js';
import { RESPONSE_BIT, STATUS, headerOnly, messageIdResp, type RawPdu } from './pdu.js';
import type { Session } from './session.js';
import type { SmppMeta } from '../store/store.js';

/**
 * The submit pipeline: submit_sm and data_sm from the checks (bound, valid, source allowed,
 * throughput) through routing (local routes or the HTTP router), the prepaid charge and the store
 * to the submit_sm_resp, sent only once the message is durable. Simulated accounts branch off
 * before routing. Kept apart from the server (binds, sessions, delivery), which hands it each
 * submit and one context object.
 */

/** What the pipeline uses of the server's options (SmppServerOptions has them all). */
export interface SubmitOptions {
  routes: () => readonly Route[];
  routeSubmit?: (account: Account, req: SubmitRequest, id: string, now: Date) => Promise<OutboundDecision>;
  billing: CreditKeeper;
  store: MessageStore;
  queue: DeliveryQueue;
  messages: MessageLookup;
  log: Logger;
  throughputShare?: SharedThroughput;
}

/**
 * Where a submit came from and where its answer goes: an SMPP session (submit_sm_resp) or an HTTP
 * request (Kannel's sendsms). The pipeline counts what waits (a session stops reading when too much
 * does) and calls exactly one of `accepted`/`refused` per submit.
 */
export interface SubmitOrigin {
  label(): string;
  /** A submit starts (+1) or stops (-1) waiting (router, credit, commit); 0: only re-check the store. */
  pending(delta: number): void;
  /** Durable (or simulated): the message ID goes back. */
  accepted(id: string): void;
  refused(status: number, why: string): void;
}

/** What a submit carries besides the message, for its receipts (HTTP: Kannel's dlr-url). */
export interface SubmitExtras {
  dlr?: SmppMeta['dlr'];
  /** A PhoneID asked for by the submitter (Kannel's smsc); a route's pin wins. */
  phone?: string;
  /** The JSON API's webhook for receipts. */
  hook?: SmppMeta['hook'];
  /** The message ID, chosen before (the JSON API records it with its idempotency key first). */
  id?: string;
  /** Not sent before this time (ISO; Kannel's deferred). */
  after?: string;
}

/** The server's side of a submit: its options, counters, flow control and delivery. */
export interface SubmitContext {
  o: SubmitOptions;
  counters: { mt: number; errors: number };
  esmeCounter(sid: string): { mt: number; errors: number };
  /** Pauses or resumes reading from a session after its pending submits changed. */
  backpressure(s: Session): void;
  /** Sends what was queued for an ESME (a simulated receipt or MO). */
  drain(systemId: string): void;
  /** Shutting down: a submit pipelined behind our unbind is refused. */
  stopping(): boolean;
}

/** One submit on its way through the steps. */
interface Submit {
  s: SubmitOrigin;
  extras: SubmitExtras | undefined;
  account: Account;
  req: SubmitRequest;
  id: string;
  now: Date;
  refuse: (status: number, why: string) => void;
}

export class SubmitPipeline {
  private readonly buckets = new Map<string, TokenBucket>();
  /** Submits per simulated account (lower case), for "every Nth". */
  private readonly simulatedCounts = new Map<string, number>();

  constructor(private readonly c: SubmitContext) {}

  private bucket(account: Account): TokenBucket {
    const key = account.systemId.toLowerCase();
    const share = this.c.o.throughputShare?.share(key) ?? 1;
    const rate = account.throughput * share;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = new TokenBucket(rate)));
    else b.setRate(rate);
    return b;
  }

  onSubmit(session: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    const account = session.account;
    if (!session.canTransmit || !account)
      return session.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const s: SubmitOrigin = {
      label: () => session.label(),
      pending: (delta) => {
        session.pendingSubmits += delta;
        this.c.backpressure(session);
      },
      accepted: (id) => {
        session.messagesIn++;
        session.write(messageIdResp(respId, pdu.seq, id));
      },
      refused: (status, why) => {
        this.c.o.log(
          'info',
          `${session.label()}: ${pdu.command} seq ${pdu.seq} refused (0x${status.toString(16).padStart(2, '0')}): ${why}`,
        );
        session.write(headerOnly(respId, status, pdu.seq));
      },
    };
    const now = new Date();
    // Pipelined behind our unbind during a shutdown: not taken (the ESME submits it again later).
    if (this.c.stopping()) return this.refuse(s, account, STATUS.RSYSERR, 'shutting down');
    const check = checkSubmit(pdu, now);
    if (!check.ok) return this.refuse(s, account, check.status, check.reason);
    this.submit(s, account, check.request, now);
  }

  /** Counts and answers a refusal. */
  private refuse(s: SubmitOrigin, account: Account, status: number, why: string): void {
    this.c.counters.errors++;
    this.c.esmeCounter(account.systemId).errors++;
    s.refused(status, why);
  }

  /**
   * A checked message from an authenticated account, whatever carried it: source allowed,
   * throughput, routing, the prepaid charge, the store; answered through `s` once durable.
   */
  submit(s: SubmitOrigin, account: Account, req: SubmitRequest, now: Date, extras?: SubmitExtras): void {
    const refuse = (status: number, why: string): void => this.refuse(s, account, status, why);
    if (this.c.stopping()) return refuse(STATUS.RSYSERR, 'shutting down');
    if (account.sourcePattern && !account.sourcePattern.test(req.source.addr))
      return refuse(
        STATUS.RINVSRCADR,
        `source_addr "${req.source.addr}" is not allowed for ${account.systemId}`,
      );
    // Every part counts against the rate, so a long message costs what it costs the modem.
    if (account.throughput > 0) this.c.o.throughputShare?.offer(account.systemId, req.entries.length);
    if (!this.bucket(account).take(req.entries.length))
      return refuse(STATUS.RTHROTTLED, `over ${account.throughput} messages/s`);
    const id = extras?.id ?? newMessageId(account.messageId);
    const sub: Submit = { s, extras, account, req, id, now, refuse };
    if (account.simulate) return this.simulate(sub);
    if (this.c.o.routeSubmit) {
      // Counts as pending while the router thinks, so a slow router slows the reading, not memory.
      s.pending(1);
      this.c.o
        .routeSubmit(account, req, id, now)
        .catch((err: Error): OutboundDecision => ({ ok: false, status: STATUS.RSYSERR, reason: err.message }))
        .then((route) => {
          s.pending(-1);
          this.take(sub, route);
        });
      return;
    }
    this.take(sub, routeOutbound(this.c.o.routes(), account, req.destination, req.source.addr));
  }

  /** A routed submit: charged if prepaid, stored, answered once durable. */
  private take(sub: Submit, route: OutboundDecision): void {
    const { s, account, req, id, refuse } = sub;
    if (!route.ok) return refuse(route.status, route.reason);
    const cost = account.prepaid ? roundMoney(route.cost * req.entries.length) : 0;
    if (cost <= 0) return this.store(sub, route, 0);
    // The store charges in its own transaction (and answers NoCreditError): nothing to reserve.
    if (this.c.o.store.chargesCredit) return this.store(sub, route, cost);
    const sid = account.systemId;
    const note = `${req.entries.length} part(s) to ${req.destination}`;
    const insufficient = (): void => this.insufficient(sub, route.cost, cost);
    const reserved = this.c.o.billing.reserve(sid, id, cost, note);
    if (typeof reserved === 'boolean') {
      // The ledger files: decided in this step of the event loop, nothing to wait for.
      if (!reserved) return insufficient();
      return this.store(sub, route, cost);
    }
    // The database: group-committed with other submits; the session reads on meanwhile.
    s.pending(1);
    reserved.then(
      (ok) => {
        s.pending(-1);
        if (!ok) return insufficient();
        this.store(sub, route, cost);
      },
      (err: Error) => {
        s.pending(-1);
        this.c.o.log('error', `${s.label()}: credit not checked: ${err.message}`);
        refuse(STATUS.RSYSERR, err.message);
      },
    );
  }

  private insufficient(sub: Submit, each: number, cost: number): void {
    sub.refuse(
      STATUS.RSUBMITFAIL,
      `insufficient credit: ${sub.req.entries.length} part(s) at ${each} cost ${cost}`,
    );
  }

  /** Stores a routed (and paid) submit; the answer once it is durable. */
  private store(sub: Submit, route: Extract<OutboundDecision, { ok: true }>, cost: number): void {
    const { s, extras, account, req, id, now, refuse } = sub;
    const phone = route.phone ?? extras?.phone;
    s.pending(1);
    this.c.o.store.add(
      req,
      {
        sid: account.systemId,
        id,
        rd: req.receipt,
        ...(req.intermediate ? { inter: true } : {}),
        src: req.source,
        at: now.toISOString(),
        ...(phone ? { phone } : {}),
        ...(cost > 0 ? { cost } : {}),
        ...(extras?.dlr ? { dlr: extras.dlr } : {}),
        ...(extras?.hook ? { hook: extras.hook } : {}),
        ...(extras?.after ? { after: extras.after } : {}),
      },
      now,
      (err, name) => {
        const charged = this.c.o.store.chargesCredit === true;
        if (err instanceof NoCreditError) {
          this.insufficient(sub, route.cost, cost);
          s.pending(-1);
          return;
        }
        if (err) {
          // A store that charges rolled the charge back with the message.
          if (cost > 0 && !charged)
            void Promise.resolve(this.c.o.billing.release(account.systemId, id, cost)).catch((e: Error) =>
              this.c.o.log('error', `${id}: credit of ${cost} not given back: ${e.message}`),
            );
          this.c.o.log('error', `${s.label()}: cannot store the message: ${err.message}`);
          refuse(STATUS.RSYSERR, err.message);
          s.pending(-1);
          return;
        }
        const answer = (): void => {
          this.c.counters.mt++;
          this.c.esmeCounter(account.systemId).mt++;
          this.c.o.messages.remember(id, name);
          this.c.o.log(
            'debug',
            `${s.label()}: ${id} -> ${name}${route.route ? ` (route ${route.route.label})` : ''}`,
          );
          s.accepted(id);
          s.pending(-1);
        };
        // Stored: from here on the message will be sent, so it is answered ROK even if the
        // charge cannot be recorded (a refusal would only make the ESME send it twice).
        if (cost <= 0 || charged) return answer();
        this.c.o.billing
          .commit(account.systemId, id, cost, `${req.entries.length} part(s) to ${req.destination}`)
          .catch((e: Error) => this.c.o.log('error', `${id}: charge of ${cost} not recorded: ${e.message}`))
          .finally(answer);
      },
    );
    s.pending(0);
  }

  /** A simulated account: an answer without a modem, and every Nth a receipt or an MO echo. */
  private simulate(sub: Submit): void {
    const { s, account, req, id, now, refuse } = sub;
    const sim = account.simulate;
    if (!sim) return;
    const key = account.systemId.toLowerCase();
    const count = (this.simulatedCounts.get(key) ?? 0) + 1;
    this.simulatedCounts.set(key, count);
    const outcome = simulateSubmit(sim, count);
    if (!('deliver' in outcome)) return refuse(outcome.status, outcome.reason);
    this.c.counters.mt++;
    this.c.esmeCounter(account.systemId).mt++;
    s.accepted(id);
    this.c.o.log('debug', `${s.label()}: ${id} simulated (submit ${count})`);
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
        this.c.o.queue.add(account.systemId, {
          key: p.key,
          kind: p.kind,
          pdus: p.pdus.map((b) => b.toString('hex')),
        });
    } catch (err) {
      this.c.o.log(
        'error',
        `${id}: simulated ${pdus.map((p) => p.kind).join(' and ')} not queued: ${(err as Error).message}`,
      );
    }
    if (pdus.length > 0) this.c.drain(account.systemId);
  }
}

import type { Logger } from '../../common/log.js';
import type { Account } from '../policy/accounts.js';
import { roundMoney, type CreditKeeper } from '../policy/billing.js';
import { routeOutbound, type OutboundDecision, type Route } from '../policy/routes.js';
import type { SharedThroughput } from '../policy/shared-throughput.js';
import { simulateSubmit } from '../policy/simulation.js';
import type { MessageLookup, MessageStore } from '../store/message-store.js';
import type { DeliveryQueue } from '../store/queue.js';
import { buildMo, buildReceipt, MESSAGE_STATE, type MoBody } from './deliver.js';
import { checkSubmit, newMessageId, type SubmitRequest } from './mt.js';
import { TokenBucket } from './net.js';
import { RESPONSE_BIT, STATUS, headerOnly, messageIdResp, type RawPdu } from './pdu.js';
import type { Session } from './session.js';

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
  s: Session;
  pdu: RawPdu;
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

  onSubmit(s: Session, pdu: RawPdu): void {
    const respId = pdu.id | RESPONSE_BIT;
    const account = s.account;
    if (!s.canTransmit || !account) return s.write(headerOnly(respId, STATUS.RINVBNDSTS, pdu.seq));
    const refuse = (status: number, why: string): void => {
      this.c.counters.errors++;
      this.c.esmeCounter(account.systemId).errors++;
      this.c.o.log(
        'info',
        `${s.label()}: ${pdu.command} seq ${pdu.seq} refused (0x${status.toString(16).padStart(2, '0')}): ${why}`,
      );
      s.write(headerOnly(respId, status, pdu.seq));
    };
    // Pipelined behind our unbind during a shutdown: not taken (the ESME submits it again later).
    if (this.c.stopping()) return refuse(STATUS.RSYSERR, 'shutting down');
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
    if (account.throughput > 0) this.c.o.throughputShare?.offer(account.systemId, req.entries.length);
    if (!this.bucket(account).take(req.entries.length))
      return refuse(STATUS.RTHROTTLED, `over ${account.throughput} messages/s`);
    const id = newMessageId(account.messageId);
    const sub: Submit = { s, pdu, account, req, id, now, refuse };
    if (account.simulate) return this.simulate(sub);
    if (this.c.o.routeSubmit) {
      // Counts as pending while the router thinks, so a slow router slows the reading, not memory.
      s.pendingSubmits++;
      this.c.backpressure(s);
      this.c.o
        .routeSubmit(account, req, id, now)
        .catch((err: Error): OutboundDecision => ({ ok: false, status: STATUS.RSYSERR, reason: err.message }))
        .then((route) => {
          s.pendingSubmits--;
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
    const sid = account.systemId;
    const note = `${req.entries.length} part(s) to ${req.destination}`;
    const insufficient = (): void =>
      refuse(
        STATUS.RSUBMITFAIL,
        `insufficient credit: ${req.entries.length} part(s) at ${route.cost} cost ${cost}`,
      );
    const reserved = this.c.o.billing.reserve(sid, id, cost, note);
    if (typeof reserved === 'boolean') {
      // The ledger files: decided in this step of the event loop, nothing to wait for.
      if (!reserved) return insufficient();
      return this.store(sub, route, cost);
    }
    // The database: group-committed with other submits; the session reads on meanwhile.
    s.pendingSubmits++;
    this.c.backpressure(s);
    reserved.then(
      (ok) => {
        s.pendingSubmits--;
        if (!ok) return insufficient();
        this.store(sub, route, cost);
      },
      (err: Error) => {
        s.pendingSubmits--;
        this.c.o.log('error', `${s.label()}: credit not checked: ${err.message}`);
        refuse(STATUS.RSYSERR, err.message);
      },
    );
  }

  /** Stores a routed (and paid) submit; the answer once it is durable. */
  private store(sub: Submit, route: Extract<OutboundDecision, { ok: true }>, cost: number): void {
    const { s, pdu, account, req, id, now, refuse } = sub;
    const respId = pdu.id | RESPONSE_BIT;
    s.pendingSubmits++;
    this.c.o.store.add(
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
            void Promise.resolve(this.c.o.billing.release(account.systemId, id, cost)).catch((e: Error) =>
              this.c.o.log('error', `${id}: credit of ${cost} not given back: ${e.message}`),
            );
          this.c.o.log('error', `${s.label()}: cannot store the message: ${err.message}`);
          refuse(STATUS.RSYSERR, err.message);
          this.c.backpressure(s);
          return;
        }
        const answer = (): void => {
          s.pendingSubmits--;
          this.c.counters.mt++;
          this.c.esmeCounter(account.systemId).mt++;
          s.messagesIn++;
          this.c.o.messages.remember(id, name);
          this.c.o.log(
            'debug',
            `${s.label()}: ${id} -> ${name}${route.route ? ` (route ${route.route.label})` : ''}`,
          );
          s.write(messageIdResp(respId, pdu.seq, id));
          this.c.backpressure(s);
        };
        // Stored: from here on the message will be sent, so it is answered ROK even if the
        // charge cannot be recorded (a refusal would only make the ESME send it twice).
        if (cost <= 0) return answer();
        this.c.o.billing
          .commit(account.systemId, id, cost, `${req.entries.length} part(s) to ${req.destination}`)
          .catch((e: Error) => this.c.o.log('error', `${id}: charge of ${cost} not recorded: ${e.message}`))
          .finally(answer);
      },
    );
    this.c.backpressure(s);
  }

  /** A simulated account: an answer without a modem, and every Nth a receipt or an MO echo. */
  private simulate(sub: Submit): void {
    const { s, pdu, account, req, id, now, refuse } = sub;
    const sim = account.simulate;
    if (!sim) return;
    const key = account.systemId.toLowerCase();
    const count = (this.simulatedCounts.get(key) ?? 0) + 1;
    this.simulatedCounts.set(key, count);
    const outcome = simulateSubmit(sim, count);
    if (!('deliver' in outcome)) return refuse(outcome.status, outcome.reason);
    this.c.counters.mt++;
    this.c.esmeCounter(account.systemId).mt++;
    s.messagesIn++;
    s.write(messageIdResp(pdu.id | RESPONSE_BIT, pdu.seq, id));
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

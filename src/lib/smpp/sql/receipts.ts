import { forUpdate } from './dialect.js';
import type { Logger } from '../../common/log.js';
import type { LatencyHistogram } from '../../common/histogram.js';
import { formatSqlTime, num, str } from '../../services/sql/rows.js';
import { buildReceipt, MESSAGE_STATE, STAT_WORD } from '../protocol/deliver.js';
import type { DeliveryQueue } from '../store/queue.js';
import { SMPPD_TABLES, SmppdDb } from './db.js';
import { outcomeOf, SENT_COLUMNS, sentRow, type Outcome, type SentRow } from './outcome.js';
import { sqlMessageName, type SqlMessageMeta } from './store.js';
import type { DlrReport } from '../store/spool-events.js';

/**
 * Receipts of SQL-stored messages: this node's open smppd_message rows are read a page at a time
 * in outbox ID order (index node, state, outbox_id), their sentitems rows by primary key; a message
 * whose parts reached a final state gets its receipt queued (key `receipt:sql:<id>`, taken once)
 * and only then its row marked done, so a crash in between queues it again and the queue's key
 * drops the repeat. No query reads more than a page.
 */

export interface SqlReceiptsOptions {
  db: SmppdDb;
  queue: DeliveryQueue;
  refund?: (systemId: string, messageId: string, cost: number, why: string) => Promise<unknown>;
  knownSystemId: (sid: string) => string | undefined;
  queued: (systemId: string) => void;
  latency: LatencyHistogram;
  /** Kannel's dlr-url of a message taken over HTTP (as in spool-events.ts): queued durably or throws. */
  dlr?: (report: DlrReport) => void | Promise<void>;
  log: Logger;
  /** A sent message's receipt is awaited its validity_period (else this) plus `receiptGraceMs`. */
  receiptValidityMs?: number;
  receiptGraceMs?: number;
}

/** Defaults of [smppd] ReceiptValidity and ReceiptGrace: 2 days, then 1 day more. */
export const RECEIPT_VALIDITY_MS = 172_800_000;
export const RECEIPT_GRACE_MS = 86_400_000;
/** sentitems states that still wait for a status report. */
const AWAITING = ['SendingOK', 'DeliveryPending'];

/** Open messages read per query. */
export const RECEIPT_PAGE = 500;
/** IN lists are padded to one of these lengths (few distinct prepared statements). */
const IN_SIZES = [16, 128, RECEIPT_PAGE];

interface OpenRow {
  id: string;
  outboxId: number;
  parts: number;
  meta: SqlMessageMeta;
}

interface Settled {
  id: string;
  state: number;
  error: number;
  done: Date;
}

type FinalOutcome = Extract<Outcome, { final: true }>;

/** A row to close, with the receipt to queue first when the outcome is final. */
interface Settling {
  m: OpenRow;
  outcome?: FinalOutcome;
  done: Settled;
}

export class SqlReceipts {
  /** Outbox ID the next page starts after; back to 0 after the last page. */
  private cursor = 0;

  constructor(private readonly o: SqlReceiptsOptions) {}

  /** One page; true when it was full (more may follow at once). */
  async page(): Promise<boolean> {
    const { db } = this.o;
    const f = (n: string): string => db.f(n);
    const r = await db.query(
      `SELECT ${f('message_id')}, ${f('outbox_id')}, ${f('parts')}, ${f('meta')} FROM ${SMPPD_TABLES.message} WHERE ${f('node')} = ? AND ${f('state')} = 0 AND ${f('outbox_id')} > ? ORDER BY ${f('outbox_id')} LIMIT ${RECEIPT_PAGE}`,
      [db.node, this.cursor],
    );
    const open: OpenRow[] = [];
    for (const row of r.rows) {
      const id = str(row[0]);
      try {
        open.push({ id, outboxId: num(row[1]), parts: num(row[2], 1), meta: JSON.parse(str(row[3])) });
      } catch (err) {
        this.o.log('error', `smppd_message ${id}: unreadable meta (${(err as Error).message}); no receipt`);
        await this.markDone([{ id, state: MESSAGE_STATE.UNKNOWN, error: 0, done: new Date() }]);
      }
    }
    const full = r.rows.length === RECEIPT_PAGE;
    this.cursor = full ? (open.at(-1)?.outboxId ?? 0) : 0;
    if (open.length === 0) return full;
    const sent = await this.sentRows(open.map((m) => m.outboxId));
    const settling: Settling[] = [];
    for (const m of open) {
      const outcome = outcomeOf(sent.get(m.outboxId) ?? [], m.parts);
      // A dlr-url call that cannot be queued now (disk): the row stays open and is read again.
      if ((outcome.final ? !outcome.rejected : outcome.sent) && !(await this.dlrSent(m))) continue;
      if (!outcome.final) {
        if (!outcome.sent) continue;
        if (this.expired(m)) {
          await this.expire(m);
          continue;
        }
        if (m.meta.inter) this.enroute(m);
        // Sent, no receipt asked for, nothing to refund, no dlr-url waiting for a report: no
        // reason to keep reading it (query_sm reads its sentitems rows itself).
        if (m.meta.rd === 0 && !m.meta.cost && !((m.meta.dlr?.mask ?? 0) & 19))
          settling.push({ m, done: { id: m.id, state: MESSAGE_STATE.ENROUTE, error: 0, done: new Date() } });
        continue;
      }
      await this.refund(m, outcome);
      settling.push({
        m,
        outcome,
        done: { id: m.id, state: outcome.state, error: outcome.error, done: outcome.done },
      });
    }
    await this.settle(settling);
    return full;
  }

  /**
   * Queues the receipts and closes the rows in one transaction, over the rows still open and still
   * this node's, locked: another node that took this one for dead (silent past NodeTimeout on a
   * busy machine, though alive) either took a row before (then it is not ours here, and its receipt
   * comes from there) or waits until the row is closed (then it leaves it). Each receipt once.
   */
  private async settle(settling: readonly Settling[]): Promise<void> {
    if (settling.length === 0) return;
    const { db } = this.o;
    const f = (n: string): string => db.f(n);
    await db.svc.transaction(async () => {
      const ids = settling.map((x) => x.m.id);
      const size = IN_SIZES.find((n) => n >= ids.length) ?? ids.length;
      const r = await db.query(
        `SELECT ${f('message_id')} FROM ${SMPPD_TABLES.message} WHERE ${f('node')} = ? AND ${f('state')} = 0 AND ${f('message_id')} IN (${SmppdDb.marks(size)})${forUpdate(db.dialect)}`,
        [db.node, ...ids, ...Array<string>(size - ids.length).fill('')],
      );
      const ours = new Set(r.rows.map((row) => str(row[0])));
      const done: Settled[] = [];
      for (const x of settling) {
        if (!ours.has(x.m.id)) continue;
        // A dlr-url call that cannot be queued now (disk): the row stays open and is read again.
        if (x.outcome && !(await this.finalDlr(x.m, x.outcome))) continue;
        if (x.outcome) this.receipt(x.m, x.outcome);
        done.push(x.done);
      }
      if (ours.size < settling.length)
        this.o.log(
          'warn',
          `${settling.length - ours.size} open message(s) were taken over by another node (this one was silent past NodeTimeout); their receipts come from there`,
        );
      await this.updateDone(done);
    });
  }

  /** Sent, and its status report is overdue: past its validity plus the grace period. */
  private expired(m: OpenRow): boolean {
    const validity =
      m.meta.vs !== undefined ? m.meta.vs * 1000 : (this.o.receiptValidityMs ?? RECEIPT_VALIDITY_MS);
    return Date.parse(m.meta.at) + validity + (this.o.receiptGraceMs ?? RECEIPT_GRACE_MS) < Date.now();
  }

  /**
   * No report will come any more: the sentitems rows still waiting become DeliveryUnknown (Gammu's
   * word for a report it could not read: whether the handset got it, nobody knows), the ESME gets
   * EXPIRED (SMPP's "validity period expired", the nearest final state an SMSC gives such a
   * message), the row is closed. The close is claimed first (only by the node that owns the row, only
   * while open), then the receipt queued: two nodes that both think they own it (one was taken for
   * dead) send it once; a crash between the two loses that receipt (query_sm still says EXPIRED).
   */
  private async expire(m: OpenRow): Promise<void> {
    const { db } = this.o;
    const done = new Date();
    const outcome: FinalOutcome = {
      final: true,
      state: MESSAGE_STATE.EXPIRED,
      error: 0,
      done,
      reported: true,
    };
    // Kannel's dlr-url hears of it too (as failed); not queued now (disk): read again later.
    if (!(await this.finalDlr(m, outcome))) return;
    await db.query(
      `UPDATE ${db.tables.sentitems} SET ${db.f('Status')} = 'DeliveryUnknown' WHERE ${db.f('ID')} = ? AND ${db.f('Status')} IN (${AWAITING.map((a) => `'${a}'`).join(', ')})`,
      [m.outboxId],
    );
    const f = (n: string): string => db.f(n);
    const claimed = await db.query(
      `UPDATE ${SMPPD_TABLES.message} SET ${f('state')} = 1, ${f('final_state')} = ?, ${f('final_error')} = 0, ${f('done_at')} = ? WHERE ${f('message_id')} = ? AND ${f('node')} = ? AND ${f('state')} = 0`,
      [MESSAGE_STATE.EXPIRED, formatSqlTime(done), m.id, db.node],
    );
    if (claimed.affectedRows === 0) return;
    this.receipt(m, outcome);
  }

  private async sentRows(ids: readonly number[]): Promise<Map<number, SentRow[]>> {
    const { db } = this.o;
    const size = IN_SIZES.find((n) => n >= ids.length) ?? ids.length;
    const padded = [...ids, ...Array<number>(size - ids.length).fill(-1)];
    const r = await db.query(
      `SELECT ${SENT_COLUMNS.map((c) => db.f(c)).join(', ')} FROM ${db.tables.sentitems} WHERE ${db.f('ID')} IN (${SmppdDb.marks(size)})`,
      padded,
    );
    const out = new Map<number, SentRow[]>();
    for (const raw of r.rows) {
      const { id, row } = sentRow(raw);
      const list = out.get(id) ?? [];
      list.push(row);
      out.set(id, list);
    }
    return out;
  }

  /** Kannel's dlr-mask 8 (sent by the modem), once; false when the call could not be queued. */
  private async dlrSent(m: OpenRow): Promise<boolean> {
    const key = `sent:${sqlMessageName(m.id)}`;
    if (!m.meta.dlr || !this.o.dlr || (m.meta.dlr.mask & 8) === 0 || this.o.queue.has(key)) return true;
    try {
      await this.o.dlr({
        key,
        id: m.id,
        to: m.meta.dst,
        meta: m.meta,
        kind: 'sent',
        error: 0,
        done: new Date(),
        text: m.meta.text,
      });
    } catch (err) {
      this.o.log(
        'error',
        `dlr-url call (sent) for ${m.id} not queued: ${(err as Error).message}; trying again later`,
      );
      return false;
    }
    this.o.queue.markTaken([key]);
    return true;
  }

  /** Kannel's dlr-url call of a final outcome, before the receipt; false when it could not be queued. */
  private async finalDlr(m: OpenRow, outcome: FinalOutcome): Promise<boolean> {
    const key = `receipt:${sqlMessageName(m.id)}`;
    const { meta } = m;
    if (this.o.queue.has(key) || !meta.dlr || !this.o.dlr || !(outcome.reported || outcome.rejected))
      return true;
    const kind =
      outcome.state === MESSAGE_STATE.DELIVERED ? 'delivered' : outcome.rejected ? 'rejected' : 'failed';
    try {
      await this.o.dlr({
        key,
        id: m.id,
        to: meta.dst,
        meta,
        kind,
        error: outcome.error,
        done: outcome.done,
        text: meta.text,
      });
    } catch (err) {
      this.o.log(
        'error',
        `dlr-url call for ${m.id} not queued: ${(err as Error).message}; trying again later`,
      );
      return false;
    }
    return true;
  }

  /** Before the receipt: a crash in between refunds again, which the ledger turns into nothing. */
  private async refund(m: OpenRow, outcome: FinalOutcome): Promise<void> {
    const { meta } = m;
    if (this.o.queue.has(`receipt:${sqlMessageName(m.id)}`)) return; // settled before a crash
    if (outcome.state === MESSAGE_STATE.UNDELIVERABLE && meta.cost && this.o.refund)
      // The ledger remembers refunded IDs: a repeat after a crash refunds nothing twice.
      await this.o
        .refund(meta.sid, m.id, meta.cost, `outbox ${m.outboxId} failed (error ${outcome.error})`)
        .catch((err: Error) => this.o.log('error', `refund of ${m.id}: ${err.message}`));
  }

  private receipt(m: OpenRow, outcome: FinalOutcome): void {
    const key = `receipt:${sqlMessageName(m.id)}`;
    const { queue } = this.o;
    if (queue.has(key)) return; // queued (or cancelled) before a crash: only the row is left to mark
    const { meta } = m;
    if (outcome.state === MESSAGE_STATE.DELIVERED)
      this.o.latency.observe((outcome.done.getTime() - Date.parse(meta.at)) / 1000);
    const wanted =
      outcome.reported && (meta.rd === 1 || (meta.rd === 2 && outcome.state !== MESSAGE_STATE.DELIVERED));
    const sid = this.o.knownSystemId(meta.sid);
    if (!wanted || !sid) {
      // Taken: a crash before the row is marked done does not call the dlr-url again.
      if (meta.dlr) queue.markTaken([key]);
      return;
    }
    const pdu = buildReceipt({
      messageId: m.id,
      recipient: meta.dst,
      esmeAddress: meta.src,
      state: outcome.state,
      submitted: new Date(meta.at),
      done: outcome.done,
      error: outcome.error,
      text: meta.text,
    });
    if (queue.add(sid, { key, kind: 'receipt', pdus: [pdu.toString('hex')] })) {
      const word = STAT_WORD[outcome.state] ?? String(outcome.state);
      this.o.log('info', `Receipt for ${m.id} (${word}, outbox ${m.outboxId}) queued for ${sid}`);
      this.o.queued(sid);
    }
  }

  /** The modem has sent every part: ENROUTE, when the ESME asked for intermediate notifications. */
  private enroute(m: OpenRow): void {
    const key = `enroute:${sqlMessageName(m.id)}`;
    const sid = this.o.knownSystemId(m.meta.sid);
    if (!sid || this.o.queue.has(key)) return;
    const pdu = buildReceipt(
      {
        messageId: m.id,
        recipient: m.meta.dst,
        esmeAddress: m.meta.src,
        state: MESSAGE_STATE.ENROUTE,
        submitted: new Date(m.meta.at),
        done: new Date(),
        error: 0,
        text: m.meta.text,
      },
      true,
    );
    if (this.o.queue.add(sid, { key, kind: 'receipt', pdus: [pdu.toString('hex')] })) {
      this.o.log('info', `Intermediate notification (ENROUTE) for ${m.id} queued for ${sid}`);
      this.o.queued(sid);
    }
  }

  private async markDone(settled: readonly Settled[]): Promise<void> {
    if (settled.length === 0) return;
    await this.o.db.svc.transaction(() => this.updateDone(settled));
  }

  private async updateDone(settled: readonly Settled[]): Promise<void> {
    const { db } = this.o;
    const f = (n: string): string => db.f(n);
    for (const s of settled)
      await db.query(
        `UPDATE ${SMPPD_TABLES.message} SET ${f('state')} = 1, ${f('final_state')} = ?, ${f('final_error')} = ?, ${f('done_at')} = ? WHERE ${f('message_id')} = ?`,
        [s.state, s.error, formatSqlTime(s.done), s.id],
      );
  }
}

import { isTransientConflict } from '../../services/sql/connection.js';
import { NoCreditError, type AddCallback, type MessageStore } from '../store/message-store.js';
import type { SubmitRequest } from '../protocol/mt.js';
import type { SmppMeta } from '../store/store.js';
import { SMPPD_TABLES, SmppdDb } from './db.js';
import { CreditShortfall, type TxCharge, type TxCredit } from './credit-tx.js';

/**
 * `Service = sql`: accepted submits go into Gammu's outbox tables (what `smsd run` on SQL, and
 * Gammu's own daemon, send from), with group commit: submits arriving while a transaction runs form
 * the next one. One transaction inserts each message's outbox rows (Gammu's create_outbox queries,
 * SenderID = the route's PhoneID pin, else empty so any daemon takes it) and its smppd_message row
 * (message ID ↔ outbox ID, what the receipt needs), so either both are there or neither; the
 * submit_sm_resp waits for the commit. A database error refuses the whole batch.
 *
 * With `credit` (KSMPPD's prepaid credit in the same database) the batch's charges are taken in
 * that transaction too (credit-tx.ts): a message its account cannot pay fails with NoCreditError
 * and is not stored, the others are; a rollback neither stores nor charges anything.
 */

/** What smppd_message.meta holds: SmppMeta plus what the receipt repeats of the message. */
export interface SqlMessageMeta extends SmppMeta {
  /** The destination number as queued. */
  dst: string;
  /** The start of the text (a receipt quotes 20 characters). */
  text: string;
  /** validity_period in seconds as asked: the receipt is awaited that long plus ReceiptGrace. */
  vs?: number;
}

interface Pending {
  req: SubmitRequest;
  meta: SmppMeta;
  done: AddCallback;
}

/** Messages per transaction at most: a long backlog commits in steps, not in one huge transaction. */
const MAX_BATCH = 1000;
/** smppd_message rows per INSERT (one prepared statement per distinct row count, so few counts). */
const ROWS_PER_INSERT = 100;

/** The name add() resolves with; `receipt:<name>` is the receipt's queue key. */
export const sqlMessageName = (id: string): string => `sql:${id}`;

/** What smppd_message.meta keeps of a submit. */
export function sqlMeta(req: SubmitRequest, meta: SmppMeta): SqlMessageMeta {
  // A replaced message's meta comes back here: its old validity goes with its old text.
  const record: SqlMessageMeta = {
    ...meta,
    dst: req.destination,
    text: req.entries
      .map((e) => e.text)
      .join('')
      .slice(0, 20),
  };
  delete record.vs;
  if (req.validitySeconds !== undefined) record.vs = req.validitySeconds;
  return record;
}

/** SMPP priority_flag into the outbox's Priority column (Gammu's daemons take higher first). */
export async function setPriority(db: SmppdDb, level: number, outboxIds: readonly string[]): Promise<void> {
  for (let i = 0; i < outboxIds.length; i += ROWS_PER_INSERT) {
    const chunk = outboxIds.slice(i, i + ROWS_PER_INSERT);
    await db.query(
      `UPDATE ${db.tables.outbox} SET ${db.f('Priority')} = ? WHERE ${db.f('ID')} IN (${SmppdDb.marks(chunk.length)})`,
      [level, ...chunk],
    );
  }
}

export class SqlMessageStore implements MessageStore {
  private pending: Pending[] = [];
  private committing = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;
  /** Batches committed and messages in them (for tests and logs). */
  readonly stats = { batches: 0, messages: 0 };

  constructor(
    private readonly db: SmppdDb,
    private readonly credit?: TxCredit,
  ) {}

  /** add() charges meta.cost itself (in the outbox transaction). */
  get chargesCredit(): boolean {
    return this.credit !== undefined;
  }

  /** A transaction is all or nothing: a crash leaves nothing to settle. */
  recover(): string[] {
    return [];
  }

  /** Never full: a submit waits for its transaction, so the sessions' own limits bound what waits. */
  readonly full = false;
  onRoom: (() => void) | undefined;

  add(req: SubmitRequest, meta: SmppMeta, _now: Date, done: AddCallback): void {
    this.pending.push({ req, meta, done });
    void this.commit();
  }

  /** Committed means stored where `smsd run` reads it: draining is waiting for the commits. */
  async drain(): Promise<void> {
    while (this.committing || this.pending.length > 0) {
      if (this.committing) await this.idle;
      else await new Promise((r) => setTimeout(r, 2));
    }
  }

  settled(): Promise<void> {
    return this.drain();
  }

  private async commit(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    this.idle = new Promise((r) => (this.markIdle = r));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      try {
        const stored = await this.db.exclusive(() => this.writeWithRetry(batch));
        this.stats.batches++;
        this.stats.messages += batch.length;
        batch.forEach((p, i) =>
          stored[i] ? p.done(undefined, sqlMessageName(p.meta.id)) : p.done(new NoCreditError(), ''),
        );
      } catch (err) {
        // Rolled back: nothing of the batch is stored; each ESME gets an error and submits again.
        const e = new Error(`SQL outbox in ${this.db.conn.target}: ${(err as Error).message}`);
        for (const p of batch) p.done(e, '');
      }
    }
    this.committing = false;
    this.markIdle?.();
  }

  /**
   * The batch's transaction; again message by message for the credit when an account's total did
   * not fit, and again after a deadlock or serialisation conflict with another node.
   */
  private async writeWithRetry(batch: readonly Pending[]): Promise<boolean[]> {
    let exact = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(batch, exact);
      } catch (err) {
        if (err instanceof CreditShortfall && !exact) exact = true;
        else if (attempt >= 5 || !isTransientConflict(err)) throw err;
        else await new Promise((r) => setTimeout(r, 2 * attempt));
      }
    }
  }

  /** One transaction; which messages were stored (false: their account's credit ran out). */
  private async write(batch: readonly Pending[], exact: boolean): Promise<boolean[]> {
    const { db, credit } = this;
    // The whole function runs again after a reconnect, so everything is built inside it.
    return db.svc.transaction(async () => {
      const charges: (TxCharge | undefined)[] = batch.map(({ req, meta }) =>
        credit && meta.cost !== undefined && meta.cost > 0
          ? {
              sid: meta.sid,
              id: meta.id,
              amount: meta.cost,
              note: `${req.entries.length} part(s) to ${req.destination}`,
            }
          : undefined,
      );
      const paid = charges.filter((c): c is TxCharge => c !== undefined);
      let stored = batch.map(() => true);
      if (credit && exact && paid.length > 0) {
        const granted = await credit.decide(db, paid);
        let k = 0;
        stored = charges.map((c) => (c ? (granted[k++] ?? false) : true));
      }
      const kept = batch.filter((_, i) => stored[i]);
      const outboxIds = await db.svc.insertOutboxMany(
        kept.map(({ req, meta }) => ({
          msg: {
            number: req.destination,
            entries: req.entries,
            ...(req.validity !== undefined ? { validity: req.validity } : {}),
          },
          creatorId: `smppd ${meta.id}`,
          senderId: meta.phone ?? '',
        })),
      );
      // Outbox IDs by SMPP priority_flag 1..3 (Gammu's create_outbox leaves Priority at 0).
      const prioritised = new Map<number, string[]>();
      kept.forEach(({ req }, i) => {
        if (req.priorityFlag)
          prioritised.set(req.priorityFlag, [
            ...(prioritised.get(req.priorityFlag) ?? []),
            String(outboxIds[i]),
          ]);
      });
      for (const [level, ids] of prioritised) await setPriority(db, level, ids);
      const rows = kept.map(({ req, meta }, i) => {
        const record = sqlMeta(req, meta);
        return [meta.id, outboxIds[i] ?? '', db.node, meta.sid, req.entries.length, JSON.stringify(record)];
      });
      const cols = ['message_id', 'outbox_id', 'node', 'system_id', 'parts', 'meta'].map((c) => db.f(c));
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const chunk = rows.slice(i, i + ROWS_PER_INSERT);
        const values = chunk.map(() => `(${SmppdDb.marks(cols.length)})`).join(', ');
        await db.query(
          `INSERT INTO ${SMPPD_TABLES.message} (${cols.join(', ')}) VALUES ${values}`,
          chunk.flat(),
        );
      }
      if (credit) {
        const taken = charges.filter((c, i): c is TxCharge => c !== undefined && (stored[i] ?? false));
        if (taken.length > 0) await credit.record(db, taken);
        // Last, so each account's row is locked only for the commit that follows.
        if (!exact) await credit.deductAll(db, taken);
      }
      return stored;
    });
  }

  async close(): Promise<void> {
    await this.drain();
    await this.db.close();
  }
}

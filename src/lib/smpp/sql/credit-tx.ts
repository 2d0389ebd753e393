import { forUpdate } from './dialect.js';
import { roundMoney } from '../policy/billing.js';
import type { SmppdDb } from './db.js';

/**
 * Prepaid credit charged inside the transaction that stores the messages, when KSMPPD's smpp_user
 * and Gammu's outbox are one database: the charge, its ledger row and the message commit together
 * or not at all (nothing to confirm, release or reconcile afterwards, and one commit per batch
 * instead of a credit commit and an outbox commit).
 *
 * A batch is first tried optimistically: its rows are inserted, then each account's total is taken
 * by one conditional UPDATE (`credit >= total`) as the last statement, so an account's row stays
 * locked only for the commit. When a total does not fit, the caller rolls back and runs the batch
 * again with decide(): each account's row locked first (SELECT ... FOR UPDATE), its messages granted
 * in order while the credit lasts, only those stored. Accounts are always taken in the same order,
 * so two nodes never deadlock on two accounts.
 */

export interface TxCharge {
  sid: string;
  id: string;
  amount: number;
  note: string;
}

export interface TxCreditTables {
  user: string;
  ledger: string;
}

/** Thrown inside the transaction when an account's credit does not cover its total: roll back. */
export class CreditShortfall extends Error {
  constructor(sid: string) {
    super(`the credit of ${sid} does not cover the batch`);
    this.name = 'CreditShortfall';
  }
}

/** Ledger rows per INSERT. */
const ROWS_PER_INSERT = 100;

/** Each account's total, accounts sorted (the lock order). */
function totals(charges: readonly TxCharge[]): [string, number][] {
  const by = new Map<string, number>();
  for (const c of charges) by.set(c.sid, roundMoney((by.get(c.sid) ?? 0) + c.amount));
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export class TxCredit {
  constructor(
    readonly t: TxCreditTables,
    readonly node: string,
  ) {}

  /** Every account's total at once; CreditShortfall if one does not fit. */
  async deductAll(db: SmppdDb, charges: readonly TxCharge[]): Promise<void> {
    for (const [sid, total] of totals(charges)) {
      const r = await db.query(
        `UPDATE ${this.t.user} SET credit = credit - ? WHERE system_id = ? AND credit >= ?`,
        [total, sid, total - 1e-9],
      );
      if (r.affectedRows === 0) throw new CreditShortfall(sid);
    }
  }

  /** Locks each account, grants its charges in order while the credit lasts, deducts the granted. */
  async decide(db: SmppdDb, charges: readonly TxCharge[]): Promise<boolean[]> {
    const granted = charges.map(() => false);
    for (const [sid] of totals(charges)) {
      const r = await db.query(
        `SELECT credit FROM ${this.t.user} WHERE system_id = ?${forUpdate(db.dialect)}`,
        [sid],
      );
      let left = Number(r.rows[0]?.[0] ?? 0); // no such account: nothing to spend
      let spent = 0;
      charges.forEach((c, i) => {
        if (c.sid !== sid || c.amount > left + 1e-9) return;
        granted[i] = true;
        left = roundMoney(left - c.amount);
        spent = roundMoney(spent + c.amount);
      });
      if (spent > 0)
        await db.query(`UPDATE ${this.t.user} SET credit = credit - ? WHERE system_id = ?`, [spent, sid]);
    }
    return granted;
  }

  /** The charges' ledger rows, final at once (they commit with their messages). */
  async record(db: SmppdDb, charges: readonly TxCharge[]): Promise<void> {
    const now = Date.now();
    for (let i = 0; i < charges.length; i += ROWS_PER_INSERT) {
      const chunk = charges.slice(i, i + ROWS_PER_INSERT);
      await db.query(
        `INSERT INTO ${this.t.ledger} (at_ms, system_id, amount, message_id, node, note, kind, confirmed) VALUES ${chunk.map(() => `(?, ?, ?, ?, ?, ?, 'charge', 1)`).join(', ')}`,
        chunk.flatMap((c) => [now, c.sid, -c.amount, c.id, this.node, c.note.slice(0, 255)]),
      );
    }
  }
}

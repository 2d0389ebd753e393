import { isTransientConflict, type SqlConnection, type SqlValue } from '../../services/sql/connection.js';
import { roundMoney, type CreditKeeper } from '../policy/billing.js';
import { oneAtATime } from './one-at-a-time.js';
import { doubleType, mark, serialKey } from './dialect.js';

/**
 * Prepaid credit in the database, for accounts in KSMPPD's tables (AccountsSource = sql): the
 * balance is `smpp_user.credit`, shared by every smppd node on the database, and each charge,
 * release and refund is a row of `smppd_ledger` (time, system_id, kind, amount, message_id, node,
 * note) that an operator can query per message or per account.
 *
 * KSMPPD reads the credit and then updates it (two nodes can both spend the last of it). Here the
 * deduction is one conditional statement, `credit = credit - x WHERE credit >= x`, so the database
 * serialises concurrent nodes and no update is lost. To keep up with thousands of submits per
 * second, reservations are group-committed: the ones that arrive while a transaction runs form the
 * next one, which deducts each account's total at once (message by message only when the total
 * does not fit) and inserts their ledger rows.
 *
 * A reservation is charged when it commits; if its message then cannot be stored it is released
 * (credit back, a `release` row). A node killed between the two leaves `confirmed = 0` rows:
 * `reconcile` at the next start releases those whose message does not exist.
 */

interface Pending {
  sid: string;
  id: string;
  amount: number;
  note: string;
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

export interface SqlBillingTables {
  user: string;
  ledger: string;
}

export class SqlBilling implements CreditKeeper {
  private pending: Pending[] = [];
  private running = false;
  private confirms: string[] = [];

  constructor(
    private readonly conn: SqlConnection,
    private readonly node: string,
    private readonly t: SqlBillingTables = { user: 'smpp_user', ledger: 'smppd_ledger' },
  ) {}

  /** One user of the connection at a time: two transactions on one connection would merge. */
  private readonly exclusive = oneAtATime();

  private p(i: number): string {
    return mark(this.conn.dialect, i);
  }

  async init(): Promise<void> {
    const d = this.conn.dialect;
    const mysql = d === 'mysql';
    await this.conn.query(
      `CREATE TABLE IF NOT EXISTS ${this.t.ledger} (${serialKey(d, 'id')}, at_ms BIGINT NOT NULL, system_id VARCHAR(64) NOT NULL, kind VARCHAR(8) NOT NULL, amount ${doubleType(d)} NOT NULL, message_id VARCHAR(64) NOT NULL DEFAULT '', node VARCHAR(64) NOT NULL, confirmed SMALLINT NOT NULL DEFAULT 1, note VARCHAR(255) NOT NULL DEFAULT ''${mysql ? ', KEY ledger_account (system_id, at_ms), KEY ledger_message (message_id), KEY ledger_open (node, confirmed)) ENGINE=InnoDB' : ')'}`,
    );
    if (!mysql)
      for (const [name, cols] of [
        ['ledger_account', 'system_id, at_ms'],
        ['ledger_message', 'message_id'],
        ['ledger_open', 'node, confirmed'],
      ])
        await this.conn.query(
          `CREATE INDEX IF NOT EXISTS ${this.t.ledger}_${name} ON ${this.t.ledger} (${cols})`,
        );
  }

  reserve(sid: string, id: string, amount: number, note: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ sid, id, amount: roundMoney(amount), note, resolve, reject });
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // One statement at a time on the connection: reservations first, then the confirmations.
      while (this.pending.length > 0 || this.confirms.length > 0) {
        if (this.pending.length === 0) {
          await this.flushConfirms();
          continue;
        }
        const batch = this.pending;
        this.pending = [];
        try {
          const granted = await this.deductWithRetry(batch);
          batch.forEach((r, i) => r.resolve(granted[i] ?? false));
        } catch (err) {
          for (const r of batch) r.reject(new Error(`credit in ${this.t.user}: ${(err as Error).message}`));
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Two nodes charging one account can deadlock on its row: the loser runs its batch again. */
  private async deductWithRetry(batch: readonly Pending[]): Promise<boolean[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.exclusive(() => this.conn.transaction(() => this.deduct(batch)));
      } catch (err) {
        if (attempt >= 5 || !isTransientConflict(err)) throw err;
        await new Promise((r) => setTimeout(r, 2 * attempt));
      }
    }
  }

  /** One transaction: each account's total at once, else message by message; the ledger rows. */
  private async deduct(batch: readonly Pending[]): Promise<boolean[]> {
    const granted = batch.map(() => false);
    const bySid = new Map<string, number[]>();
    batch.forEach((r, i) => bySid.set(r.sid, [...(bySid.get(r.sid) ?? []), i]));
    for (const [sid, idx] of bySid) {
      const total = roundMoney(idx.reduce((n, i) => n + (batch[i]?.amount ?? 0), 0));
      if (await this.take(sid, total)) for (const i of idx) granted[i] = true;
      else for (const i of idx) granted[i] = await this.take(sid, batch[i]?.amount ?? 0);
    }
    const rows = batch.filter((_, i) => granted[i]);
    if (rows.length > 0) {
      const now = Date.now();
      const values: SqlValue[] = [];
      const tuples = rows.map((r) => {
        const n = values.length;
        values.push(now, r.sid, -r.amount, r.id, this.node, r.note.slice(0, 255));
        return `(${[1, 2, 3, 4, 5, 6].map((k) => this.p(n + k)).join(', ')}, 'charge', 0)`;
      });
      await this.conn.query(
        `INSERT INTO ${this.t.ledger} (at_ms, system_id, amount, message_id, node, note, kind, confirmed) VALUES ${tuples.join(', ')}`,
        values,
      );
    }
    return granted;
  }

  private async take(sid: string, amount: number): Promise<boolean> {
    const r = await this.conn.query(
      `UPDATE ${this.t.user} SET credit = credit - ${this.p(1)} WHERE system_id = ${this.p(2)} AND credit >= ${this.p(3)}`,
      [amount, sid, amount - 1e-9],
    );
    return r.affectedRows > 0;
  }

  /** The message is stored: its charge is final (marked lazily; a restart checks the unmarked). */
  async commit(_sid: string, id: string): Promise<void> {
    this.confirms.push(id);
    if (this.confirms.length === 1) setImmediate(() => void this.run());
  }

  private async flushConfirms(): Promise<void> {
    const ids = this.confirms;
    this.confirms = [];
    if (ids.length === 0) return;
    await this.exclusive(() =>
      this.conn.query(
        `UPDATE ${this.t.ledger} SET confirmed = 1 WHERE kind = 'charge' AND confirmed = 0 AND message_id IN (${ids.map((_, i) => this.p(i + 1)).join(', ')})`,
        ids,
      ),
    ).catch(() => undefined); // left for reconcile(): it finds the message and confirms then
  }

  /** The message was not stored: the credit goes back. */
  async release(sid: string, id: string, amount: number): Promise<void> {
    await this.giveBack(sid, id, amount, 'release', 'message not stored');
  }

  async refund(sid: string, id: string, amount: number, note: string): Promise<boolean> {
    if (amount <= 0) return false;
    return this.giveBack(sid, id, amount, 'refund', note);
  }

  /** Credit back and a ledger row, once per message and kind. */
  private async giveBack(
    sid: string,
    id: string,
    amount: number,
    kind: string,
    note: string,
  ): Promise<boolean> {
    return this.exclusive(() =>
      this.conn.transaction(async () => {
        const done = await this.conn.query(
          `SELECT 1 FROM ${this.t.ledger} WHERE message_id = ${this.p(1)} AND kind IN ('refund', 'release')`,
          [id],
        );
        if (done.rows.length > 0) return false;
        await this.conn.query(
          `UPDATE ${this.t.user} SET credit = credit + ${this.p(1)} WHERE system_id = ${this.p(2)}`,
          [amount, sid],
        );
        // The charge is settled either way: reconcile() does not look at it again.
        await this.conn.query(
          `UPDATE ${this.t.ledger} SET confirmed = 1 WHERE message_id = ${this.p(1)} AND kind = 'charge'`,
          [id],
        );
        await this.conn.query(
          `INSERT INTO ${this.t.ledger} (at_ms, system_id, kind, amount, message_id, node, note) VALUES (${[1, 2, 3, 4, 5, 6, 7].map((k) => this.p(k)).join(', ')})`,
          [Date.now(), sid, kind, amount, id, this.node, note.slice(0, 255)],
        );
        return true;
      }),
    );
  }

  async balance(sid: string): Promise<number> {
    const r = await this.conn.query(`SELECT credit FROM ${this.t.user} WHERE system_id = ${this.p(1)}`, [
      sid,
    ]);
    return roundMoney(Number(r.rows[0]?.[0] ?? 0));
  }

  async topUp(sid: string, amount: number, note = ''): Promise<number> {
    await this.exclusive(() =>
      this.conn.transaction(async () => {
        const r = await this.conn.query(
          `UPDATE ${this.t.user} SET credit = credit + ${this.p(1)} WHERE system_id = ${this.p(2)}`,
          [amount, sid],
        );
        if (r.affectedRows === 0) throw new Error(`no system_id ${sid} in ${this.t.user}`);
        await this.conn.query(
          `INSERT INTO ${this.t.ledger} (at_ms, system_id, kind, amount, node, note) VALUES (${[1, 2, 3, 4, 5, 6].map((k) => this.p(k)).join(', ')})`,
          [Date.now(), sid, 'topup', amount, this.node, note.slice(0, 255)],
        );
      }),
    );
    return this.balance(sid);
  }

  /**
   * After a crash of this node: charges never confirmed are confirmed when their message exists,
   * else released (the ESME got no submit_sm_resp for them and sends them again).
   */
  async reconcile(
    exists: (sid: string, id: string) => Promise<boolean> | boolean,
  ): Promise<{ kept: number; released: number }> {
    await this.flushConfirms();
    const r = await this.exclusive(() =>
      this.conn.query(
        `SELECT system_id, message_id, amount FROM ${this.t.ledger} WHERE node = ${this.p(1)} AND confirmed = 0 AND kind = 'charge'`,
        [this.node],
      ),
    );
    let kept = 0;
    let released = 0;
    for (const [sid, id, amount] of r.rows) {
      const s = String(sid);
      const m = String(id);
      if (await exists(s, m)) {
        this.confirms.push(m);
        kept++;
      } else if (
        await this.giveBack(s, m, -Number(amount), 'release', 'not stored (crash before the answer)')
      )
        released++;
    }
    await this.flushConfirms();
    return { kept, released };
  }

  async close(): Promise<void> {
    while (this.running || this.pending.length > 0) await new Promise((r) => setTimeout(r, 2));
    await this.run();
    await this.conn.close();
  }
}

import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '../../common/process-alive.js';
import { readIfExists } from '../../common/absent.js';

/**
 * Prepaid credit, one append-only ledger per account in `<state>/billing/<system_id>.ledger`:
 *
 *   <ISO time> TAB <kind> TAB <amount> TAB <balance after> TAB <message id or -> TAB <note>
 *
 * kinds: `topup` (esme credit), `charge` (route cost x parts of an accepted submit), `refund` (the
 * message failed for good). The balance is the last line's, so a start reads only the file's tail,
 * and the file is the statement an operator reads or greps per message ID.
 *
 * A submit reserves its cost in memory (check and deduct in one step of the event loop: two binds
 * of one account cannot both spend the last credit), the charge line is group-committed (one
 * fdatasync per batch and file) before the submit_sm_resp: an acknowledged message is always
 * charged. A store failure gives the reservation back. Only this process writes while it runs (it
 * holds `billing/.lock`); `esme credit` goes through the admin interface then.
 */

export type LedgerKind = 'topup' | 'charge' | 'refund';

/** Amounts are kept to a millionth (route costs like 0.05 x 3 stay exact). */
export const roundMoney = (n: number): number => Math.round(n * 1e6) / 1e6;

export function ledgerFile(dir: string, systemId: string): string {
  return path.join(dir, `${encodeURIComponent(systemId.toLowerCase())}.ledger`);
}

export function formatLedgerLine(
  kind: LedgerKind,
  amount: number,
  balance: number,
  id: string,
  note: string,
): string {
  return `${new Date().toISOString()}\t${kind}\t${roundMoney(amount)}\t${roundMoney(balance)}\t${id || '-'}\t${note.replace(/[\t\n]/g, ' ')}\n`;
}

export interface LedgerTail {
  balance: number;
  /** Message IDs refunded in the tail read (refunds are checked against these after a restart). */
  refunded: string[];
}

/** Reads the end of a ledger; drops a torn last line (a crash mid-append: never acknowledged). */
export function readLedgerTail(file: string, tailBytes = 256 * 1024): LedgerTail {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { balance: 0, refunded: [] };
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.max(0, size - tailBytes);
    const buf = Buffer.alloc(size - start);
    fs.readSync(fd, buf, 0, buf.length, start);
    let text = buf.toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end < text.length - 1) {
      fs.ftruncateSync(fd, start + Buffer.byteLength(text.slice(0, end + 1)));
      text = text.slice(0, end + 1);
    }
    const lines = text.split('\n').filter(Boolean);
    if (start > 0) lines.shift(); // probably cut
    const last = lines[lines.length - 1]?.split('\t');
    return {
      balance: last ? Number(last[3]) || 0 : 0,
      refunded: lines
        .map((l) => l.split('\t'))
        .filter((f) => f[1] === 'refund')
        .map((f) => f[4] ?? ''),
    };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Where prepaid credit lives: the ledger files here, or the database (sql-billing.ts). A submit
 * reserves its cost before it is stored, commits it once stored (durable before the
 * submit_sm_resp), or releases it when the store failed; a message that failed for good is
 * refunded once.
 */
export interface CreditKeeper {
  /** Check and deduct; false (nothing deducted) when the credit does not cover it. */
  reserve(sid: string, id: string, amount: number, note: string): boolean | Promise<boolean>;
  commit(sid: string, id: string, amount: number, note: string): Promise<void>;
  release(sid: string, id: string, amount: number): void | Promise<void>;
  refund(sid: string, id: string, amount: number, note: string): Promise<boolean>;
  balance(sid: string): number | Promise<number>;
  topUp(sid: string, amount: number, note?: string): Promise<number>;
  close(): Promise<void>;
}

interface Pending {
  lines: string[];
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
}

const REFUNDS_REMEMBERED = 50_000;

export class Billing implements CreditKeeper {
  /** Available credit: the ledger's balance minus the reservations not yet charged. */
  private readonly balances = new Map<string, number>();
  /** The balance as the ledger lines written so far say (what a restart starts from). */
  private readonly booked = new Map<string, number>();
  private readonly refunded = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private flushing = false;
  private unlock: (() => void) | undefined;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Takes the ledgers for this process (fails if another smppd serve holds them). */
  open(): void {
    const release = ownDir(this.dir);
    if (!release) throw new Error(`${path.join(this.dir, '.lock')} belongs to a running process`);
    this.unlock = release;
  }

  balance(systemId: string): number {
    const sid = systemId.toLowerCase();
    let b = this.balances.get(sid);
    if (b === undefined) {
      const tail = readLedgerTail(ledgerFile(this.dir, sid));
      b = tail.balance;
      for (const id of tail.refunded) this.rememberRefund(sid, id);
      this.balances.set(sid, b);
      this.booked.set(sid, b);
    }
    return b;
  }

  /** Check and deduct in one step; false (nothing deducted) when the credit does not cover it. */
  reserve(systemId: string, _id: string, amount: number): boolean {
    const b = this.balance(systemId);
    if (amount > 0 && b + 1e-9 < amount) return false;
    this.balances.set(systemId.toLowerCase(), roundMoney(b - amount));
    return true;
  }

  /** A reservation whose message was not stored. */
  release(systemId: string, _id: string, amount: number): void {
    this.balances.set(systemId.toLowerCase(), roundMoney(this.balance(systemId) + amount));
  }

  /** Records a reserved charge durably (resolves after its fdatasync). */
  commit(systemId: string, id: string, amount: number, note: string): Promise<void> {
    return this.append(systemId, 'charge', -amount, id, note);
  }

  /** Gives the cost of a failed message back, once per message ID. */
  refund(systemId: string, id: string, amount: number, note: string): Promise<boolean> {
    const sid = systemId.toLowerCase();
    if (amount <= 0 || this.refunded.has(`${sid}\0${id}`)) return Promise.resolve(false);
    this.balances.set(sid, roundMoney(this.balance(sid) + amount));
    this.rememberRefund(sid, id);
    return this.append(sid, 'refund', amount, id, note).then(() => true);
  }

  topUp(systemId: string, amount: number, note = ''): Promise<number> {
    const sid = systemId.toLowerCase();
    this.balances.set(sid, roundMoney(this.balance(sid) + amount));
    return this.append(sid, 'topup', amount, '', note).then(() => this.balance(sid));
  }

  private rememberRefund(sid: string, id: string): void {
    if (this.refunded.size >= REFUNDS_REMEMBERED)
      this.refunded.delete(this.refunded.values().next().value ?? '');
    this.refunded.add(`${sid}\0${id}`);
  }

  private append(
    systemId: string,
    kind: LedgerKind,
    amount: number,
    id: string,
    note: string,
  ): Promise<void> {
    const sid = systemId.toLowerCase();
    this.balance(sid);
    const booked = roundMoney((this.booked.get(sid) ?? 0) + amount);
    this.booked.set(sid, booked);
    const line = formatLedgerLine(kind, amount, booked, id, note);
    let p = this.pending.get(sid);
    if (!p) this.pending.set(sid, (p = { lines: [], waiters: [] }));
    p.lines.push(line);
    const done = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
    return done;
  }

  /** One write and one fdatasync per ledger touched since the last flush, in libuv's thread pool. */
  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending];
      this.pending.clear();
      await Promise.all(
        batch.map(async ([sid, p]) => {
          try {
            const fh = await fs.promises.open(ledgerFile(this.dir, sid), 'a', 0o640);
            try {
              await fh.write(p.lines.join(''));
              await fh.datasync();
            } finally {
              await fh.close();
            }
            for (const w of p.waiters) w.resolve();
          } catch (err) {
            for (const w of p.waiters)
              w.reject(new Error(`billing ledger of ${sid}: ${(err as Error).message}`));
          }
        }),
      );
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    while (this.flushing || this.pending.size > 0) await new Promise((r) => setTimeout(r, 2));
    this.unlock?.();
    this.unlock = undefined;
  }
}

/**
 * `<dir>/.lock` holding our PID, created exclusively. A lock whose process is gone (kill -9) is
 * taken over at once, so a supervisor's restart is not held up by a stale lock.
 */
function ownDir(dir: string): (() => void) | undefined {
  const file = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = readIfExists(file, 'utf8');
    if (text === undefined) continue; // removed meanwhile
    const pid = Number.parseInt(text, 10);
    if (pid && pid !== process.pid && isProcessAlive(pid)) return undefined;
    fs.rmSync(file, { force: true });
  }
  return undefined;
}

/** `esme credit` without a running server: append a top-up under the same lock the server holds. */
export function topUpOffline(
  dir: string,
  systemId: string,
  amount: number,
  note: string,
): number | undefined {
  fs.mkdirSync(dir, { recursive: true });
  const release = ownDir(dir);
  if (!release) return undefined; // a server holds the ledgers
  try {
    const file = ledgerFile(dir, systemId);
    const balance = roundMoney(readLedgerTail(file).balance + amount);
    const fd = fs.openSync(file, 'a', 0o640);
    try {
      fs.writeSync(fd, formatLedgerLine('topup', amount, balance, '', note));
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return balance;
  } finally {
    release();
  }
}

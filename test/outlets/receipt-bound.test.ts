import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OutletReports, type OutletSent } from '../../src/lib/daemon/outlet-reports.js';

// The receipt index of an outlet (outlet-reports.ts) is bounded: ReceiptTimeout closes parts whose
// receipt never comes, ReceiptLimit the oldest when full, and the journal is compacted while running.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-receipt-bound-'));
  dirs.push(d);
  return d;
}
const part = (n: number, at: number, extra: Partial<OutletSent> = {}): OutletSent => ({
  id: `OUT${n}.txt`,
  part: 1,
  parts: 1,
  number: `+49${n}`,
  messageId: `id${n}`,
  sentAt: new Date(at).toISOString(),
  phoneId: 'up1',
  ...extra,
});
const journal = (dir: string) =>
  fs
    .readFileSync(path.join(dir, '.outlet-up1.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"id"'));
const report = (dir: string, n: number) =>
  JSON.parse(fs.readFileSync(path.join(dir, `OUT${n}.txt.01.json`), 'utf8')) as {
    category: string;
    description: string;
    history: { category: string }[];
  };

describe('receipt index bounds', () => {
  it('ReceiptTimeout: parts with no receipt are closed as "no receipt" (report category unknown), leave memory and, after compaction, the journal; a late receipt still finds its part', async () => {
    const dir = tmp();
    const r = new OutletReports(dir, 'up1', 'same', { receiptTimeoutMs: 60_000, compactMinBytes: 0 });
    const now = Date.now();
    for (let n = 0; n < 3; n++) await r.record(part(n, now - 120_000));
    await r.record(part(3, now - 1_000)); // young: stays
    await r.record(part(4, now - 120_000, { noReport: true })); // no receipt asked: never waits
    // An intermediate receipt for part 1 came; its final never does.
    const s1 = await r.match({ messageId: 'id1', state: 'accepted', at: new Date() });
    r.write({ messageId: 'id1', state: 'accepted', at: new Date() }, s1);
    expect(r.size).toBe(4);

    const closed = r.expire(now);
    expect(closed.map((c) => c.sent.id).sort()).toEqual(['OUT0.txt', 'OUT1.txt', 'OUT2.txt']);
    expect(r.size).toBe(1);
    expect(r.closedWithoutReceipt).toBe(3);
    expect(report(dir, 0)).toMatchObject({ category: 'unknown' });
    expect(report(dir, 0).description).toMatch(/no receipt within ReceiptTimeout \(60 s\)/);
    // The intermediate one is kept in the history.
    expect(report(dir, 1)).toMatchObject({ category: 'unknown', history: [{ category: 'pending' }] });
    expect(fs.existsSync(path.join(dir, 'OUT4.txt.01.json'))).toBe(false);

    // The messages were moved meanwhile: nothing but part 3 is live; compaction drops the rest.
    for (let n = 0; n < 5; n++) r.settled(`OUT${n}.txt`);
    await r.durable();
    const before = r.journalBytes;
    expect(await r.maybeCompact()).toBe(true);
    expect(r.journalBytes).toBeLessThan(before);
    expect(journal(dir).map((l) => (JSON.parse(l) as OutletSent).id)).toEqual(['OUT3.txt']);

    // A receipt after the close still finds its part (recent finals) and its state wins.
    const late = await r.match({ messageId: 'id2', state: 'delivered', at: new Date() });
    expect(late?.id).toBe('OUT2.txt');
    r.write({ messageId: 'id2', state: 'delivered', at: new Date() }, late);
    expect(report(dir, 2).category).toBe('delivered');
    await r.durable();
    r.close();

    // After a restart: only part 3 waits.
    const again = new OutletReports(dir, 'up1', 'same', { receiptTimeoutMs: 60_000 });
    expect(again.size).toBe(1);
    expect(again.recorded('OUT0.txt')).toBeUndefined();
    again.close();
  });

  it('a part whose final another daemon already stored is not overwritten by the close', async () => {
    const dir = tmp();
    const r = new OutletReports(dir, 'up1', 'same', { receiptTimeoutMs: 1_000 });
    await r.record(part(7, Date.now() - 5_000));
    fs.writeFileSync(
      path.join(dir, 'OUT7.txt.01.json'),
      JSON.stringify({
        id: 'OUT7.txt',
        part: 1,
        category: 'delivered',
        description: 'delivered',
        history: [],
      }),
    );
    expect(r.expire()).toHaveLength(1);
    expect(report(dir, 7).category).toBe('delivered');
    expect(r.size).toBe(0);
    r.close();
  });

  it('ReceiptLimit: at the limit the oldest part is closed (logged once a minute), the index never holds more', async () => {
    const dir = tmp();
    const logs: string[] = [];
    const r = new OutletReports(dir, 'up1', 'same', {
      receiptLimit: 5,
      log: (_l, m) => logs.push(m),
    });
    const now = Date.now();
    for (let n = 0; n < 8; n++) {
      await r.record(part(n, now + n));
      expect(r.size).toBeLessThanOrEqual(5);
    }
    expect(r.size).toBe(5);
    expect(r.closedWithoutReceipt).toBe(3);
    for (const n of [0, 1, 2]) {
      expect(report(dir, n).category).toBe('unknown');
      expect(report(dir, n).description).toMatch(/ReceiptLimit 5/);
    }
    for (const n of [3, 4, 5, 6, 7]) expect(fs.existsSync(path.join(dir, `OUT${n}.txt.01.json`))).toBe(false);
    expect(logs.filter((l) => /receipt index full \(ReceiptLimit = 5/.test(l))).toHaveLength(1);
    // A lower limit (SIGHUP) applies at once.
    r.configure({ timeoutMs: 3_600_000, limit: 2 });
    expect(r.size).toBe(2);
    await r.durable();
    r.close();
    const again = new OutletReports(dir, 'up1', 'same', { receiptLimit: 2 });
    expect(again.size).toBe(2);
    again.close();
  });

  it('a flood of parts whose receipts never come: the index stays at the limit, the journal near its live content', async () => {
    const dir = tmp();
    const r = new OutletReports(dir, 'up1', 'same', { receiptLimit: 200, compactMinBytes: 0 });
    const now = Date.now();
    let pending: Promise<void>[] = [];
    for (let n = 0; n < 600; n++) {
      pending.push(r.record(part(n, now + n)));
      if (pending.length === 100) {
        await Promise.all(pending);
        pending = [];
        // Moved to sent/ meanwhile; each compaction keeps only what still waits for a receipt.
        for (let k = n - 99; k <= n; k++) r.settled(`OUT${k}.txt`);
        await r.durable();
        await r.maybeCompact();
        expect(r.size).toBe(Math.min(200, n + 1));
      }
    }
    expect(r.closedWithoutReceipt).toBe(400);
    expect(r.waitingForJobs).toBe(0);
    // 200 live lines (about 130 bytes each), not 600 records + 400 report bodies.
    expect(journal(dir)).toHaveLength(200);
    expect(r.journalBytes).toBeLessThan(4 * 200 * 200);
    r.close();
  });

  it('takeover records: another daemon finds the parts a stopped one sent, its `settled` line clears them everywhere; stale ones age out', async () => {
    const dir = tmp();
    const a = new OutletReports(dir, 'up1', 'same');
    await a.record(part(1, Date.now(), { id: 'OUTX.txt', noReport: true }));
    await a.record(part(2, Date.now(), { id: 'OUTX.txt', part: 2, parts: 2 }));
    a.close(); // killed holding the claim
    const b = new OutletReports(dir, 'up2', 'same');
    const got = b.recorded('OUTX.txt');
    expect([...(got?.keys() ?? [])].sort()).toEqual([1, 2]);
    expect(got?.get(1)).toMatchObject({ messageId: 'id1', origin: 'up1', noReport: true });
    b.settled('OUTX.txt');
    await b.durable();
    expect(b.recorded('OUTX.txt')).toBeUndefined();
    // up1 restarted: its own journal has the parts, up2's journal says the message was moved.
    const a2 = new OutletReports(dir, 'up1', 'same');
    expect(a2.recorded('OUTX.txt')).toBeUndefined();
    // A resume record nobody settled for 7 days is forgotten.
    await a2.record(part(3, Date.now() - 8 * 86_400_000, { id: 'OUTOLD.txt', noReport: true }));
    expect(a2.recorded('OUTOLD.txt')).toBeDefined();
    a2.expire();
    expect(a2.recorded('OUTOLD.txt')).toBeUndefined();
    a2.close();
    b.close();
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { submitRequest } from './harness.js';
import { createTempDb, DEFAULT_TABLES, sendWholeOutbox, serverAvailable, type TempDb } from '../sql/db.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { SmppdDb } from '../../src/lib/smpp/sql/db.js';
import { SqlMessageStore } from '../../src/lib/smpp/sql/store.js';
import { SqlReceipts } from '../../src/lib/smpp/sql/receipts.js';
import { DeliveryQueue } from '../../src/lib/smpp/store/queue.js';
import { LatencyHistogram } from '../../src/lib/common/histogram.js';

// Two smppd nodes on one database: a node taken for dead (silent past NodeTimeout on a busy
// machine) while it is alive must not queue a receipt for a message the other node took over.

let db: TempDb | undefined;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await db?.drop();
  db = undefined;
});

async function node(dialect: SqlDialect, name: string, refund: SqlReceiptsRefund) {
  const options = {
    connection: (db as TempDb).options,
    tables: DEFAULT_TABLES,
    phoneId: 'ignored',
    loopSleep: 1,
    statusFrequency: 60,
    deliveryReportDelay: 600,
    deliveryReport: 'no' as const,
  };
  const smppdDb = await SmppdDb.open(options, name);
  const store = new SqlMessageStore(smppdDb);
  closers.push(() => store.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-receipts-'));
  const queue = new DeliveryQueue(dir);
  closers.push(() => {
    queue.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const logs: string[] = [];
  const receipts = new SqlReceipts({
    db: smppdDb,
    queue,
    refund,
    knownSystemId: (sid) => sid,
    queued: () => undefined,
    latency: new LatencyHistogram(),
    log: (level, m) => logs.push(`${level} ${m}`),
  });
  return { store, queue, receipts, logs, db: smppdDb };
}

type SqlReceiptsRefund = (sid: string, id: string, cost: number, why: string) => Promise<unknown>;

describe.each(['mysql', 'pgsql'] as const)(
  'SQL receipts and a node taken over while alive (%s)',
  (dialect) => {
    it('the node that lost a message queues no receipt for it; the one that took it over queues it once', async () => {
      if (!(await serverAvailable(dialect))) return;
      db = await createTempDb(dialect, 18);
      const admin = new SqlConnection(db.options);
      closers.push(() => admin.close());
      const q = (n: string) => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
      const p = (i: number) => (dialect === 'mysql' ? '?' : `$${i}`);
      // Node 1 is busy refunding (between reading its open rows and closing them) when node 2 takes
      // its open messages over, as SharedQueue.takeOver does for a node silent past NodeTimeout.
      let takenOver = 0;
      const takeOver: SqlReceiptsRefund = async () => {
        takenOver++;
        await admin.query(
          `UPDATE smppd_message SET ${q('node')} = ${p(1)} WHERE ${q('node')} = ${p(2)} AND ${q('state')} = 0`,
          ['node2', 'node1'],
        );
      };
      const one = await node(dialect, 'node1', takeOver);
      const two = await node(dialect, 'node2', () => Promise.resolve());
      for (const [i, id] of ['lost', 'kept'].entries())
        await new Promise<void>((resolve, reject) =>
          one.store.add(
            submitRequest(`+42060000000${i}`, `message ${id}`),
            {
              sid: 'shop',
              id,
              rd: 1,
              src: { ton: 0, npi: 0, addr: '' },
              at: new Date().toISOString(),
              ...(id === 'lost' ? { cost: 1 } : {}),
            },
            new Date(),
            (err) => (err ? reject(err) : resolve()),
          ),
        );
      // What smsd run does: 'lost' failed (a refund is due), 'kept' was delivered.
      await sendWholeOutbox(
        admin,
        dialect,
        `CASE WHEN ${q('TextDecoded')} = 'message lost' THEN 'SendingError' ELSE 'DeliveryOK' END`,
      );

      // Node 1: the refund (of 'lost') runs, node 2 takes both over meanwhile: node 1 queues nothing.
      await one.db.exclusive(() => one.receipts.page());
      expect(takenOver).toBe(1);
      expect(one.queue.has('receipt:sql:lost')).toBe(false);
      expect(one.queue.has('receipt:sql:kept')).toBe(false);
      expect(one.logs.join('\n')).toMatch(/2 open message\(s\) were taken over by another node/);
      const open = async () =>
        (
          await admin.query(
            `SELECT ${q('message_id')}, ${q('node')}, ${q('state')} FROM smppd_message ORDER BY ${q('message_id')}`,
          )
        ).rows.map((r) => r.map(String));
      expect(await open()).toEqual([
        ['kept', 'node2', '0'],
        ['lost', 'node2', '0'],
      ]);

      // Node 2 queues each receipt once and closes the rows.
      await two.db.exclusive(() => two.receipts.page());
      expect(two.queue.has('receipt:sql:lost')).toBe(true);
      expect(two.queue.has('receipt:sql:kept')).toBe(true);
      expect(two.queue.count('shop')).toBe(2);
      expect(await open()).toEqual([
        ['kept', 'node2', '1'],
        ['lost', 'node2', '1'],
      ]);
    });
  },
);

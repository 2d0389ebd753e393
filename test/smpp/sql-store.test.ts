import { afterEach, describe, expect, it } from 'vitest';
import { submitRequest } from './harness.js';
import { createTempDb, DEFAULT_TABLES, serverAvailable, type TempDb } from '../sql/db.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { SmppdDb } from '../../src/lib/smpp/sql/db.js';
import { SqlMessageStore } from '../../src/lib/smpp/sql/store.js';
import type { SubmitRequest } from '../../src/lib/smpp/protocol/mt.js';
import type { SmppMeta } from '../../src/lib/smpp/store/store.js';

// SqlMessageStore on its own, against the real servers: group commit and all-or-nothing batches.

let db: TempDb | undefined;
let store: SqlMessageStore | undefined;
afterEach(async () => {
  await store?.close();
  await db?.drop();
  store = undefined;
  db = undefined;
});

const meta = (id: string): SmppMeta => ({
  sid: 'shop',
  id,
  rd: 1,
  src: { ton: 0, npi: 0, addr: '' },
  at: new Date().toISOString(),
});

async function open(
  dialect: SqlDialect,
): Promise<{ store: SqlMessageStore; count: (t: string) => Promise<number> }> {
  db = await createTempDb(dialect, 18);
  const options = {
    connection: db.options,
    tables: DEFAULT_TABLES,
    phoneId: 'ignored',
    loopSleep: 1,
    statusFrequency: 60,
    deliveryReportDelay: 600,
    deliveryReport: 'no' as const,
  };
  store = new SqlMessageStore(await SmppdDb.open(options, 'node1'));
  const conn = new SqlConnection(db.options);
  return {
    store,
    count: async (t) => {
      try {
        return Number((await conn.query(`SELECT COUNT(*) FROM ${t}`)).rows[0]?.[0]);
      } finally {
        await conn.close();
      }
    },
  };
}

/** The store's callback as a promise, for these tests. */
const add = (store: SqlMessageStore, ...args: [SubmitRequest, SmppMeta, Date]): Promise<string> =>
  new Promise((resolve, reject) => store.add(...args, (err, name) => (err ? reject(err) : resolve(name))));

describe.each(['mysql', 'pgsql', 'sqlite'] as const)('SqlMessageStore on %s', (dialect) => {
  it('commits submits that arrive during a commit together, each answered after its commit', async () => {
    if (!(await serverAvailable(dialect))) return;
    const { store, count } = await open(dialect);
    const n = 400;
    const names = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        add(
          store,
          submitRequest(`+42060000${String(i).padStart(4, '0')}`, `message ${i}`),
          meta(`m${i}`),
          new Date(),
        ),
      ),
    );
    expect(names[7]).toBe('sql:m7');
    expect(store.stats.messages).toBe(n);
    // The first submit commits alone; the rest piled up behind it.
    expect(store.stats.batches).toBeLessThan(10);
    expect(await count('outbox')).toBe(n);
    expect(await count('smppd_message')).toBe(n);
  });

  it('refuses the whole batch when one of its rows fails, leaving nothing of it behind', async () => {
    if (!(await serverAvailable(dialect))) return;
    const { store, count } = await open(dialect);
    await add(store, submitRequest('+420600000001', 'first'), meta('first'), new Date());
    // Two messages with one ID: the second smppd_message row breaks the primary key, after both
    // outbox rows were inserted; the rollback takes them all.
    const batch = await Promise.allSettled([
      add(store, submitRequest('+420600000002', 'a'), meta('twice'), new Date()),
      add(store, submitRequest('+420600000003', 'b'), meta('twice'), new Date()),
      add(store, submitRequest('+420600000004', 'c'), meta('innocent'), new Date()),
    ]);
    // The first of them may have committed alone (nothing was running when it came).
    const refused = batch.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/SQL outbox in .*: /);
    const stored = 1 + batch.filter((r) => r.status === 'fulfilled').length;
    expect(await count('outbox')).toBe(stored);
    expect(await count('smppd_message')).toBe(stored);
    // The store goes on.
    expect(await add(store, submitRequest('+420600000005', 'after'), meta('after'), new Date())).toBe(
      'sql:after',
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { initKsmppdSchema } from '../../src/lib/smpp/sql/schema.js';
import { SqlBilling } from '../../src/lib/smpp/sql/billing.js';
import { createTempDb, serverAvailable, type TempDb } from './db.js';

const ALL = ['mysql', 'pgsql', 'sqlite'] as const;

describe.each(ALL)('prepaid credit in the database (%s)', (dialect: SqlDialect) => {
  let db: TempDb | undefined;
  let available = true;
  beforeAll(async () => {
    available = await serverAvailable(dialect);
    if (!available) return;
    db = await createTempDb(dialect);
    const c = new SqlConnection(db.options);
    try {
      await initKsmppdSchema(c, { user: 'smpp_user', route: 'smpp_route', version: 'smpp_version' });
      await c.query(
        `INSERT INTO smpp_user (system_id, password, default_cost, enable_prepaid_billing, credit, simulate_deliver_every, simulate_permanent_failure_every, simulate_temporary_failure_every, simulate_mo_every) VALUES ('shop', 'x', 0, 1, 0, 0, 0, 0, 0)`,
      );
    } finally {
      await c.close();
    }
  });
  afterAll(async () => db?.drop());

  const open = async (node: string) => {
    const b = new SqlBilling(new SqlConnection({ ...(db as TempDb).options }), node);
    await b.init();
    return b;
  };
  const ledger = async (sql: string) => {
    const c = new SqlConnection({ ...(db as TempDb).options });
    try {
      return (await c.query(sql)).rows.map((r) => r.map((v) => (typeof v === 'number' ? v : String(v))));
    } finally {
      await c.close();
    }
  };

  it('tops up, reserves, refunds once, and after a crash releases charges whose message was never stored', async () => {
    if (!available) return;
    const a = await open('node-a');
    expect(await a.topUp('shop', 3, 'test')).toBe(3);
    expect(
      await Promise.all([
        a.reserve('shop', 'm1', 1, ''),
        a.reserve('shop', 'm2', 1.5, ''),
        a.reserve('shop', 'm3', 1, ''),
      ]),
    ).toEqual([
      true,
      true,
      false, // 0.5 left: refused, nothing taken
    ]);
    await a.commit('shop', 'm1');
    expect(await a.refund('shop', 'm1', 1, 'failed for good')).toBe(true);
    expect(await a.refund('shop', 'm1', 1, 'again')).toBe(false);
    expect(await a.balance('shop')).toBe(1.5);
    await a.close(); // m2 was charged but its message never confirmed: as after kill -9
    const again = await open('node-a');
    expect(await again.reconcile(async (_sid, id) => id === 'm1')).toEqual({ kept: 0, released: 1 });
    expect(await again.balance('shop')).toBe(3);
    expect(await again.reconcile(async () => false)).toEqual({ kept: 0, released: 0 }); // settled once
    await again.close();
    expect(await ledger(`SELECT kind, amount, message_id FROM smppd_ledger ORDER BY id`)).toEqual([
      ['topup', 3, ''],
      ['charge', -1, 'm1'],
      ['charge', -1.5, 'm2'],
      ['refund', 1, 'm1'],
      ['release', 1.5, 'm2'],
    ]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import smpp, { type PDU, type Session } from 'smpp';
import { bind, startTestSmppd, type TestSmppd } from './harness.js';
import { createTempDb, serverAvailable, SERVERS, type TempDb } from '../sql/db.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';
import { initKsmppdSchema } from '../../src/lib/smpp/sql/schema.js';
import { hashPassword } from '../../src/lib/smpp/policy/accounts.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';

// Two `smppd serve` nodes on one KSMPPD database: an account's throughput holds for the sum of its
// binds on both (shared by demand every 250 ms through smppd_rate), not per node.

const LIMIT = 40;
let nodes: TestSmppd[] = [];
let db: TempDb | undefined;
afterEach(async () => {
  for (const n of nodes) {
    await n.stop();
    n.spool.cleanup();
  }
  nodes = [];
  await db?.drop();
  db = undefined;
});

/** Submits as fast as a window of 20 allows for `ms`; counts ROK after `fromMs`. */
function flood(s: Session, ms: number, fromMs: number): Promise<number> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let inFlight = 0;
    let ok = 0;
    const next = (): void => {
      while (inFlight < 20 && Date.now() - t0 < ms) {
        inFlight++;
        s.send(
          new smpp.PDU('submit_sm', {
            destination_addr: '+420777000111',
            data_coding: 0,
            short_message: Buffer.from(encodeGsm7('hi')),
          }),
          (r: PDU) => {
            inFlight--;
            if (r.command_status === 0 && Date.now() - t0 >= fromMs) ok++;
            // Throttled: try again a little later, as an ESME would.
            if (r.command_status === 0x58) setTimeout(next, 5);
            else next();
          },
        );
      }
      if (inFlight === 0 && Date.now() - t0 >= ms) resolve(ok);
    };
    next();
  });
}

describe('two smppd nodes on one database', () => {
  it('share an account throughput limit instead of doubling it', async () => {
    if (!(await serverAvailable('mysql'))) return;
    db = await createTempDb('mysql');
    const c = new SqlConnection(db.options);
    try {
      await initKsmppdSchema(c, { user: 'smpp_user', route: 'smpp_route', version: 'smpp_version' });
      await c.query(
        `INSERT INTO smpp_user (system_id, password, throughput, default_smsc, default_cost, simulate_deliver_every, simulate_permanent_failure_every, simulate_temporary_failure_every, simulate_mo_every) VALUES ('bulk', ?, ${LIMIT}, '*', 0, 0, 0, 0, 0)`,
        [await hashPassword('bulk1', { N: 1024, r: 8, p: 1 })],
      );
    } finally {
      await c.close();
    }
    const keys = `AccountsSource = sql\nSqlDriver = native_mysql\nSqlHost = ${SERVERS.mysql.host}\nSqlUser = root\nSqlDatabase = ${db.name}\n`;
    // No NodeId: the default names must tell two nodes on one host apart.
    nodes.push(await startTestSmppd([], keys));
    nodes.push(await startTestSmppd([], keys));
    const sessions = await Promise.all(nodes.map((n) => bind(n.port, 'bulk', 'bulk1')));
    expect(sessions.map((s) => s.resp.command_status)).toEqual([0, 0]);
    // A 5 s window: answers of submits in flight when it opens (up to 40) and a burst after a
    // stall of a loaded machine weigh 2.5 times less than in 2 s.
    const MS = 6_000;
    const FROM = 1_000; // after the buckets' first second and the first exchanges
    const accepted = await Promise.all(sessions.map((s) => flood(s.session, MS, FROM)));
    const rate = (accepted[0]! + accepted[1]!) / ((MS - FROM) / 1000);
    // Per node it would be 2 x LIMIT; shared it stays within 20 % of LIMIT.
    expect(rate).toBeGreaterThan(LIMIT * 0.8);
    expect(rate).toBeLessThan(LIMIT * 1.2);
    for (const s of sessions) s.session.close();
  }, 40_000);

  it.each(['mysql', 'pgsql'] as const)(
    'bill one prepaid account in the database exactly, whatever node takes the submit (%s)',
    async (dialect) => {
      if (!(await serverAvailable(dialect))) return;
      db = await createTempDb(dialect);
      const c = new SqlConnection(db.options);
      const p = (i: number) => (dialect === 'mysql' ? '?' : `$${i}`);
      try {
        await initKsmppdSchema(c, { user: 'smpp_user', route: 'smpp_route', version: 'smpp_version' });
        await c.query(
          `INSERT INTO smpp_user (system_id, password, throughput, default_smsc, default_cost, enable_prepaid_billing, credit, simulate_deliver_every, simulate_permanent_failure_every, simulate_temporary_failure_every, simulate_mo_every) VALUES ('shop', ${p(1)}, 0, '*', 0.5, 1, 60, 0, 0, 0, 0)`,
          [await hashPassword('shop1', { N: 1024, r: 8, p: 1 })],
        );
      } finally {
        await c.close();
      }
      const driver = dialect === 'mysql' ? 'native_mysql' : 'native_pgsql';
      const keys = `AccountsSource = sql\nSqlDriver = ${driver}\nSqlHost = ${SERVERS[dialect].host}\nSqlUser = ${SERVERS[dialect].user}\nSqlDatabase = ${db.name}\n`;
      nodes.push(await startTestSmppd([], `${keys}NodeId = node-a\n`));
      nodes.push(await startTestSmppd([], `${keys}NodeId = node-b\n`));
      const sessions = await Promise.all(nodes.map((n) => bind(n.port, 'shop', 'shop1')));
      // 2 x 100 submits at once at 0.5 each against a credit of 60: exactly 120 go through.
      const results = await Promise.all(
        sessions.map(
          (x) =>
            new Promise<number[]>((resolve) => {
              const statuses: number[] = [];
              for (let i = 0; i < 100; i++)
                x.session.send(
                  new smpp.PDU('submit_sm', {
                    destination_addr: `+42077700${String(i).padStart(4, '0')}`,
                    data_coding: 0,
                    short_message: Buffer.from(encodeGsm7('paid')),
                  }),
                  (r: PDU) => {
                    statuses.push(r.command_status);
                    if (statuses.length === 100) resolve(statuses);
                  },
                );
            }),
        ),
      );
      const all = results.flat();
      expect(all.filter((st) => st === 0)).toHaveLength(120);
      expect(all.filter((st) => st === 0x45)).toHaveLength(80);
      expect(results.every((r) => r.includes(0))).toBe(true); // both nodes sold some
      const q = new SqlConnection(db.options);
      try {
        expect(
          Number((await q.query(`SELECT credit FROM smpp_user WHERE system_id = 'shop'`)).rows[0]?.[0]),
        ).toBe(0);
        const ledger = await q.query(
          `SELECT node, COUNT(*), SUM(amount) FROM smppd_ledger WHERE kind = 'charge' GROUP BY node ORDER BY node`,
        );
        expect(ledger.rows.reduce((n, r) => n + Number(r[1]), 0)).toBe(120);
        expect(ledger.rows.reduce((n, r) => n + Number(r[2]), 0)).toBe(-60);
        expect(ledger.rows.map((r) => String(r[0]))).toEqual(['node-a', 'node-b']);
      } finally {
        await q.close();
      }
      for (const x of sessions) x.session.close();
    },
    30_000,
  );
});

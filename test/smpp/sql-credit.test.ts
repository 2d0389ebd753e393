import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import smpp, { type PDU, type Session } from 'smpp';
import { bind, smppdConfig, startTestSmppd, type TestSmppd } from './harness.js';
import { waitFor } from '../helpers/rig.js';
import { makeSpool, ROOT, type TempSpool } from '../helpers/spool.js';
import { createTempDb, serverAvailable, SERVERS, type TempDb } from '../sql/db.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { initKsmppdSchema } from '../../src/lib/smpp/sql/schema.js';
import { hashPassword } from '../../src/lib/smpp/policy/accounts.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';

// KSMPPD's prepaid credit in the SQL outbox's own database: each batch's charges are taken in the
// transaction that stores its messages. Two nodes never sell more than the credit, a rolled-back
// batch neither charges nor stores, and the submit_sm_resp comes only after the commit.

let db: TempDb | undefined;
let node: TestSmppd | undefined;
const children: ChildProcess[] = [];
const spools: TempSpool[] = [];
const sessions: Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await node?.stop();
  node = undefined;
  for (const s of spools.splice(0)) s.cleanup();
  await db?.drop();
  db = undefined;
});

const ACCOUNTS = [
  ['shop', 100], // the one that runs out
  ['rich', 1_000_000],
] as const;

/** A database with KSMPPD's tables and the accounts above at one unit per part; its smppd keys. */
async function setUp(dialect: SqlDialect): Promise<{ keys: string; conn: () => SqlConnection }> {
  db = await createTempDb(dialect, 18);
  const p = (i: number) => (dialect === 'mysql' ? '?' : `$${i}`);
  const conn = new SqlConnection(db.options);
  try {
    await initKsmppdSchema(conn, { user: 'smpp_user', route: 'smpp_route', version: 'smpp_version' });
    for (const [sid, credit] of ACCOUNTS)
      await conn.query(
        `INSERT INTO smpp_user (system_id, password, throughput, default_smsc, default_cost, enable_prepaid_billing, credit, simulate_deliver_every, simulate_permanent_failure_every, simulate_temporary_failure_every, simulate_mo_every) VALUES (${p(1)}, ${p(2)}, 0, '*', 1, 1, ${credit}, 0, 0, 0, 0)`,
        [sid, await hashPassword(`${sid}1`, { N: 1024, r: 8, p: 1 })],
      );
  } finally {
    await conn.close();
  }
  const keys = `AccountsSource = sql\nSqlDriver = native_${dialect}\nSqlHost = ${SERVERS[dialect].host}\nSqlUser = ${SERVERS[dialect].user}\nSqlDatabase = ${db.name}\n`;
  const opts = db.options;
  return { keys, conn: () => new SqlConnection(opts) };
}

/** A spool whose [smsd] is the test database's SQL service. */
function sqlSpool(): TempSpool {
  const s = makeSpool();
  spools.push(s);
  fs.writeFileSync(
    s.config,
    fs.readFileSync(s.config, 'utf8').replace('service = files\n', (db as TempDb).configLines),
  );
  return s;
}

async function startNode(keys: string): Promise<number> {
  const made = await smppdConfig([], keys, sqlSpool());
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'smppd.js'), 'serve', '-c', made.configFile],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const m = await waitFor(() => /listening on 127\.0\.0\.1:(\d+)/.exec(out), 20_000, `smppd start:\n${out}`);
  return Number(m[1]);
}

async function session(port: number, sid: string): Promise<Session> {
  const b = await bind(port, sid, `${sid}1`, 'bind_transmitter');
  expect(b.resp.command_status).toBe(0);
  sessions.push(b.session);
  return b.session;
}

/** Sends every destination at once (no window); each destination's command_status. */
function burst(s: Session, destinations: readonly string[], text = 'paid'): Promise<Map<string, number>> {
  return new Promise((resolve) => {
    const got = new Map<string, number>();
    for (const d of destinations)
      s.send(
        new smpp.PDU('submit_sm', {
          destination_addr: d,
          data_coding: 0,
          short_message: Buffer.from(encodeGsm7(text)),
        }),
        (r: PDU) => {
          got.set(d, r.command_status);
          if (got.size === destinations.length) resolve(got);
        },
      );
  });
}

const dests = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `+420${prefix}${String(i).padStart(5, '0')}`);

async function rows(c: SqlConnection, sql: string): Promise<string[][]> {
  return (await c.query(sql)).rows.map((r) => r.map((v) => String(v)));
}

describe.each(['mysql', 'pgsql'] as const)('prepaid credit in the outbox transaction (%s)', (dialect) => {
  it('two nodes, many binds: exactly the credit is sold, and outbox rows = accepted = credit spent', async () => {
    if (!(await serverAvailable(dialect))) return;
    const { keys, conn } = await setUp(dialect);
    const ports = [await startNode(`${keys}NodeId = node-a\n`), await startNode(`${keys}NodeId = node-b\n`)];
    // 2 nodes x 3 binds x 50 = 300 submits of `shop` (credit 100), and `rich` in the same batches.
    const shopBinds: Promise<Map<string, number>>[] = [];
    const richBinds: Promise<Map<string, number>>[] = [];
    let k = 0;
    for (const port of ports)
      for (let b = 0; b < 3; b++) {
        const [shop, rich] = [await session(port, 'shop'), await session(port, 'rich')];
        shopBinds.push(burst(shop, dests(`1${k}`, 50)));
        richBinds.push(burst(rich, dests(`2${k}`, 20)));
        k++;
      }
    const shop = new Map((await Promise.all(shopBinds)).flatMap((m) => [...m]));
    const rich = new Map((await Promise.all(richBinds)).flatMap((m) => [...m]));
    const statuses = [...shop.values()];
    expect(statuses.filter((st) => st === 0)).toHaveLength(100);
    expect(statuses.filter((st) => st === 0x45)).toHaveLength(200); // ESME_RSUBMITFAIL, as before
    expect([...rich.values()].every((st) => st === 0)).toBe(true);
    const c = conn();
    try {
      const accepted = [...shop].filter(([, st]) => st === 0).map(([d]) => d);
      const stored = await rows(
        c,
        `SELECT o.${q(dialect, 'DestinationNumber')} FROM outbox o JOIN smppd_message m ON m.outbox_id = o.${q(dialect, 'ID')} WHERE m.system_id = 'shop'`,
      );
      expect(stored.map((r) => r[0]).sort()).toEqual(accepted.sort());
      expect(await rows(c, 'SELECT COUNT(*) FROM outbox')).toEqual([['220']]);
      expect(await rows(c, 'SELECT COUNT(*) FROM smppd_message')).toEqual([['220']]);
      expect(await rows(c, `SELECT credit FROM smpp_user ORDER BY system_id`)).toEqual([['999880'], ['0']]);
      // One final charge per stored message, nothing left to confirm or release.
      expect(
        await rows(
          c,
          `SELECT system_id, kind, confirmed, COUNT(*), SUM(amount) FROM smppd_ledger GROUP BY system_id, kind, confirmed ORDER BY system_id`,
        ),
      ).toEqual([
        ['rich', 'charge', '1', '120', '-120'],
        ['shop', 'charge', '1', '100', '-100'],
      ]);
      const nodes = await rows(c, `SELECT DISTINCT node FROM smppd_ledger ORDER BY node`);
      expect(nodes).toEqual([['node-a'], ['node-b']]);
    } finally {
      await c.close();
    }
  }, 90_000);

  it('a batch the database rolls back mid-transaction is neither charged nor stored', async () => {
    if (!(await serverAvailable(dialect))) return;
    const { keys, conn } = await setUp(dialect);
    const POISON = '+420999999999';
    const c = conn();
    try {
      node = await startTestSmppd([], keys, sqlSpool()); // creates smppd_ledger
      // The ledger insert (after the outbox rows, before the credit) fails for one destination.
      if (dialect === 'pgsql') {
        await c.query(
          `CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.note LIKE '%${POISON}' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
        );
        await c.query(
          `CREATE TRIGGER boom BEFORE INSERT ON smppd_ledger FOR EACH ROW EXECUTE FUNCTION boom()`,
        );
      } else
        await c.query(
          `CREATE TRIGGER boom BEFORE INSERT ON smppd_ledger FOR EACH ROW BEGIN IF NEW.note LIKE '%${POISON}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; END IF; END`,
        );
      const s = await session(node.port, 'shop');
      const good = dests('3', 30);
      const got = await burst(s, [...good.slice(0, 15), POISON, ...good.slice(15)]);
      expect(got.get(POISON)).toBe(0x08); // ESME_RSYSERR: submit again later
      const ok = [...got].filter(([, st]) => st === 0).map(([d]) => d);
      const failed = [...got].filter(([, st]) => st === 0x08).map(([d]) => d);
      expect(ok.length + failed.length).toBe(31);
      const stored = await rows(c, `SELECT ${q(dialect, 'DestinationNumber')} FROM outbox`);
      expect(stored.map((r) => r[0]).sort()).toEqual([...ok].sort());
      expect(await rows(c, `SELECT COUNT(*) FROM smppd_message`)).toEqual([[String(ok.length)]]);
      expect(await rows(c, `SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM smppd_ledger`)).toEqual([
        [String(ok.length), String(-ok.length)],
      ]);
      expect(await rows(c, `SELECT credit FROM smpp_user WHERE system_id = 'shop'`)).toEqual([
        [String(100 - ok.length)],
      ]);
      // The connection is fine after the rollback: the refused ones go through when sent again.
      const again = await burst(
        s,
        failed.filter((d) => d !== POISON),
      ).catch(() => new Map<string, number>());
      expect([...again.values()].every((st) => st === 0)).toBe(true);
      expect(await rows(c, `SELECT credit FROM smpp_user WHERE system_id = 'shop'`)).toEqual([
        [String(100 - ok.length - again.size)],
      ]);
    } finally {
      await c.close();
    }
  }, 60_000);

  it('answers a submit only after its transaction committed (the account row held by another)', async () => {
    if (!(await serverAvailable(dialect))) return;
    const { keys, conn } = await setUp(dialect);
    node = await startTestSmppd([], keys, sqlSpool());
    const s = await session(node.port, 'shop');
    const holder = conn();
    const look = conn();
    try {
      await holder.query(dialect === 'mysql' ? 'START TRANSACTION' : 'BEGIN');
      await holder.query(`SELECT credit FROM smpp_user WHERE system_id = 'shop' FOR UPDATE`);
      let answered: number | undefined;
      void burst(s, ['+420555000001']).then((m) => (answered = m.get('+420555000001')));
      // The store's transaction waits for the row: no answer, and nothing visible, meanwhile.
      const waiting =
        dialect === 'pgsql'
          ? `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
          : // The store's statement on the account row, blocked (INNODB_TRX does not always list the
            // waiting transaction here, so the process list's running UPDATE counts too).
            `SELECT COUNT(*) FROM information_schema.PROCESSLIST p WHERE p.DB = DATABASE() AND p.COMMAND <> 'Sleep' AND p.INFO LIKE 'UPDATE smpp_user%'`;
      await waitFor(
        async () => answered !== undefined || Number((await look.query(waiting)).rows[0]?.[0]) > 0,
        20_000,
        'the store waiting for the row',
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(answered).toBeUndefined();
      expect(await rows(look, 'SELECT COUNT(*) FROM outbox')).toEqual([['0']]);
      await holder.query('COMMIT');
      await waitFor(() => answered !== undefined, 10_000, 'the answer after the commit');
      expect(answered).toBe(0);
      // Committed before the answer: a fresh reader sees the message and its charge at once.
      expect(await rows(look, 'SELECT COUNT(*) FROM outbox')).toEqual([['1']]);
      expect(await rows(look, `SELECT credit FROM smpp_user WHERE system_id = 'shop'`)).toEqual([['99']]);
    } finally {
      await holder.close();
      await look.close();
    }
  }, 60_000);
});

function q(dialect: SqlDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

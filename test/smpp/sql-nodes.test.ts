import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import smpp, { type PDU, type Session } from 'smpp';
import { bind, call, collectDelivers, smppdConfig, startTestSmppd, type TestSmppd } from './harness.js';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { makeSpool, ROOT } from '../helpers/spool.js';
import { createTempDb, sendWholeOutbox, serverAvailable, SERVERS, type TempDb } from '../sql/db.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';
import { initKsmppdSchema } from '../../src/lib/smpp/sql/schema.js';
import { hashPassword } from '../../src/lib/smpp/policy/accounts.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';

// Two `smppd serve` nodes on one database with Service = sql and the real `smsd run` on the
// emulator: receipts reach the ESME through whichever node its receiver is bound to, and when a
// node is killed (SIGKILL), the other takes over its open messages and their receipts.

let rig: Rig | undefined;
let db: TempDb | undefined;
let nodeB: TestSmppd | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await nodeB?.stop();
  nodeB?.spool.cleanup();
  nodeB = undefined;
  await rig?.close();
  rig = undefined;
  await db?.drop();
  db = undefined;
});

function startNode(config: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'smppd.js'), 'serve', '-c', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  return waitFor(() => /listening on 127\.0\.0\.1:(\d+)/.exec(out), 15_000, 'node A start').then((m) => ({
    child,
    port: Number(m[1]),
  }));
}

const submit = (s: Session, i: number): Promise<PDU> =>
  call(s, 'submit_sm', {
    source_addr: '12345',
    destination_addr: `+4207770${String(i).padStart(5, '0')}`,
    data_coding: 0,
    short_message: Buffer.from(encodeGsm7(`receipt test ${i}`)),
    registered_delivery: 1,
  });

describe('two smppd nodes on one SQL database', () => {
  it('deliver receipts through the node the receiver is bound to, and take over a killed node', async () => {
    if (!(await serverAvailable('mysql'))) return;
    db = await createTempDb('mysql', 18);
    rig = await startRig({
      config: `${FAST_TIMERS}DeliveryReport = log\nPhoneID = run1\n`,
      startDaemon: false,
    });
    const toSql = (file: string) =>
      fs.writeFileSync(
        file,
        fs.readFileSync(file, 'utf8').replace('service = files\n', (db as TempDb).configLines),
      );
    toSql(rig.spool.config);
    const accounts = [{ systemId: 'shop', password: 'pw123' }];
    // Node A: its own process (so it can be killed), node B: in this process.
    const a = await smppdConfig(accounts, 'NodeTimeout = 1\n', rig.spool);
    const nodeA = await startNode(a.configFile);
    const spoolB = makeSpool();
    toSql(spoolB.config);
    nodeB = await startTestSmppd(accounts, 'NodeTimeout = 1\n', spoolB);
    rig.startDaemon();

    // 1. Submits through A, the receiver bound to B: every receipt arrives at B, once.
    const tx = await bind(nodeA.port, 'shop', 'pw123', 'bind_transmitter');
    const rx = await bind(nodeB.port, 'shop', 'pw123', 'bind_receiver');
    const got = collectDelivers(rx.session);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(String((await submit(tx.session, i)).message_id));
    await waitFor(() => got.length >= 20, 30_000, '20 receipts through node B', rig);
    await new Promise((r) => setTimeout(r, 1_500)); // none more comes (no duplicates)
    expect(got.map((p) => String(p.receipted_message_id)).sort()).toEqual([...ids].sort());

    // 2. Submits through A while the modem is away, then A is killed: B takes its open messages
    // over and delivers their receipts once the modem sends them.
    rig.emulator.modem.setFault({ hang: true });
    const later: string[] = [];
    for (let i = 20; i < 30; i++) later.push(String((await submit(tx.session, i)).message_id));
    nodeA.child.kill('SIGKILL');
    await new Promise<void>((r) => nodeA.child.once('exit', () => r()));
    rig.emulator.modem.setFault({ hang: false });
    await waitFor(() => got.length >= 30, 45_000, '10 receipts of the killed node through node B', rig);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(
      got
        .slice(20)
        .map((p) => String(p.receipted_message_id))
        .sort(),
    ).toEqual([...later].sort());
    expect(new Set(got.map((p) => String(p.receipted_message_id))).size).toBe(30);
    rx.session.close();
  }, 120_000);
});

describe.each(['mysql', 'pgsql'] as const)(
  'two smppd nodes, KSMPPD accounts and prepaid credit, 10,000 submits (%s)',
  (dialect) => {
    it('store every accepted message once, bill exactly, and deliver each receipt once through the node the receiver is bound to, one node killed', async () => {
      if (!(await serverAvailable(dialect))) return;
      db = await createTempDb(dialect, 18);
      const p = (i: number) => (dialect === 'mysql' ? '?' : `$${i}`);
      const conn = new SqlConnection(db.options);
      const PER_NODE = 5_000;
      const CREDIT = 9_000; // one unit per message: 1,000 of the 10,000 are refused
      try {
        await initKsmppdSchema(conn, { user: 'smpp_user', route: 'smpp_route', version: 'smpp_version' });
        await conn.query(
          `INSERT INTO smpp_user (system_id, password, throughput, default_smsc, default_cost, enable_prepaid_billing, credit, simulate_deliver_every, simulate_permanent_failure_every, simulate_temporary_failure_every, simulate_mo_every) VALUES ('bulk', ${p(1)}, 0, '*', 1, 1, ${CREDIT}, 0, 0, 0, 0)`,
          [await hashPassword('bulk1', { N: 1024, r: 8, p: 1 })],
        );
      } finally {
        await conn.close();
      }
      const keys = `AccountsSource = sql\nSqlDriver = native_${dialect}\nSqlHost = ${SERVERS[dialect].host}\nSqlUser = ${SERVERS[dialect].user}\nSqlDatabase = ${db.name}\nNodeTimeout = 1\n`;
      const spoolA = makeSpool();
      const spoolB = makeSpool();
      for (const s of [spoolA, spoolB])
        fs.writeFileSync(
          s.config,
          fs.readFileSync(s.config, 'utf8').replace('service = files\n', (db as TempDb).configLines),
        );
      const a = await smppdConfig([], `${keys}NodeId = node-a\n`, spoolA);
      const nodeA = await startNode(a.configFile);
      nodeB = await startTestSmppd([], `${keys}NodeId = node-b\n`, spoolB);
      // Clients on both nodes; the receiver on B.
      const txA = await bind(nodeA.port, 'bulk', 'bulk1', 'bind_transmitter');
      const txB = await bind(nodeB.port, 'bulk', 'bulk1', 'bind_transmitter');
      const rx = await bind(nodeB.port, 'bulk', 'bulk1', 'bind_receiver');
      const got = collectDelivers(rx.session);
      // The receiver hears nothing while the flood lasts; on a loaded machine that passes
      // EnquireLinkInterval, and a receiver that leaves enquire_link unanswered is closed.
      rx.session.on('enquire_link', (p: PDU) => rx.session.send(p.response()));
      const flood = (s: Session, base: number) =>
        new Promise<{ ok: string[]; refused: number }>((resolve) => {
          const ok: string[] = [];
          let refused = 0;
          let sent = 0;
          const next = (): void => {
            while (sent < PER_NODE && sent - ok.length - refused < 100) {
              const i = base + sent++;
              s.send(
                new smpp.PDU('submit_sm', {
                  destination_addr: `+42077${String(i).padStart(7, '0')}`,
                  data_coding: 0,
                  short_message: Buffer.from(encodeGsm7(`bulk ${i}`)),
                  registered_delivery: 1,
                }),
                (r: PDU) => {
                  if (r.command_status === 0) ok.push(String(r.message_id));
                  else if (r.command_status === 0x45) refused++;
                  if (ok.length + refused === PER_NODE) resolve({ ok, refused });
                  else next();
                },
              );
            }
          };
          next();
        });
      const [fromA, fromB] = await Promise.all([flood(txA.session, 0), flood(txB.session, PER_NODE)]);
      const accepted = [...fromA.ok, ...fromB.ok];
      expect(accepted).toHaveLength(CREDIT);
      expect(new Set(accepted).size).toBe(CREDIT);
      expect(fromA.ok.length).toBeGreaterThan(0);
      expect(fromB.ok.length).toBeGreaterThan(0);
      // Node A dies with all its messages still open.
      nodeA.child.kill('SIGKILL');
      await new Promise<void>((r) => nodeA.child.once('exit', () => r()));
      const q = new SqlConnection(db.options);
      try {
        const one = async (sql: string) => Number((await q.query(sql)).rows[0]?.[0]);
        expect(await one('SELECT COUNT(*) FROM outbox')).toBe(CREDIT);
        expect(await one('SELECT COUNT(DISTINCT message_id) FROM smppd_message')).toBe(CREDIT);
        expect(await one(`SELECT credit FROM smpp_user WHERE system_id = 'bulk'`)).toBe(0);
        expect(await one(`SELECT COUNT(*) FROM smppd_ledger WHERE kind = 'charge'`)).toBe(CREDIT);
        // What smsd run does, in bulk: every message sent and delivered (sentitems), out of the outbox.
        await sendWholeOutbox(q, dialect);
      } finally {
        await q.close();
      }
      await waitFor(() => got.length >= CREDIT, 240_000, `${CREDIT} receipts through node B`).catch(
        (err: Error) => {
          throw new Error(`${err.message} (${got.length} came)\n${nodeB?.logs.slice(-20).join('\n')}`);
        },
      );
      await new Promise((r) => setTimeout(r, 1_500)); // and none twice
      const receipted = got.map((p) => String(p.receipted_message_id));
      expect(receipted).toHaveLength(CREDIT);
      expect(new Set(receipted)).toEqual(new Set(accepted));
      for (const x of [txA, txB, rx]) x.session.close();
      spoolA.cleanup();
    }, 420_000);
  },
);

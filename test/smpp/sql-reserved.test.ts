import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import { bind, bindCollecting, call, smppdConfig, startTestSmppd } from './harness.js';
import { FAST_TIMERS, startRig, waitFor } from '../helpers/rig.js';
import { makeSpool, ROOT } from '../helpers/spool.js';
import { createTempDb, DEFAULT_TABLES, serverAvailable, type TempDb } from '../sql/db.js';
import { SmppdDb } from '../../src/lib/smpp/sql/db.js';
import { tableColumns } from '../../src/lib/smpp/sql/schema.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';

// The entries a node keeps on its own disk for its own receivers are reserved in smppd_queue
// (owner = the node): when the node is killed (SIGKILL, a real child process), another node takes
// them after NodeTimeout and delivers every one to the receiver bound there.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function startNode(config: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'smppd.js'), 'serve', '-c', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  return waitFor(() => /listening on 127\.0\.0\.1:(\d+)/.exec(out), 15_000, 'node A start').then((m) => ({
    child,
    port: Number(m[1]),
  }));
}

// Long enough that a loaded machine does not declare a live node dead (which hands its messages to
// the other node while it still works on them: receipts twice, by design of the takeover).
const NODE_TIMEOUT = 4;

const toSql = (file: string, db: TempDb) =>
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('service = files\n', db.configLines));

describe.each(['mysql', 'pgsql'] as const)('entries a killed node kept for its receivers (%s)', (dialect) => {
  it('go to the receiver on another node after NodeTimeout, each once there', async () => {
    if (!(await serverAvailable(dialect))) return;
    const db = await createTempDb(dialect, 18);
    cleanups.push(() => db.drop());
    const rig = await startRig({
      config: `${FAST_TIMERS}DeliveryReport = log\nPhoneID = run1\n`,
      startDaemon: false,
    });
    cleanups.push(() => rig.close());
    toSql(rig.spool.config, db);
    const accounts = [{ systemId: 'shop', password: 'pw123' }];
    const a = await smppdConfig(accounts, `NodeTimeout = ${NODE_TIMEOUT}\nNodeId = node-a\n`, rig.spool);
    const nodeA = await startNode(a.configFile);
    const spoolB = makeSpool();
    cleanups.push(async () => spoolB.cleanup());
    toSql(spoolB.config, db);
    const nodeB = await startTestSmppd(accounts, `NodeTimeout = ${NODE_TIMEOUT}\nNodeId = node-b\n`, spoolB);
    cleanups.push(() => nodeB.stop());
    const admin = new SqlConnection(db.options);
    cleanups.push(() => admin.close());
    const count = async (where: string) =>
      Number((await admin.query(`SELECT COUNT(*) FROM smppd_queue WHERE ${where}`)).rows[0]?.[0]);

    // A receiver on A that reads its deliver_sm but never answers: A keeps every receipt queued.
    const tx = await bind(nodeA.port, 'shop', 'pw123', 'bind_transmitter');
    const rxA = await bind(nodeA.port, 'shop', 'pw123', 'bind_receiver');
    const seenOnA: PDU[] = [];
    rxA.session.on('deliver_sm', (p: PDU) => seenOnA.push(p));
    const N = 30;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const r = await call(tx.session, 'submit_sm', {
        destination_addr: `+42055500${String(i).padStart(4, '0')}`,
        short_message: Buffer.from(encodeGsm7(`kept ${i}`)),
        registered_delivery: 1,
      });
      expect(r.command_status).toBe(0);
      ids.push(String(r.message_id));
    }
    rig.startDaemon();
    // Every receipt is queued on A and reserved in the table for A.
    await waitFor(
      async () => (await count(`owner = 'node-a'`)) === N,
      45_000,
      `${N} entries reserved by node A`,
      rig,
    );
    expect(await count(`owner = ''`)).toBe(0);
    nodeA.child.kill('SIGKILL');
    await new Promise<void>((r) => nodeA.child.once('exit', () => r()));
    const killedAt = Date.now();

    const rxB = await bindCollecting(nodeB.port, 'shop', 'pw123', 'bind_receiver');
    await waitFor(
      () => rxB.got.length >= N,
      NODE_TIMEOUT * 1000 + 20_000,
      `the ${N} receipts through node B`,
    );
    const took = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 2_000)); // two more periods: nothing comes twice
    const got = rxB.got.map((p) => String(p.receipted_message_id));
    expect([...got].sort()).toEqual([...ids].sort());
    // Duplicates at B: none. The ones A sent its receiver unanswered are the protocol's own repeats.
    expect(got.length - new Set(got).size).toBe(0);
    console.log(
      `${dialect}: ${N} kept entries through node B ${took} ms after the kill (NodeTimeout ${NODE_TIMEOUT} s); ` +
        `${seenOnA.length} had reached A's receiver unanswered (sent again by B, as they must be)`,
    );
    expect(took).toBeLessThan(NODE_TIMEOUT * 1000 + 15_000);
    // B's reservations go once its receiver has answered.
    await waitFor(async () => (await count('1 = 1')) === 0, 10_000, 'smppd_queue empty');
    for (const s of [tx.session, rxA.session, rxB.session]) s.close();
  }, 120_000);

  it("an smppd_queue of an older smppd gets the owner column at start, its rows kept as anyone's", async () => {
    if (!(await serverAvailable(dialect))) return;
    const db = await createTempDb(dialect, 18);
    cleanups.push(() => db.drop());
    const admin = new SqlConnection(db.options);
    cleanups.push(() => admin.close());
    await admin.query(
      dialect === 'mysql'
        ? `CREATE TABLE smppd_queue (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, system_id VARCHAR(64) NOT NULL, qkey VARCHAR(190) NOT NULL, kind VARCHAR(8) NOT NULL, pdus MEDIUMTEXT NOT NULL, created_ms BIGINT NOT NULL, UNIQUE KEY smppd_queue_key (qkey), KEY smppd_queue_sid (system_id, id)) ENGINE=InnoDB`
        : `CREATE TABLE smppd_queue (id BIGSERIAL PRIMARY KEY, system_id VARCHAR(64) NOT NULL, qkey VARCHAR(190) NOT NULL UNIQUE, kind VARCHAR(8) NOT NULL, pdus TEXT NOT NULL, created_ms BIGINT NOT NULL)`,
    );
    await admin.query(
      `INSERT INTO smppd_queue (system_id, qkey, kind, pdus, created_ms) VALUES ('shop', 'receipt:sql:1', 'receipt', '[]', 1)`,
    );
    expect((await tableColumns(admin, 'smppd_queue')).has('owner')).toBe(false);
    const options = {
      connection: db.options,
      tables: DEFAULT_TABLES,
      phoneId: '',
      loopSleep: 1,
      statusFrequency: 60,
      deliveryReportDelay: 600,
      deliveryReport: 'no' as const,
    };
    // Two nodes starting at once: both end up with one column.
    const [one, two] = await Promise.all([SmppdDb.open(options, 'n1'), SmppdDb.open(options, 'n2')]);
    await one.close();
    await two.close();
    expect((await tableColumns(admin, 'smppd_queue')).has('owner')).toBe(true);
    expect((await admin.query(`SELECT qkey, owner FROM smppd_queue`)).rows).toEqual([['receipt:sql:1', '']]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU, Session } from 'smpp';
import { bind, call, collectDelivers, smppdConfig, startTestSmppd, type TestSmppd } from './harness.js';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { makeSpool, ROOT } from '../helpers/spool.js';
import { createTempDb, serverAvailable, type TempDb } from '../sql/db.js';
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

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import { waitFor } from '../helpers/rig.js';
import { ROOT, runSmsd } from '../helpers/spool.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import { bindCollecting, call, writeAccounts } from '../smpp/harness.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';
import { createTempDb, serverAvailable, type TempDb } from '../sql/db.js';
import { cleanupOutlets, outletConfig, startOutlet, startSmsc, writeOutletConfig } from '../peers/smsc.js';

// The chain an SMPP provider runs: ESME (the `smpp` package's client) → `smppd serve` → spool →
// `smsd run` (Connection = smpp) → test/peers/smsc.py, and receipts and MO back; and the SQL service.

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');
const children: ChildProcess[] = [];
const dbs: TempDb[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await cleanupOutlets();
  for (const d of dbs) await d.drop().catch(() => undefined);
});

const text = (p: PDU): string => {
  const m = p.short_message as { message?: unknown } | undefined;
  return typeof m?.message === 'string' ? m.message : '';
};

describe('ESME → smppd serve → smsd run (Connection = smpp) → SMSC', () => {
  it('delivers what the ESME submitted to the SMSC; the SMSC receipt and an MO come back to the ESME', async () => {
    const smsc = await startSmsc(['--password', 'secret', '--receipts', '--id-style', 'hexpad']);
    const spool = writeOutletConfig(smsc.port);
    const accounts = path.join(spool.dir, 'esme.ini');
    await writeAccounts(accounts, [{ systemId: 'shop', password: 'pw123', extra: 'mo = yes\n' }]);
    fs.appendFileSync(spool.config, `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\n`);
    const outlet = startOutlet(spool);
    const smppd = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', spool.config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(smppd);
    let out = '';
    smppd.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    smppd.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const m = await waitFor(() => /listening on 127\.0\.0\.1:(\d+)/.exec(out), 15_000, 'smppd start');
    const { session, got } = await bindCollecting(Number(m[1]), 'shop', 'pw123');
    const r = await call(session, 'submit_sm', {
      source_addr: 'Shop',
      source_addr_ton: 5,
      destination_addr: '420111222333',
      dest_addr_ton: 1,
      data_coding: 0,
      short_message: Buffer.from(encodeGsm7('Through the outlet {ok}')),
      registered_delivery: 1,
    });
    expect(r.command_status).toBe(0);
    await waitFor(async () => (await smsc.submits()).length === 1, 15_000, `SMSC got it\n${outlet.output()}`);
    expect((await smsc.submits())[0]).toMatchObject({
      dst: '420111222333',
      dst_ton: 1,
      text: 'Through the outlet {ok}',
      registered_delivery: 1,
    });
    // The SMSC's receipt (padded hex resp, lower-case receipt) reaches the ESME under smppd's id.
    const rc = await waitFor(
      () => got.find((p) => p.esm_class === 4),
      60_000,
      `receipt\n${out}\n${outlet.output()}`,
    );
    expect(rc.receipted_message_id).toBe(r.message_id);
    expect(rc.message_state).toBe(2);
    expect(text(rc)).toMatch(/stat:DELIVRD/);
    // MO from a handset through the SMSC.
    expect(
      await smsc.control({
        cmd: 'mo',
        from: '+420777888999',
        to: '1234',
        coding: 'gsm',
        text: 'Hi, outlet!',
      }),
    ).toEqual({ status: 0 });
    const mo = await waitFor(() => got.find((p) => p.esm_class === 0), 60_000, `MO\n${out}`);
    expect(mo).toMatchObject({ source_addr: '420777888999', source_addr_ton: 1 });
    expect(text(mo)).toBe('Hi, outlet!');
    await new Promise((res) => setTimeout(res, 300));
    expect(got.filter((p) => p.esm_class === 4)).toHaveLength(1); // once
    session.on('unbind', (p: PDU) => session.send(p.response()));
    smppd.kill('SIGTERM');
    expect(await outlet.stop()).toBe(0);
  }, 120_000);
});

describe('Connection = smpp with the SQL service (MariaDB)', async () => {
  const up = await serverAvailable('mysql');
  it.skipIf(!up)(
    'sends from the outbox table, records sentitems (TPMR), marks DeliveryOK from the receipt, stores MO in inbox',
    async () => {
      const db = await createTempDb('mysql', 17);
      dbs.push(db);
      const smsc = await startSmsc(['--password', 'secret', '--receipts', '--id-style', 'same']);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-outlet-sql-'));
      const config = path.join(dir, 'smsdrc');
      fs.writeFileSync(
        config,
        outletConfig(smsc.port, '').replace('__SPOOL__', `${db.configLines}StatePath = ${dir}/`),
      );
      for (let i = 0; i < 3; i++)
        expect(
          runSmsd(['inject', '-c', config, 'TEXT', `+42060000000${i}`, '-text', `sql ${i}`]).status,
        ).toBe(0);
      const p = startOutlet({
        dir,
        config,
        outbox: '',
        sent: '',
        error: '',
        inbox: '',
        cleanup: () => undefined,
      });
      const c = new SqlConnection(db.options);
      await c.connect();
      try {
        await waitFor(
          async () =>
            (await c.query("SELECT COUNT(*) FROM sentitems WHERE Status = 'DeliveryOK'")).rows[0]?.[0] == 3,
          20_000,
          `sentitems DeliveryOK\n${p.output()}`,
        );
        const rows = (
          await c.query('SELECT DestinationNumber, TPMR, SenderID, TextDecoded FROM sentitems ORDER BY ID')
        ).rows;
        expect(rows).toHaveLength(3);
        const subs = await smsc.submits();
        for (const [i, row] of rows.entries()) {
          expect(row[0]).toBe(`+42060000000${i}`);
          expect(String(row[1])).toBe(subs.find((s) => s.dst === `42060000000${i}`)?.resp_id);
          expect(row[2]).toBe('up1');
        }
        expect((await c.query('SELECT COUNT(*) FROM outbox')).rows[0]?.[0]).toBe(0);
        await smsc.control({
          cmd: 'mo',
          from: '+420777000111',
          to: '1234',
          coding: 'ucs2',
          text: 'Ahoj SQL ✓',
        });
        await waitFor(
          async () => (await c.query('SELECT TextDecoded, SenderNumber FROM inbox')).rows[0],
          10_000,
          'MO in inbox table',
        );
        const inbox = (await c.query('SELECT TextDecoded, SenderNumber, RecipientID FROM inbox')).rows;
        expect(inbox).toEqual([['Ahoj SQL ✓', '+420777000111', 'up1']]);
      } finally {
        await c.close();
      }
      expect(await p.stop()).toBe(0);
    },
  );
});

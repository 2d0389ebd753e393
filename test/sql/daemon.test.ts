import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createTempDb, serverAvailable, type TempDb } from './db.js';
import { runSmsd, SMSD_BIN } from '../helpers/spool.js';
import { waitFor, FAST_TIMERS } from '../helpers/rig.js';
import { startEmulator, type EmulatorServer } from '../../src/lib/emulator/server.js';
import { joinSent } from '../../src/lib/emulator/records.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';

/** `smsd run` on Service = sql with the product's modem emulator on a real pseudo-terminal. */
describe.each(['mysql', 'pgsql', 'sqlite'] as const)(
  'smsd run with Service = sql on %s',
  (dialect: SqlDialect) => {
    let db: TempDb | undefined;
    let emulator: EmulatorServer | undefined;
    let daemon: ChildProcess | undefined;
    let dir = '';
    let out = '';

    afterEach(async () => {
      if (daemon && daemon.exitCode === null) {
        const exited = new Promise((r) => daemon?.once('exit', r));
        daemon.kill('SIGKILL');
        await exited;
      }
      await emulator?.close();
      await db?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      daemon = undefined;
      emulator = undefined;
      db = undefined;
    });

    it('sends what smsd inject and gammu-smsd-inject queued, records sentitems, stores what it receives', async () => {
      if (!(await serverAvailable(dialect))) return;
      db = await createTempDb(dialect, 17);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-sql-run-'));
      for (const d of ['outbox', 'error']) fs.mkdirSync(path.join(dir, d));
      const device = path.join(dir, 'modem');
      emulator = await startEmulator({ device, control: null, modem: { reportDelayMs: 200 } });
      const config = path.join(dir, 'smsdrc');
      fs.writeFileSync(
        config,
        `[gammu]\ndevice = ${device}\nconnection = at\n\n[smsd]\n${db.configLines}PhoneID = run1\n` +
          `OutboxPath = ${dir}/outbox/\nErrorSMSPath = ${dir}/error/\nDeliveryReport = log\n${FAST_TIMERS}`,
      );
      const ours = runSmsd(['inject', '-c', config, 'TEXT', '+420600000001', '-text', 'from smsd inject']);
      expect(ours.status, ours.stderr).toBe(0);
      const g = spawnSync(
        'gammu-smsd-inject',
        ['-c', config, 'TEXT', '+420600000002', '-len', '400', '-text', 'from Gammu '.repeat(20)],
        {
          encoding: 'utf8',
          timeout: 15_000,
        },
      );
      const withGammu = g.error === undefined;
      if (withGammu) expect(g.status, g.stdout).toBe(0);
      daemon = spawn(process.execPath, [SMSD_BIN, 'run', '-c', config], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      daemon.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      daemon.stderr?.on('data', (b: Buffer) => (out += b.toString()));
      const admin = new SqlConnection(db.options);
      const q = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
      const count = async (sql: string) => Number((await admin.query(sql)).rows[0]?.[0]);
      try {
        await waitFor(
          async () => (await count('SELECT COUNT(*) FROM outbox')) === 0,
          15_000,
          `an empty outbox\n${out}`,
        );
        const sent = joinSent(emulator.modem.sent);
        expect(sent.find((s) => s.number === '+420600000001')?.text).toBe('from smsd inject');
        if (withGammu)
          expect(sent.find((s) => s.number === '+420600000002')?.text).toBe('from Gammu '.repeat(20));
        const rows = await admin.query(
          `SELECT ${q('DestinationNumber')}, ${q('Status')}, ${q('SenderID')}, ${q('TPMR')} FROM sentitems ORDER BY ${q('ID')}, ${q('SequencePosition')}`,
        );
        expect(rows.rows.length).toBe(withGammu ? 3 : 1);
        for (const r of rows.rows) {
          expect(r[1]).toBe('SendingOK'); // DeliveryReport = log: reports were requested
          expect(r[2]).toBe('run1');
          expect(Number(r[3])).toBeGreaterThanOrEqual(0);
        }
        expect(await count(`SELECT ${q('Sent')} FROM phones WHERE ${q('ID')} = 'run1'`)).toBe(
          withGammu ? 3 : 1,
        );
        // The emulator's status reports update the right sentitems rows.
        await waitFor(
          async () =>
            (await count(
              `SELECT COUNT(*) FROM sentitems WHERE ${q('Status')} = 'DeliveryOK' AND ${q('DeliveryDateTime')} IS NOT NULL`,
            )) === (withGammu ? 3 : 1),
          10_000,
          `delivery reports in sentitems\n${out}`,
        );
        emulator.modem.deliver({ from: '+420777123456', text: 'incoming via SQL' });
        await waitFor(
          async () => (await count('SELECT COUNT(*) FROM inbox')) === 1,
          10_000,
          `an inbox row\n${out}`,
        );
        const inbox = await admin.query(
          `SELECT ${q('SenderNumber')}, ${q('TextDecoded')}, ${q('RecipientID')} FROM inbox`,
        );
        expect(inbox.rows).toEqual([['+420777123456', 'incoming via SQL', 'run1']]);
      } finally {
        await admin.close();
      }
    });
  },
);

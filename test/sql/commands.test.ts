import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTempDb, serverAvailable, type TempDb } from './db.js';
import { runSmsd } from '../helpers/spool.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';

describe.each(['mysql', 'pgsql', 'sqlite'] as const)(
  'smsd db init / upgrade and smsd inject on %s',
  (dialect: SqlDialect) => {
    let db: TempDb | undefined;
    let dir = '';
    afterEach(async () => {
      await db?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      db = undefined;
    });

    it('creates schema 17 under [tables] names, upgrades it to 18, and smsd inject writes there', async () => {
      if (!(await serverAvailable(dialect))) return;
      db = await createTempDb(dialect);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-db-cmd-'));
      const config = path.join(dir, 'smsdrc');
      const tables = ['gammu', 'inbox', 'outbox', 'outbox_multipart', 'sentitems', 'phones']
        .map((t) => `${t} = gw_${t}`)
        .join('\n');
      fs.writeFileSync(
        config,
        `[gammu]\ndevice = /dev/null\n\n[smsd]\n${db.configLines}PhoneID = cmd1\n\n[tables]\n${tables}\n`,
      );
      const init = runSmsd(['db', 'init', '-c', config, '--version', '17']);
      expect(init.status, init.stderr).toBe(0);
      expect(init.stdout).toMatch(/schema version 17/);
      const again = runSmsd(['db', 'init', '-c', config]);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/already has a Gammu schema \(table gw_gammu, version 17\)/);
      const up = runSmsd(['db', 'upgrade', '-c', config]);
      expect(up.status, up.stderr).toBe(0);
      expect(up.stdout).toMatch(/from version 17 to 18/);
      const inj = runSmsd(['inject', '-c', config, 'TEXT', '+420111222333', '-text', 'renamed tables']);
      expect(inj.status, inj.stderr).toBe(0);
      expect(inj.stdout).toMatch(/^Written message with ID 1$/m);
      const c = new SqlConnection(db.options);
      try {
        const q = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
        const r = await c.query(
          `SELECT ${q('TextDecoded')}, ${q('SenderID')}, ${q('SendDays')} FROM gw_outbox`,
        );
        expect(r.rows).toEqual([['renamed tables', 'cmd1', 127]]);
        expect((await c.query(`SELECT ${q('Version')} FROM gw_gammu`)).rows).toEqual([[18]]);
      } finally {
        await c.close();
      }
    });

    it('smsd inject --batch queues every good line in transactions and reports the bad ones', async () => {
      if (!(await serverAvailable(dialect))) return;
      db = await createTempDb(dialect, 18);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-db-cmd-'));
      const config = path.join(dir, 'smsdrc');
      fs.writeFileSync(config, `[gammu]\ndevice = /dev/null\n\n[smsd]\n${db.configLines}`);
      const batch = path.join(dir, 'batch.csv');
      fs.writeFileSync(
        batch,
        `number,text\n+420100000001,hello\nnot a number!,x\n+420100000002,${'long '.repeat(60)}\n`,
      );
      const r = runSmsd(['inject', '-c', config, '--batch', batch]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/batch.csv:3: /);
      expect(r.stdout).toMatch(/^Queued 2 messages \(3 rows\) in .*; 1 lines failed$/m);
      const c = new SqlConnection(db.options);
      try {
        expect(Number((await c.query('SELECT COUNT(*) FROM outbox')).rows[0]?.[0])).toBe(2);
        expect(Number((await c.query('SELECT COUNT(*) FROM outbox_multipart')).rows[0]?.[0])).toBe(1);
      } finally {
        await c.close();
      }
    });

    it('smsd inject names the problem when the database has no Gammu tables', async () => {
      if (!(await serverAvailable(dialect))) return;
      db = await createTempDb(dialect);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-db-cmd-'));
      const config = path.join(dir, 'smsdrc');
      fs.writeFileSync(config, `[gammu]\ndevice = /dev/null\n\n[smsd]\n${db.configLines}`);
      const inj = runSmsd(['inject', '-c', config, 'TEXT', '+420111222333', '-text', 'nowhere']);
      expect(inj.status).toBe(3);
      expect(inj.stderr).toMatch(/Failed to inject message: Table gammu not found .*smsd db init/);
    });
  },
);

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDb, serverAvailable, DEFAULT_TABLES, type TempDb } from './db.js';
import { runSmsd } from '../helpers/spool.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { SqlService } from '../../src/lib/services/sql/service.js';
import type { OutboxJob } from '../../src/lib/services/types.js';
import { decodeDeliver, encodeDeliver } from '../../src/lib/sms/index.js';

/**
 * Against Debian's real gammu-smsd-inject 1.42 (schema 17, Driver native_mysql / native_pgsql):
 * what it queues, our SqlService sends as meant; what `smsd inject` queues is the same rows, apart
 * from IDs, times, CreatorID ("Gammu 1.42.0" / "smsgate <version>") and the concatenation
 * reference (Gammu's comes from the clock, ours is random).
 */

const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(9).slice(0, 400);
const cases: { name: string; args: string[]; check: (job: OutboxJob) => void }[] = [
  {
    name: 'plain',
    args: ['TEXT', '+420123456789', '-text', 'All your base are belong to us'],
    check: (j) =>
      expect(j.message.parts).toMatchObject([{ text: 'All your base are belong to us', coding: 'gsm7' }]),
  },
  {
    name: 'GSM extension characters',
    args: ['TEXT', '+420123456789', '-text', 'x{}[]~^|€\\y'],
    check: (j) => expect(j.message.parts[0]?.text).toBe('x{}[]~^|€\\y'),
  },
  {
    name: 'UCS-2',
    args: ['TEXT', '+420123456789', '-unicode', '-text', 'Zoë Привет 😀'],
    check: (j) => expect(j.message.parts).toMatchObject([{ text: 'Zoë Привет 😀', coding: 'ucs2' }]),
  },
  {
    name: '-len 400 (multipart)',
    args: ['TEXT', '+420123456789', '-text', LONG, '-len', '400'],
    check: (j) => {
      expect(j.message.parts.map((p) => p.text).join('')).toBe(LONG);
      expect(
        j.message.parts.map((p) =>
          Buffer.from(p.udh ?? [])
            .subarray(0, 3)
            .toString('hex'),
        ),
      ).toEqual(['050003', '050003', '050003']);
    },
  },
  {
    name: '-autolen 400 -16bit',
    args: ['TEXT', '+420123456789', '-text', LONG, '-autolen', '400', '-16bit'],
    check: (j) =>
      expect(
        Buffer.from(j.message.parts[0]?.udh ?? [])
          .subarray(0, 3)
          .toString('hex'),
      ).toBe('060804'),
  },
  {
    name: '-flash -report -validity DAY',
    args: ['TEXT', '+420123456789', '-text', 'flash', '-flash', '-report', '-validity', 'DAY'],
    check: (j) =>
      expect(j.message.parts).toMatchObject([{ messageClass: 0, statusReport: true, validity: 167 }]),
  },
  {
    name: 'WAPINDICATOR (8-bit with ports)',
    args: ['WAPINDICATOR', '+420123456789', 'http://example.com/x', 'Title here'],
    check: (j) => expect(j.message.parts[0]).toMatchObject({ coding: '8bit', messageClass: 1 }),
  },
];

const FIELDS = [
  'SendBefore',
  'SendAfter',
  'Text',
  'DestinationNumber',
  'Coding',
  'UDH',
  'Class',
  'TextDecoded',
  'MultiPart',
  'RelativeValidity',
  'SenderID',
  'DeliveryReport',
  'Retries',
  'Priority',
  'Status',
  'StatusCode',
];
const PART_FIELDS = [
  'Text',
  'Coding',
  'UDH',
  'Class',
  'TextDecoded',
  'SequencePosition',
  'Status',
  'StatusCode',
];

/** The concatenation reference differs by design: mask it in every concatenation element of the UDH. */
const maskRef = (udh: unknown): unknown => {
  const hex = String(udh ?? '');
  if (hex === '') return udh;
  const b = Buffer.from(hex, 'hex');
  for (let i = 1; i + 1 < b.length; i += 2 + (b[i + 1] ?? 0)) {
    if (b[i] === 0x00) b[i + 2] = 0;
    if (b[i] === 0x08) b.writeUInt16BE(0, i + 2);
  }
  return b.toString('hex').toUpperCase();
};

const haveGammu = spawnSync('gammu-smsd-inject', ['-v']).error === undefined;

describe.each(['mysql', 'pgsql', 'sqlite'] as const)(
  'interop with gammu-smsd-inject 1.42 on %s',
  (dialect: SqlDialect) => {
    let db: TempDb | undefined;
    let admin: SqlConnection | undefined;
    let dir = '';
    let config = '';
    const f = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
    const ids: Record<string, { gammu: string; ours: string }> = {};

    beforeAll(async () => {
      if (!haveGammu && !process.env.CI) return;
      if (!(await serverAvailable(dialect))) return;
      db = await createTempDb(dialect, 17);
      admin = new SqlConnection(db.options);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-sql-interop-'));
      config = path.join(dir, 'smsdrc');
      fs.writeFileSync(
        config,
        `[gammu]\ndevice = /dev/null\nconnection = at\n\n[smsd]\n${db.configLines}PhoneID = gw1\n`,
      );
    }, 30_000);

    afterAll(async () => {
      await admin?.close();
      await db?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    async function row(table: string, fields: string[], where: string): Promise<Record<string, unknown>[]> {
      const r = await (admin as SqlConnection).query(
        `SELECT ${fields.map(f).join(', ')} FROM ${table} WHERE ${where} ORDER BY 1`,
      );
      return r.rows.map((x) =>
        Object.fromEntries(
          fields.map((k, i) => [k, k === 'UDH' ? maskRef(x[i]) : x[i] instanceof Date ? 'date' : x[i]]),
        ),
      );
    }

    it.each(cases)('$name: smsd inject writes the rows gammu-smsd-inject writes', async (c) => {
      if (!admin) return;
      const g = spawnSync('gammu-smsd-inject', ['-c', config, ...c.args], {
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(g.status, g.stdout + g.stderr).toBe(0);
      const gid = /Written message with ID (\d+)/.exec(g.stdout + g.stderr)?.[1];
      const o = runSmsd(['inject', '-c', config, ...c.args]);
      expect(o.status, o.stderr).toBe(0);
      const oid = /^Written message with ID (\d+)$/m.exec(o.stdout)?.[1];
      expect(gid).toBeDefined();
      expect(oid).toBeDefined();
      ids[c.name] = { gammu: gid as string, ours: oid as string };
      const ours = await row('outbox', [...FIELDS, 'CreatorID'], `${f('ID')} = ${Number(oid)}`);
      const theirs = await row('outbox', [...FIELDS, 'CreatorID'], `${f('ID')} = ${Number(gid)}`);
      expect(theirs[0]?.CreatorID).toBe('Gammu 1.42.0');
      expect(ours[0]?.CreatorID).toMatch(/^smsgate /);
      for (const r of [...ours, ...theirs]) delete r.CreatorID;
      expect(ours).toEqual(theirs);
      expect(await row('outbox_multipart', PART_FIELDS, `${f('ID')} = ${Number(oid)}`)).toEqual(
        await row('outbox_multipart', PART_FIELDS, `${f('ID')} = ${Number(gid)}`),
      );
    });

    it("our SqlService takes Gammu's rows and maps them to what is sent", async () => {
      if (!admin || !db) return;
      const s = new SqlService({
        connection: db.options,
        tables: DEFAULT_TABLES,
        phoneId: 'gw1',
        loopSleep: 1,
        statusFrequency: 60,
        deliveryReportDelay: 600,
        deliveryReport: 'no',
      });
      try {
        await s.init();
        expect(s.schemaVersion).toBe(17);
        await s.initAfterConnect({ phoneId: 'gw1', imei: '350000000000001', imsi: '' });
        const jobs = new Map<string, OutboxJob>();
        for (let j = await s.findOutbox(); j; j = await s.findOutbox()) {
          jobs.set(j.id, j);
          for (const i of j.message.parts.keys()) await s.addSentInfo(j, i, i + 1);
          await s.moveSms(j, 'sent');
        }
        for (const c of cases) {
          const id = ids[c.name];
          if (!id) continue;
          for (const which of [id.gammu, id.ours]) {
            const job = jobs.get(which);
            expect(job, `${c.name} ${which}`).toBeDefined();
            expect(job?.message.number).toBe('+420123456789');
            c.check(job as OutboxJob);
          }
        }
        const sent = await (admin as SqlConnection).query(
          `SELECT COUNT(*) FROM sentitems WHERE ${f('SenderID')} = 'gw1' AND ${f('CreatorID')} = 'Gammu 1.42.0'`,
        );
        expect(Number(sent.rows[0]?.[0])).toBeGreaterThanOrEqual(cases.length);
      } finally {
        await s.free();
      }
    });
  },
);

const GAMMU_DDL: Record<SqlDialect, string> = {
  mysql: '/usr/share/doc/gammu-smsd/examples/mysql.sql',
  pgsql: '/usr/share/doc/gammu-smsd/examples/pgsql.sql',
  sqlite: '/usr/share/doc/gammu-smsd/examples/sqlite.sql',
};

describe.each(['mysql', 'pgsql', 'sqlite'] as const)(
  "SqlService on Gammu's own tables (%s.sql of gammu-smsd 1.42)",
  (dialect) => {
    it('sends what gammu-smsd-inject queued, records sentitems, stores received messages', async () => {
      if (!fs.existsSync(GAMMU_DDL[dialect]) && !process.env.CI) return;
      if (!haveGammu && !process.env.CI) return;
      if (!(await serverAvailable(dialect))) return;
      const db = await createTempDb(dialect);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-sql-gammu-ddl-'));
      const s = new SqlService({
        connection: db.options,
        tables: DEFAULT_TABLES,
        phoneId: 'gw2',
        loopSleep: 1,
        statusFrequency: 60,
        deliveryReportDelay: 600,
        deliveryReport: 'log',
      });
      try {
        const load =
          dialect === 'mysql'
            ? spawnSync('mysql', ['-h127.0.0.1', '-uroot', db.name], {
                input: fs.readFileSync(GAMMU_DDL.mysql),
                timeout: 15_000,
              })
            : dialect === 'sqlite'
              ? spawnSync('sqlite3', ['-bail', path.join(db.dir as string, db.name)], {
                  input: fs.readFileSync(GAMMU_DDL.sqlite),
                  timeout: 15_000,
                })
              : spawnSync(
                  'psql',
                  ['-q', '-h', '127.0.0.1', '-U', 'postgres', '-f', GAMMU_DDL.pgsql, db.name],
                  {
                    timeout: 15_000,
                  },
                );
        expect(load.error).toBeUndefined();
        expect(load.status, String(load.stderr)).toBe(0);
        const config = path.join(dir, 'smsdrc');
        fs.writeFileSync(
          config,
          `[gammu]\ndevice = /dev/null\nconnection = at\n\n[smsd]\n${db.configLines}PhoneID = gw2\n`,
        );
        const g = spawnSync(
          'gammu-smsd-inject',
          ['-c', config, 'TEXT', '+420555000111', '-text', LONG, '-len', '400', '-report'],
          {
            encoding: 'utf8',
            timeout: 15_000,
          },
        );
        expect(g.status, g.stdout).toBe(0);
        await s.init();
        await s.initAfterConnect({ phoneId: 'gw2', imei: '350000000000002', imsi: '230' });
        const job = await s.findOutbox();
        expect(job?.message.parts.map((p) => p.text).join('')).toBe(LONG);
        expect(job?.message.parts.every((p) => p.statusReport)).toBe(true);
        for (const i of job!.message.parts.keys()) await s.addSentInfo(job!, i, 100 + i);
        await s.moveSms(job!, 'sent');
        const admin = new SqlConnection(db.options);
        const q = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
        const sent = await admin.query(
          `SELECT ${q('Status')}, ${q('TPMR')} FROM sentitems ORDER BY ${q('SequencePosition')}`,
        );
        expect(sent.rows).toEqual([
          ['SendingOK', 100],
          ['SendingOK', 101],
          ['SendingOK', 102],
        ]);
        const pdu = decodeDeliver(
          encodeDeliver({
            originator: '+420555000222',
            coding: 'ucs2',
            text: 'Příliš žluťoučký',
            scts: new Date(),
          }).hex,
        );
        const [inboxId] = await s.saveInbox({ parts: [pdu], complete: true, text: 'Příliš žluťoučký' });
        const inbox = await admin.query(
          `SELECT ${q('TextDecoded')}, ${q('Coding')}, ${q('RecipientID')} FROM inbox WHERE ${q('ID')} = ${Number(inboxId)}`,
        );
        expect(inbox.rows).toEqual([['Příliš žluťoučký', 'Unicode_No_Compression', 'gw2']]);
        await admin.close();
      } finally {
        await s.free();
        await db.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

import { afterEach, describe, expect, it } from 'vitest';
import { createTempDb, serverAvailable, DEFAULT_TABLES, type TempDb } from './db.js';
import { SqlService, type SqlServiceOptions } from '../../src/lib/services/sql/service.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { toDate } from '../../src/lib/services/sql/rows.js';
import { textMessage } from '../services/contract.js';
import {
  decodeDeliver,
  decodeStatusReport,
  encodeDeliver,
  encodeStatusReport,
} from '../../src/lib/sms/index.js';
import { buildConcatUdh } from '../../src/lib/sms/udh.js';

describe.each(['mysql', 'pgsql', 'sqlite'] as const)('SqlService on %s', (dialect: SqlDialect) => {
  let db: TempDb | undefined;
  const open: SqlService[] = [];
  let admin: SqlConnection | undefined;
  const f = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);

  afterEach(async () => {
    for (const s of open.splice(0)) await s.free().catch(() => undefined);
    await admin?.close();
    admin = undefined;
    await db?.drop();
    db = undefined;
  });

  async function setup(version: 17 | 18 = 18): Promise<boolean> {
    if (!(await serverAvailable(dialect))) return false;
    db = await createTempDb(dialect, version);
    admin = new SqlConnection(db.options);
    return true;
  }

  async function service(phoneId = 'p1', extra: Partial<SqlServiceOptions> = {}): Promise<SqlService> {
    const s = new SqlService({
      connection: (db as TempDb).options,
      tables: DEFAULT_TABLES,
      phoneId,
      loopSleep: 1,
      statusFrequency: 60,
      deliveryReportDelay: 600,
      deliveryReport: 'no',
      ...extra,
    });
    open.push(s);
    await s.init();
    await s.initAfterConnect({ phoneId, imei: `IMEI-${phoneId}`, imsi: '230010123456789' });
    return s;
  }

  /** A time column as ms: MySQL and PostgreSQL give Date, SQLite the local-time text Gammu stores. */
  const ms = (v: unknown): number => (toDate(v) as Date).getTime();

  const rows = async (sql: string, params: (string | number)[] = []): Promise<unknown[][]> =>
    (await (admin as SqlConnection).query(sql, params)).rows;

  it('stores a multipart message with v18 metadata, the whole text in part 1, and counts it', async () => {
    if (!(await setup(18))) return;
    const s = await service();
    const part = (text: string, seq: number) =>
      decodeDeliver(
        encodeDeliver({
          originator: '00420777000111',
          smsc: '+420603052000',
          coding: 'gsm7',
          text,
          scts: new Date(2026, 0, 2, 3, 4, 5),
          udh: buildConcatUdh({ ref: 3, total: 2, seq, ref16bit: false }),
        }).hex,
      );
    const ids = await s.saveInbox({
      parts: [part('Hello ', 1), part('world', 2)],
      complete: true,
      text: 'Hello world',
    });
    const got = await rows(
      `SELECT ${['ID', 'MessageID', 'SequencePosition', 'PartCount', 'Processed', 'TextDecoded', 'SenderNumber', 'RecipientID', 'UDH', 'Text', 'ReceivingDateTime'].map(f).join(', ')} FROM inbox ORDER BY ${f('ID')}`,
    );
    expect(got.map((r) => [String(r[0]), Number(r[1]), r[2], r[3], String(r[4])])).toEqual([
      [ids[0], Number(ids[0]), 1, 2, 'false'],
      [ids[1], Number(ids[0]), 2, 2, 'false'],
    ]);
    expect(got.map((r) => r[5])).toEqual(['Hello world', '']);
    expect(got[0]?.slice(6, 10)).toEqual(['+420777000111', 'p1', '050003030201', '00480065006C006C006F0020']);
    expect(ms(got[0]?.[10])).toBe(new Date(2026, 0, 2, 3, 4, 5).getTime());
    expect((await rows(`SELECT ${f('Received')} FROM phones`))[0]?.[0]).toBe(2);
  });

  it('takes the outbox in order: SendingDateTime, SenderID pinning, Priority, SendDays', async () => {
    if (!(await setup(18))) return;
    const q = await service('');
    const mine = await service('p1');
    const id = async (text: string) => q.createOutbox(textMessage('+420100000001', text), 'test');
    const later = await id('later');
    const other = await id('for p2');
    const low = await id('low');
    const high = await id('high');
    const notToday = await id('not today');
    const future = {
      mysql: 'NOW() + INTERVAL 1 HOUR',
      pgsql: `LOCALTIMESTAMP(0) + interval '1 hour'`,
      sqlite: `datetime('now', '+1 hours', 'localtime')`,
    }[dialect];
    await rows(`UPDATE outbox SET ${f('SendingDateTime')} = ${future} WHERE ${f('ID')} = ${Number(later)}`);
    await rows(`UPDATE outbox SET ${f('SenderID')} = 'p2' WHERE ${f('ID')} = ${Number(other)}`);
    await rows(`UPDATE outbox SET ${f('Priority')} = 5 WHERE ${f('ID')} = ${Number(high)}`);
    const today = new Date().getDay();
    await rows(
      `UPDATE outbox SET ${f('SendDays')} = ${127 & ~(today === 0 ? 64 : 1 << (today - 1))} WHERE ${f('ID')} = ${Number(notToday)}`,
    );
    const order: string[] = [];
    for (let job = await mine.findOutbox(); job; job = await mine.findOutbox()) {
      order.push(job.id);
      await mine.moveSms(job, 'sent');
    }
    expect(order).toEqual([high, low]);
  });

  it('four daemons drain one outbox: every message sent once, pinned ones by their PhoneID', async () => {
    if (!(await setup(18))) return;
    const n = 300;
    const cols = `${f('DestinationNumber')}, ${f('TextDecoded')}, ${f('CreatorID')}, ${f('SenderID')}`;
    await rows(
      dialect === 'mysql'
        ? `INSERT INTO outbox (${cols}) SELECT CONCAT('+420', seq), 'bulk', 'test', IF(seq % 5 = 0, 'p3', '') FROM seq_1_to_${n}`
        : dialect === 'sqlite'
          ? `WITH RECURSIVE g(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM g WHERE v < ${n}) INSERT INTO outbox (${cols}) SELECT '+420' || v, 'bulk', 'test', CASE WHEN v % 5 = 0 THEN 'p3' ELSE '' END FROM g`
          : `INSERT INTO outbox (${cols}) SELECT '+420' || g, 'bulk', 'test', CASE WHEN g % 5 = 0 THEN 'p3' ELSE '' END FROM generate_series(1, ${n}) g`,
    );
    const daemons = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((id) => service(id)));
    const takenBy = new Map<string, string[]>();
    await Promise.all(
      daemons.map(async (d, i) => {
        for (let job = await d.findOutbox(); job; job = await d.findOutbox()) {
          takenBy.set(job.message.number, [...(takenBy.get(job.message.number) ?? []), `p${i + 1}`]);
          await d.addSentInfo(job, 0, 1);
          await d.moveSms(job, 'sent');
        }
      }),
    );
    expect(takenBy.size).toBe(n);
    expect([...takenBy.values()].every((who) => who.length === 1)).toBe(true);
    for (const [number, who] of takenBy) if (Number(number.slice(4)) % 5 === 0) expect(who).toEqual(['p3']);
    expect(Number((await rows('SELECT COUNT(*) FROM sentitems'))[0]?.[0])).toBe(n);
    expect(new Set([...takenBy.values()].map((w) => w[0])).size).toBe(4);
  });

  it('wakes the daemon within about a second when a row lands in the outbox', async () => {
    if (!(await setup(18))) return;
    const s = await service();
    let woken = 0;
    s.onOutboxChange(() => woken++);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(woken).toBe(0);
    await s.createOutbox(textMessage('+420100000013', 'wake up'), 'test');
    const t0 = Date.now();
    while (woken === 0 && Date.now() - t0 < 3_000) await new Promise((r) => setTimeout(r, 50));
    expect(woken).toBeGreaterThan(0);
  });

  it('takes a sentitems row the server stored before the connection died as recorded, not as an error', async () => {
    if (!(await setup(18))) return;
    const q = await service('');
    const s = await service('p1');
    const id = await q.createOutbox(textMessage('+420100000010', 'once', false), 'test');
    const job = await s.findOutbox();
    expect(job?.id).toBe(id);
    await s.addSentInfo(job!, 0, 42);
    // The retry after a reconnection inserts the same row again.
    await expect(s.addSentInfo(job!, 0, 42)).resolves.toBeUndefined();
    expect((await rows(`SELECT ${f('TPMR')} FROM sentitems`)).map((r) => String(r[0]))).toEqual(['42']);
  });

  it('records sentitems as Gammu does: status, TPMR, SenderID, CreatorID, part texts', async () => {
    if (!(await setup(17))) return;
    const q = await service('');
    const s = await service('p1', { deliveryReport: 'log' });
    const id = await q.createOutbox(textMessage('+420100000009', 'x'.repeat(200), true), 'Gammu 1.42.0');
    const job = await s.findOutbox();
    expect(job?.id).toBe(id);
    await s.addSentInfo(job!, 0, 17);
    await s.addSentInfo(job!, 1, 18);
    await s.moveSms(job!, 'sent');
    const sent = await rows(
      `SELECT ${['ID', 'SequencePosition', 'Status', 'TPMR', 'SenderID', 'CreatorID', 'DestinationNumber', 'UDH', 'TextDecoded', 'RelativeValidity', 'Coding'].map(f).join(', ')} FROM sentitems ORDER BY ${f('SequencePosition')}`,
    );
    expect(sent.map((r) => r.slice(0, 7).map(String))).toEqual([
      [id, '1', 'SendingOK', '17', 'p1', 'Gammu 1.42.0', '+420100000009'],
      [id, '2', 'SendingOK', '18', 'p1', 'Gammu 1.42.0', '+420100000009'],
    ]);
    expect(sent.map((r) => (r[8] as string).length)).toEqual([153, 47]);
    expect(sent[0]?.[9]).toBe(255);
    expect((await rows(`SELECT ${f('Sent')} FROM phones WHERE ${f('IMEI')} = 'IMEI-p1'`))[0]?.[0]).toBe(2);
    expect(await rows('SELECT * FROM outbox_multipart')).toEqual([]);
  });

  it('a failure after MaxRetries is SendingError in sentitems with the CMS code', async () => {
    if (!(await setup(18))) return;
    const s = await service();
    await s.createOutbox(textMessage('+420100000010', 'doomed'), 'test');
    const job = await s.findOutbox();
    expect(await s.updateRetries(job!, 'x', 0, 600_000)).toBe('give-up');
    await s.moveSms(job!, 'error', '+CMS ERROR: 38 (network out of order)');
    expect(await rows(`SELECT ${f('Status')}, ${f('StatusCode')} FROM sentitems`)).toEqual([
      ['SendingError', 38],
    ]);
    expect(await rows('SELECT * FROM outbox')).toEqual([]);
  });

  it('a delivery report updates the matching sentitems row', async () => {
    if (!(await setup(18))) return;
    const s = await service('p1', { deliveryReport: 'log' });
    await s.createOutbox(textMessage('+420100000011', 'report me'), 'test');
    const job = await s.findOutbox();
    await s.addSentInfo(job!, 0, 0x21);
    await s.moveSms(job!, 'sent');
    const report = (mr: number, status: number) =>
      decodeStatusReport(
        encodeStatusReport({
          mr,
          recipient: '+420100000011',
          scts: new Date(),
          discharge: new Date(2026, 5, 1, 12, 0, 0),
          status,
        }).hex,
      );
    expect(await s.saveDeliveryReport(report(0x22, 0))).toMatchObject({ matched: false });
    expect(await s.saveDeliveryReport(report(0x21, 0x20))).toEqual({
      matched: true,
      id: job!.id,
      part: 1,
      status: 'DeliveryPending',
    });
    expect(await s.saveDeliveryReport(report(0x21, 0))).toMatchObject({
      matched: true,
      status: 'DeliveryOK',
    });
    const r = await rows(
      `SELECT ${f('Status')}, ${f('StatusError')}, ${f('DeliveryDateTime')} FROM sentitems`,
    );
    expect(r[0]?.slice(0, 2)).toEqual(['DeliveryOK', 0]);
    expect(ms(r[0]?.[2])).toBe(new Date(2026, 5, 1, 12, 0, 0).getTime());
    // Delivered: no longer a candidate for another report.
    expect(await s.saveDeliveryReport(report(0x21, 0))).toMatchObject({ matched: false });
  });

  it('phones row: fresh at connect, refreshed with status', async () => {
    if (!(await setup(18))) return;
    const s = await service('p1', { send: true, receive: false });
    await s.refreshPhoneStatus({
      batteryPercent: 80,
      signalPercent: 55,
      networkCode: '230 01',
      networkName: 'T-Mobile CZ',
    });
    const r = await rows(
      `SELECT ${['ID', 'IMEI', 'IMSI', 'Send', 'Receive', 'Battery', 'Signal', 'NetCode', 'NetName'].map(f).join(', ')} FROM phones`,
    );
    expect(r.map((x) => x.map(String))).toEqual([
      [
        'p1',
        'IMEI-p1',
        '230010123456789',
        dialect === 'pgsql' ? 'true' : 'yes',
        dialect === 'pgsql' ? 'false' : 'no',
        '80',
        '55',
        '230 01',
        'T-Mobile CZ',
      ],
    ]);
  });

  it('survives a killed connection (BackendRetries): the next query reconnects', async () => {
    if (dialect === 'sqlite') return; // no server connection to kill (test/sql/sqlite-hostile.test.ts)
    if (!(await setup(18))) return;
    const s = await service();
    const pid = (
      await s.conn.query(dialect === 'mysql' ? 'SELECT CONNECTION_ID()' : 'SELECT pg_backend_pid()')
    ).rows[0]?.[0];
    await rows(dialect === 'mysql' ? `KILL ${Number(pid)}` : `SELECT pg_terminate_backend(${Number(pid)})`);
    await new Promise((r) => setTimeout(r, 100));
    await s.createOutbox(textMessage('+420100000012', 'after the blip'), 'test');
    expect((await s.findOutbox())?.message.parts[0]?.text).toBe('after the blip');
  });

  it('refuses a schema of the wrong version, a missing table, a missing database, a wrong password', async () => {
    if (!(await setup(18))) return;
    await rows(`UPDATE gammu SET ${f('Version')} = 16`);
    await expect(service()).rejects.toThrow(/Database structure is from older Gammu version/);
    await rows(`UPDATE gammu SET ${f('Version')} = 19`);
    await expect(service()).rejects.toThrow(/Database structure is from newer Gammu version/);
    await rows(`UPDATE gammu SET ${f('Version')} = 18`);
    await rows('DROP TABLE outbox_multipart');
    await expect(service()).rejects.toThrow(/Table outbox_multipart not found/);
    const missing = new SqlService({
      connection: { ...(db as TempDb).options, database: 'smsgate_no_such_db' },
      tables: DEFAULT_TABLES,
      phoneId: '',
      loopSleep: 1,
      statusFrequency: 60,
      deliveryReportDelay: 600,
      deliveryReport: 'no',
    });
    await expect(missing.init()).rejects.toThrow(
      dialect === 'sqlite'
        ? /SQLite database .*smsgate_no_such_db: the file does not exist \(create it with: smsd db init/
        : /database smsgate_no_such_db does not exist/,
    );
    if (dialect === 'sqlite') return; // no users on a file
    const badUser = new SqlService({
      connection: { ...(db as TempDb).options, user: 'smsgate_nobody', password: 'wrong' },
      tables: DEFAULT_TABLES,
      phoneId: '',
      loopSleep: 1,
      statusFrequency: 60,
      deliveryReportDelay: 600,
      deliveryReport: 'no',
    });
    await expect(badUser.init()).rejects.toThrow(/Cannot connect to .* as smsgate_nobody/);
  });
});

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from 'smpp';
import { bind, call, startTestSmppd, type TestSmppd, phoneOf } from './harness.js';
import { createTempDb, serverAvailable, SERVERS, type TempDb } from '../sql/db.js';
import { makeSpool, ROOT } from '../helpers/spool.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { esmeAdd, esmeList, esmeSet } from '../../src/lib/smpp/admin/esme-cli.js';
import { smppdDbUpgrade } from '../../src/lib/smpp/sql/admin.js';
import { tableColumns } from '../../src/lib/smpp/sql/schema.js';
import { mark } from '../../src/lib/smpp/sql/dialect.js';

// smppd serve on KSMPPD's tables: a database made with KSMPPD's own DDL (MariaDB) and ones made
// by `smppd db init` (PostgreSQL, SQLite), real SMPP clients over TCP.

let t: TestSmppd | undefined;
let db: TempDb | undefined;
afterEach(async () => {
  await t?.stop();
  t?.spool.cleanup();
  t = undefined;
  await db?.drop();
  db = undefined;
});

const gsm = (text: string): Buffer => Buffer.from(encodeGsm7(text));
const submit = (s: Session, to: string, from = 'Shop') =>
  call(s, 'submit_sm', {
    source_addr: from,
    source_addr_ton: 5,
    destination_addr: to,
    data_coding: 0,
    short_message: gsm('hello'),
  });

/** MySQL's PASSWORD(): what a KSMPPD database holds, computed here where the server has none. */
const mysqlPassword = (pw: string): string => {
  const inner = crypto.createHash('sha1').update(pw).digest();
  return `*${crypto.createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
};

const sqlKeys = (dialect: SqlDialect, name: string, dir?: string): string =>
  dialect === 'sqlite'
    ? `SqlDriver = sqlite3\nSqlDatabase = ${path.join(dir ?? '', name)}\n`
    : `SqlDriver = ${dialect === 'mysql' ? 'native_mysql' : 'native_pgsql'}\nSqlHost = ${SERVERS[dialect].host}\nSqlUser = ${SERVERS[dialect].user}\nSqlDatabase = ${name}\n`;

const SMPPD_SQL = 'AccountsSource = sql\nRoutesSource = sql\nBlockAttempts = 0\n';

/** KSMPPD's smpp_user / smpp_route / smpp_version at its schema 4, as tables.sql plus its migrations make them. */
const KSMPPD_MYSQL_DDL = [
  `CREATE TABLE smpp_user (
  system_id varchar(15) NOT NULL,
  password varchar(64) NOT NULL,
  throughput double(10,5) NOT NULL DEFAULT '0.00000',
  default_smsc varchar(64) DEFAULT NULL,
  default_cost double NOT NULL,
  enable_prepaid_billing int(10) unsigned NOT NULL DEFAULT '0',
  credit double NOT NULL DEFAULT '0',
  callback_url varchar(255) DEFAULT NULL,
  simulate tinyint(1) NOT NULL DEFAULT '0',
  simulate_deliver_every int(10) unsigned NOT NULL,
  simulate_permanent_failure_every int(10) unsigned NOT NULL,
  simulate_temporary_failure_every int(10) unsigned NOT NULL,
  simulate_mo_every int(10) unsigned NOT NULL,
  max_binds int(10) unsigned NOT NULL DEFAULT '0',
  connect_allow_ip text,
  PRIMARY KEY (system_id)
) ENGINE=InnoDB`,
  `CREATE TABLE smpp_route (
  route_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  direction int(11) NOT NULL,
  regex text,
  cost double DEFAULT NULL,
  system_id varchar(64) DEFAULT NULL,
  smsc_id varchar(64) DEFAULT NULL,
  source_regex text,
  priority int DEFAULT 0,
  PRIMARY KEY (route_id),
  KEY direction (direction),
  KEY system_id (system_id),
  KEY smsc_id (smsc_id)
) ENGINE=InnoDB DEFAULT CHARSET=latin1`,
  `CREATE TABLE smpp_version (component varchar(54) NOT NULL, version int unsigned NOT NULL, PRIMARY KEY (component))`,
  `INSERT INTO smpp_version (component, version) VALUES ('ksmppd', 4)`,
];

/** The routes both databases get: by priority, with a source_regex, a bad regex, and an inbound one. */
const ROUTES: [number, string | null, number | null, string | null, string | null, string | null, number][] =
  [
    // direction, regex, cost, system_id, smsc_id, source_regex, priority
    [1, '^\\+?420', 0.1, 'smppuserD', 'modemCZ', null, 0],
    [1, '^\\+?4207', 0.2, 'smppuserD', 'modemMobile', null, 10],
    [1, '^\\+?49', 0.3, 'smppuserD', 'modemDE', '^Shop$', 0],
    [1, '^(', 1, 'smppuserD', 'broken', null, 99],
    [1, '^\\+?44', 0.1, 'smppuserA', null, null, 0],
    [1, '^[[:digit:]]{3}$', 0, 'smppuserD', 'shortcodes', null, 0],
    [2, '^\\+?420999', null, 'smppuserD', null, null, 0],
  ];

async function insertRoutes(c: SqlConnection): Promise<void> {
  const p = [1, 2, 3, 4, 5, 6, 7].map((i) => mark(c.dialect, i));
  for (const r of ROUTES)
    await c.query(
      `INSERT INTO smpp_route (direction, regex, cost, system_id, smsc_id, source_regex, priority) VALUES (${p.join(', ')})`,
      r,
    );
}

/** What KSMPPD documents, checked over SMPP against whichever database `t` reads. */
async function checkKsmppdBehaviour(t: TestSmppd): Promise<void> {
  // Wrong password and unknown system_id: refused alike.
  expect((await bind(t.port, 'smppuserD', 'wrong')).resp.command_status).toBe(0x0e);
  expect((await bind(t.port, 'nobody', 'smppassD')).resp.command_status).toBe(0x0e);
  // system_ids compare case-insensitively, as KSMPPD lower-cases them.
  const d = await bind(t.port, 'SMPPUSERD', 'smppassD');
  expect(d.resp.command_status).toBe(0);
  // Priority 10 beats the broader priority-0 route; the broken regex row (priority 99) is skipped.
  const mobile = await submit(d.session, '+420777123456');
  expect(mobile.command_status).toBe(0);
  expect(await phoneOf(t, mobile.message_id)).toBe('modemMobile');
  const fixed = await submit(d.session, '+420212345678');
  expect(await phoneOf(t, fixed.message_id)).toBe('modemCZ');
  // POSIX class in the regex.
  expect(await phoneOf(t, (await submit(d.session, '123')).message_id)).toBe('shortcodes');
  // source_regex: the destination matches but the sender does not: RINVSRCADR.
  expect((await submit(d.session, '+4930123456', 'Other')).command_status).toBe(0x0a);
  expect(await phoneOf(t, (await submit(d.session, '+4930123456', 'Shop')).message_id)).toBe('modemDE');
  // No route and no default_smsc: RINVDSTADR.
  expect((await submit(d.session, '+33612345678')).command_status).toBe(0x0b);
  // smppuserA: its route leaves the modem open; anything else falls back on default_smsc.
  const a = await bind(t.port, 'smppuserA', 'smppassA');
  expect(a.resp.command_status).toBe(0);
  const uk = await submit(a.session, '+447700900123');
  expect(uk.command_status).toBe(0);
  expect(await phoneOf(t, uk.message_id)).toBeUndefined();
  const fr = await submit(a.session, '+33612345678');
  expect(fr.command_status).toBe(0);
  expect(await phoneOf(t, fr.message_id)).toBe('ksmppd2');
  // connect_allow_ip 10.0.0.* keeps 127.0.0.1 out; max_binds 2 allows two binds.
  expect((await bind(t.port, 'smppuserC', 'smppassC')).resp.command_status).toBe(0x0d);
  const b1 = await bind(t.port, 'smppuserB', 'smppassB');
  const b2 = await bind(t.port, 'smppuserB', 'smppassB');
  expect([b1.resp.command_status, b2.resp.command_status]).toEqual([0, 0]);
  expect((await bind(t.port, 'smppuserB', 'smppassB')).resp.command_status).toBe(0x0d);
  // Simulated: answered, nothing in the outbox.
  const before = fs.readdirSync(t.spool.outbox).length;
  expect((await submit(b1.session, '+420777000000')).command_status).toBe(0);
  expect(fs.readdirSync(t.spool.outbox).length).toBe(before);
  expect(t.logs.some((l) => /route_id 4 skipped: regex \^\(/.test(l))).toBe(true);
  for (const s of [d, a, b1, b2]) s.session.close();
}

describe('KSMPPD database on MariaDB (KSMPPD DDL, PASSWORD() hashes)', () => {
  it('authenticates and routes as KSMPPD documents; upgrade keeps the data; esme add/set write scrypt hashes', async () => {
    if (!(await serverAvailable('mysql'))) return;
    db = await createTempDb('mysql');
    const c = new SqlConnection(db.options);
    try {
      for (const sql of KSMPPD_MYSQL_DDL) await c.query(sql);
      // KSMPPD's way of inserting users; PASSWORD() is gone in MySQL 8, the SHA1 form is not.
      let hash = "PASSWORD('smppassA')";
      try {
        await c.query(`SELECT PASSWORD('x')`);
      } catch {
        hash = "CONCAT('*', UPPER(SHA1(UNHEX(SHA1('smppassA')))))";
      }
      const cols =
        'system_id, password, throughput, default_smsc, default_cost, enable_prepaid_billing, simulate, simulate_deliver_every, simulate_permanent_failure_every, simulate_temporary_failure_every, simulate_mo_every, max_binds, connect_allow_ip';
      await c.query(
        `INSERT INTO smpp_user (${cols}) VALUES ('smppuserA', ${hash}, 11, 'ksmppd2', 0.05, 0, 0, 0, 0, 0, 0, 0, '*.*.*.*')`,
      );
      await c.query(
        `INSERT INTO smpp_user (${cols}) VALUES ('smppuserB', ${hash.replace('smppassA', 'smppassB')}, 0, NULL, 0, 0, 1, 1, 0, 0, 0, 2, NULL)`,
      );
      await c.query(
        `INSERT INTO smpp_user (${cols}) VALUES ('smppuserC', ${hash.replace('smppassA', 'smppassC')}, 0, NULL, 0, 0, 1, 1, 0, 0, 2, 0, '10.0.0.*')`,
      );
      await c.query(
        `INSERT INTO smpp_user (${cols}) VALUES ('smppuserD', ?, 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, '127.0.0.*;10.0.0.0/8')`,
        [mysqlPassword('smppassD')],
      );
      await c.query(
        `INSERT INTO smpp_user (${cols}) VALUES ('broken', 'plaintext', 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, NULL)`,
      );
      await insertRoutes(c);

      t = await startTestSmppd([], `${SMPPD_SQL}${sqlKeys('mysql', db.name)}`);
      expect(t.logs.some((l) => /smpp_user row "broken" skipped: password: not a scrypt/.test(l))).toBe(true);
      expect(t.logs.join('\n')).not.toMatch(/plaintext/);
      await checkKsmppdBehaviour(t);

      // esme set --password cannot fit a scrypt hash into KSMPPD's varchar(64): refused, not cut.
      const out: string[] = [];
      const o = { out: (l: string) => out.push(l), err: (l: string) => out.push(`ERR ${l}`) };
      expect(await esmeSet(o, t.configFile, 'smppuserD', { password: 'n3w' })).toBe(1);
      expect(out.pop()).toMatch(/password is varchar\(64\).*smppd db upgrade/);

      const before = (await c.query('SELECT * FROM smpp_user ORDER BY system_id')).rows;
      expect(await smppdDbUpgrade(t.configFile)).toMatch(
        /KSMPPD schema 4 -> 4, smsgate 0 -> 1[\s\S]*added smpp_user.enabled[\s\S]*widened smpp_user.password/,
      );
      // Every old value is still there, with the new columns after them.
      const after = (await c.query('SELECT * FROM smpp_user ORDER BY system_id')).rows;
      expect(after.map((r) => r.slice(0, before[0]?.length))).toEqual(before);
      expect([...(await tableColumns(c, 'smpp_user')).keys()]).toEqual(
        expect.arrayContaining(['enabled', 'message_id_format', 'message_id_length']),
      );
      expect(await smppdDbUpgrade(t.configFile)).toMatch(/already current/);

      expect(await esmeSet(o, t.configFile, 'smppuserd', { password: 'n3w' })).toBe(0);
      expect(await esmeAdd(o, t.configFile, 'fresh', { password: 'fr3sh', defaultRoute: 'spool' })).toBe(0);
      expect(await esmeSet(o, t.configFile, 'smppuserB', { enabled: false })).toBe(0);
      const stored = await c.query(
        `SELECT password FROM smpp_user WHERE system_id IN ('fresh', 'smppuserD')`,
      );
      for (const [pw] of stored.rows) expect(String(pw)).toMatch(/^scrypt\$/);
      await expect(t.smppd.reload()).resolves.toMatch(
        /Routes updated: 6 routes from table smpp_route, 5 accounts from table smpp_user/,
      );
      expect((await bind(t.port, 'smppuserD', 'smppassD')).resp.command_status).toBe(0x0e);
      const d = await bind(t.port, 'smppuserD', 'n3w');
      expect(d.resp.command_status).toBe(0);
      const f = await bind(t.port, 'fresh', 'fr3sh');
      expect(f.resp.command_status).toBe(0);
      expect(await phoneOf(t, (await submit(f.session, '+15551234567')).message_id)).toBeUndefined(); // default * = any modem
      expect((await bind(t.port, 'smppuserA', 'smppassA')).resp.command_status).toBe(0); // PASSWORD() hash still works
      expect((await bind(t.port, 'smppuserB', 'smppassB')).resp.command_status).toBe(0x0d); // disabled
      out.length = 0;
      expect(await esmeList(o, t.configFile)).toBe(0);
      const listed = out.filter((l) => !l.startsWith('ERR')).join('\n');
      expect(listed).toMatch(/smppuserD\s+yes.*127\.0\.0\.\*/);
      expect(listed).not.toMatch(/scrypt|\*[0-9A-F]{40}/);
      expect(out).toContain(
        'ERR warning: smpp_user row "broken" skipped: password: not a scrypt$... hash nor a MySQL PASSWORD() hash (* and 40 hex digits)',
      );
      d.session.close();
      f.session.close();
    } finally {
      await c.close();
    }
  });
});

describe.each(['pgsql', 'sqlite'] as const)('KSMPPD tables on %s (smppd db init)', (dialect) => {
  it('authenticates and routes as on the KSMPPD database; esme add writes the account', async () => {
    if (!(await serverAvailable(dialect))) return;
    db = await createTempDb(dialect);
    const keys = sqlKeys(dialect, db.name, db.dir);
    if (dialect === 'sqlite') fs.rmSync(path.join(db.dir ?? '', db.name)); // db init makes the file
    const spool = makeSpool();
    fs.appendFileSync(spool.config, `\n[smppd]\nAccountsSource = sql\nRoutesSource = sql\n${keys}`);
    const smppd = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin', 'smppd.js'), ...args, '-c', spool.config], {
        encoding: 'utf8',
        timeout: 30_000,
      });
    const init = smppd('db', 'init');
    expect(init.stderr).toBe('');
    expect(init.stdout).toMatch(
      /Created smpp_user, smpp_route and smpp_version \(KSMPPD schema 4, smsgate 1\)/,
    );
    expect(smppd('db', 'init').stderr).toMatch(/smpp_user already exists; use smppd db upgrade/);
    expect(smppd('db', 'upgrade').stdout).toMatch(/already current/);
    spool.cleanup();

    const c = new SqlConnection(db.options);
    try {
      const add = (sid: string, pw: string, rest: string) =>
        c.query(
          `INSERT INTO smpp_user (system_id, password, throughput, default_smsc, default_cost, simulate, simulate_deliver_every, max_binds, connect_allow_ip) VALUES (${mark(dialect, 1)}, ${mark(dialect, 2)}, ${rest})`,
          [sid, mysqlPassword(pw)],
        );
      await add('smppuserA', 'smppassA', `11, 'ksmppd2', 0.05, 0, 0, 0, '*.*.*.*'`);
      await add('smppuserB', 'smppassB', `0, NULL, 0, 1, 1, 2, NULL`);
      await add('smppuserC', 'smppassC', `0, NULL, 0, 1, 1, 0, '10.0.0.*'`);
      await add('smppuserD', 'smppassD', `0, NULL, 0, 0, 0, 0, '127.0.0.*;10.0.0.0/8'`);
      await insertRoutes(c);
      t = await startTestSmppd([], `${SMPPD_SQL}${keys}`);
      await checkKsmppdBehaviour(t);
      const o = { out: () => undefined, err: (l: string) => expect.fail(l) };
      expect(
        await esmeAdd(o, t.configFile, 'Shop', {
          password: 'sh0p',
          defaultRoute: 'phone:modem9',
          maxBinds: 1,
        }),
      ).toBe(0);
      expect(await esmeAdd({ ...o, err: () => undefined }, t.configFile, 'SHOP', { password: 'x' })).toBe(1);
      await t.smppd.reload();
      const s = await bind(t.port, 'shop', 'sh0p');
      expect(s.resp.command_status).toBe(0);
      expect(await phoneOf(t, (await submit(s.session, '+15551234567')).message_id)).toBe('modem9');
      expect((await bind(t.port, 'shop', 'sh0p')).resp.command_status).toBe(0x0d); // max_binds 1
      s.session.close();
    } finally {
      await c.close();
    }
  });
});

describe.each(['mysql', 'pgsql'] as const)('a KSMPPD schema 1 database on %s', (dialect) => {
  it('is read as it is, and smppd db upgrade brings it to schema 4 plus ours without changing a row', async () => {
    if (!(await serverAvailable(dialect))) return;
    db = await createTempDb(dialect);
    const c = new SqlConnection(db.options);
    try {
      const dbl = dialect === 'mysql' ? 'double' : 'double precision';
      // KSMPPD's first tables: no connect_allow_ip, source_regex, priority, nor smpp_version.
      await c.query(
        `CREATE TABLE smpp_user (system_id varchar(15) NOT NULL PRIMARY KEY, password varchar(64) NOT NULL, throughput ${dbl} NOT NULL DEFAULT 0, default_smsc varchar(64), default_cost ${dbl} NOT NULL, enable_prepaid_billing integer NOT NULL DEFAULT 0, credit ${dbl} NOT NULL DEFAULT 0, callback_url varchar(255), simulate smallint NOT NULL DEFAULT 0, simulate_deliver_every integer NOT NULL, simulate_permanent_failure_every integer NOT NULL, simulate_temporary_failure_every integer NOT NULL, simulate_mo_every integer NOT NULL, max_binds integer NOT NULL DEFAULT 0)`,
      );
      await c.query(
        `CREATE TABLE smpp_route (route_id integer NOT NULL PRIMARY KEY, direction integer NOT NULL, regex text, cost ${dbl}, system_id varchar(64), smsc_id varchar(64))`,
      );
      const p = dialect === 'mysql' ? '?' : '$1';
      await c.query(
        `INSERT INTO smpp_user VALUES ('old', ${p}, 5, 'modem1', 0.25, 0, 12.5, NULL, 0, 0, 0, 0, 0, 3)`,
        [mysqlPassword('oldpw')],
      );
      // Bound: MySQL would take the backslash in a literal for an escape.
      await c.query(`INSERT INTO smpp_route VALUES (7, 1, ${p}, 0.1, 'old', 'modem2')`, ['^\\+?420']);
      const { loadSqlAccounts, loadSqlRoutes } = await import('../../src/lib/smpp/sql/load.js');
      const { upgradeKsmppdSchema } = await import('../../src/lib/smpp/sql/schema.js');
      const tables = { user: 'smpp_user', route: 'smpp_route', version: 'smpp_version' };
      const accounts = await loadSqlAccounts(c, tables);
      expect(accounts.accounts.get('old')).toMatchObject({
        maxBinds: 3,
        throughput: 5,
        defaultRoute: 'phone:modem1',
      });
      expect((await loadSqlRoutes(c, tables)).routes).toMatchObject([
        { label: 'route_id 7', phone: 'modem2', priority: 0 },
      ]);
      const before = (await c.query('SELECT * FROM smpp_user')).rows;
      const r = await upgradeKsmppdSchema(c, tables);
      expect(r.ksmppd).toEqual({ from: 1, to: 4 });
      expect(r.smsgate).toEqual({ from: 0, to: 1 });
      expect(r.changes).toEqual(
        expect.arrayContaining([
          'created smpp_version',
          'added smpp_user.connect_allow_ip',
          'added smpp_route.source_regex',
          'added smpp_route.priority',
          'added smpp_user.enabled',
        ]),
      );
      const after = (await c.query('SELECT * FROM smpp_user')).rows;
      expect(after.map((row) => row.slice(0, before[0]?.length))).toEqual(before);
      expect((await c.query(`SELECT component, version FROM smpp_version ORDER BY component`)).rows).toEqual([
        ['ksmppd', 4],
        ['smsgate', 1],
      ]);
      expect((await loadSqlAccounts(c, tables)).accounts.get('old')).toMatchObject({
        enabled: true,
        maxBinds: 3,
      });
      expect((await upgradeKsmppdSchema(c, tables)).changes).toEqual([]);
    } finally {
      await c.close();
    }
  });
});

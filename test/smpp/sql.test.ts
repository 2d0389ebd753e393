import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { createTempDb, serverAvailable, type TempDb } from '../sql/db.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import type { SchemaVersion } from '../../src/lib/services/sql/queries.js';
import { joinSent } from '../../src/lib/emulator/records.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import type { ModemEmulatorOptions } from '../../src/lib/emulator/modem.js';
import { bindCollecting, call, startTestSmppd, type TestSmppd } from './harness.js';
import { ledgerFile, topUpOffline } from '../../src/lib/smpp/policy/billing.js';

// `smppd serve` with [smsd] Service = sql: submits go into Gammu's outbox tables of a real MariaDB
// or PostgreSQL, the real `smsd run` (a process, on the modem emulator) sends them from there, and
// receipts and MO come back from sentitems and inbox to an ESME over TCP.

const ROUTES = `
[pinned-nowhere]
direction = out
destination = ^\\+420999
phone = nobody

[pinned-run1]
direction = out
destination = ^\\+420888
phone = run1
`;

interface SqlStack {
  db: TempDb;
  rig: Rig;
  smppd: TestSmppd;
  admin: SqlConnection;
  q: (name: string) => string;
  rows: (sql: string, params?: (string | number)[]) => Promise<unknown[][]>;
  out: () => string;
}

let stacks: SqlStack[] = [];

afterEach(async () => {
  for (const s of stacks) {
    await s.smppd.stop().catch(() => undefined);
    await s.rig.close();
    await s.admin.close();
    await s.db.drop();
  }
  stacks = [];
});

async function startSqlStack(
  dialect: SqlDialect,
  o: {
    version?: SchemaVersion;
    modem?: Partial<ModemEmulatorOptions>;
    daemon?: boolean;
    accountExtra?: string;
    /** Runs on the spool folder before smppd starts. */
    before?: (dir: string) => void;
  } = {},
): Promise<SqlStack> {
  const db = await createTempDb(dialect, o.version ?? 18);
  const rig = await startRig({
    config: `${FAST_TIMERS}DeliveryReport = log\nPhoneID = run1\n`,
    startDaemon: false,
    modem: o.modem,
  });
  fs.writeFileSync(
    rig.spool.config,
    fs.readFileSync(rig.spool.config, 'utf8').replace('service = files\n', db.configLines),
  );
  const routes = path.join(rig.spool.dir, 'routes.ini');
  fs.writeFileSync(routes, ROUTES);
  o.before?.(rig.spool.dir);
  const smppd = await startTestSmppd(
    [{ systemId: 'shop', password: 'pw123', extra: `mo = yes\n${o.accountExtra ?? ''}` }],
    `RoutesFile = ${routes}\n`,
    rig.spool,
  );
  const admin = new SqlConnection(db.options);
  const q = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
  const stack: SqlStack = {
    db,
    rig,
    smppd,
    admin,
    q,
    rows: async (sql, params = []) => (await admin.query(sql, params)).rows,
    out: () => `--- smppd ---\n${smppd.logs.join('\n')}\n--- smsd run ---\n${rig.output()}`,
  };
  stacks.push(stack);
  if (o.daemon !== false) rig.startDaemon();
  return stack;
}

const text = (p: PDU): string => {
  const m = p.short_message as { message?: unknown } | undefined;
  return typeof m?.message === 'string' ? m.message : '';
};

const gsm = (t: string) => Buffer.from(encodeGsm7(t));

/** SQLite too: smppd on one node (sql-sqlite.test.ts has what differs there). */
const ALL = ['mysql', 'pgsql', 'sqlite'] as const;

describe.each([
  ['mysql', 18],
  ['pgsql', 18],
  ['mysql', 17],
  ['pgsql', 17],
  ['sqlite', 18],
] as const)('smppd serve with Service = sql on %s, schema %i', (dialect, version) => {
  it('queues submits in the SQL outbox (pins as SenderID), smsd run sends them, DELIVRD receipts come from sentitems; query_sm, cancel_sm, long MO', async () => {
    if (!(await serverAvailable(dialect))) return;
    const s = await startSqlStack(dialect, { daemon: false, version });
    const { q } = s;
    expect(s.smppd.logs.join('\n')).toMatch(new RegExp(`SQL outbox .* schema ${version}`));
    const { session, got } = await bindCollecting(s.smppd.port, 'shop', 'pw123');
    const long =
      'Dlouhá zpráva přes SMPP do SQL, která se nevejde do jedné SMS a musí být rozdělena. '.repeat(2);
    const submits = await Promise.all([
      call(session, 'submit_sm', {
        source_addr: 'Shop',
        source_addr_ton: 5,
        destination_addr: '420111222333',
        dest_addr_ton: 1,
        short_message: gsm('Hello over SQL'),
        registered_delivery: 1,
      }),
      call(session, 'submit_sm', {
        destination_addr: '+420111222444',
        data_coding: 8,
        message_payload: Buffer.from(long, 'utf16le').swap16(),
        registered_delivery: 1,
      }),
      call(session, 'submit_sm', {
        destination_addr: '+420888000001',
        short_message: gsm('pinned to run1'),
        registered_delivery: 1,
      }),
      call(session, 'submit_sm', {
        destination_addr: '+420999000001',
        short_message: gsm('pinned to nobody'),
        registered_delivery: 1,
      }),
    ]);
    expect(submits.map((r) => r.command_status)).toEqual([0, 0, 0, 0]);
    const ids = submits.map((r) => String(r.message_id));

    // Before any daemon runs: the outbox rows and smppd's map, committed before the responses.
    const outbox = await s.rows(
      `SELECT o.${q('ID')}, o.${q('DestinationNumber')}, o.${q('SenderID')}, o.${q('CreatorID')}, o.${q('DeliveryReport')}, o.${q('MultiPart')}, m.${q('message_id')}, m.${q('parts')} FROM outbox o JOIN smppd_message m ON m.${q('outbox_id')} = o.${q('ID')} ORDER BY o.${q('ID')}`,
    );
    const lower = (v: unknown) => String(v).toLowerCase(); // MultiPart: 'TRUE' on SQLite, as Gammu writes it
    expect(outbox.map((r) => [r[1], r[2] ?? '', r[3], r[4], lower(r[5]), r[6], Number(r[7])])).toEqual([
      ['+420111222333', '', `smppd ${ids[0]}`, 'yes', 'false', ids[0], 1],
      ['+420111222444', '', `smppd ${ids[1]}`, 'yes', 'true', ids[1], 3],
      ['+420888000001', 'run1', `smppd ${ids[2]}`, 'yes', 'false', ids[2], 1],
      ['+420999000001', 'nobody', `smppd ${ids[3]}`, 'yes', 'false', ids[3], 1],
    ]);
    expect(Number((await s.rows('SELECT COUNT(*) FROM outbox_multipart'))[0]?.[0])).toBe(2);

    // query_sm while queued: ENROUTE.
    const queued = await call(session, 'query_sm', { message_id: ids[0] });
    expect([queued.command_status, queued.message_state]).toEqual([0, 1]);

    s.rig.startDaemon();
    await waitFor(
      () => joinSent(s.rig.emulator.modem.sent).filter((m) => m.complete).length === 3,
      15_000,
      `modem sends\n${s.out()}`,
    );
    const sent = joinSent(s.rig.emulator.modem.sent);
    expect(sent.find((m) => m.number === '+420111222333')?.text).toBe('Hello over SQL');
    expect(sent.find((m) => m.number === '+420111222444')).toMatchObject({ text: long, parts: 3 });
    expect(sent.find((m) => m.number === '+420888000001')?.text).toBe('pinned to run1');

    const receipts = await waitFor(
      () => (got.filter((p) => p.esm_class === 4).length === 3 ? got : undefined),
      15_000,
      `receipts\n${s.out()}`,
    );
    for (const id of ids.slice(0, 3)) {
      const rc = receipts.find((p) => p.receipted_message_id === id);
      expect(rc?.message_state).toBe(2);
      expect(text(rc!)).toMatch(new RegExp(`^id:${id} sub:001 dlvrd:001 .* stat:DELIVRD err:000 `));
    }
    expect(text(receipts.find((p) => p.receipted_message_id === ids[0])!)).toMatch(/text:Hello over SQL$/);
    const done = await call(session, 'query_sm', { message_id: ids[1] });
    expect([done.command_status, done.message_state]).toEqual([0, 2]);

    // The message pinned to a PhoneID no daemon has stays queued; cancel_sm takes it back.
    expect((await s.rows(`SELECT ${q('SenderID')} FROM outbox`)).map((r) => r[0])).toEqual(['nobody']);
    const cancel = await call(session, 'cancel_sm', { message_id: ids[3] });
    expect(cancel.command_status).toBe(0);
    expect(Number((await s.rows('SELECT COUNT(*) FROM outbox'))[0]?.[0])).toBe(0);
    const deleted = await call(session, 'query_sm', { message_id: ids[3] });
    expect([deleted.command_status, deleted.message_state]).toEqual([0, 4]);
    // A delivered message is past cancelling; an unknown ID is not found.
    expect((await call(session, 'cancel_sm', { message_id: ids[0] })).command_status).toBe(0x11);
    expect((await call(session, 'query_sm', { message_id: 'ffff0000ffff0000' })).command_status).toBe(0x0c);

    // MO: the handset writes to the modem, smsd run stores it in the SQL inbox, the ESME gets it.
    const moText = 'Odpověď z mobilu, dlouhá: ' + 'abcdefghij'.repeat(8);
    s.rig.emulator.modem.deliver({ from: '+420777888999', text: moText });
    const mo = await waitFor(
      () =>
        got.filter((p) => p.esm_class !== 4).length >= 2 ? got.filter((p) => p.esm_class !== 4) : undefined,
      15_000,
      `MO\n${s.out()}`,
    );
    expect(mo[0]).toMatchObject({ source_addr: '420777888999', source_addr_ton: 1, esm_class: 0x40 });
    const joined = mo
      .map((p) => {
        const m = p.short_message as { message?: unknown } | undefined;
        return typeof m?.message === 'string' ? m.message : '';
      })
      .join('');
    expect(joined).toBe(moText);
    const inbox = await s.rows(`SELECT ${q('RecipientID')} FROM inbox`);
    expect(inbox.map((r) => r[0])).toEqual(['run1', 'run1']);
    expect(s.smppd.logs.join('\n')).toMatch(
      /MO from \+420777888999 \(inbox \d+, 2 part\(s\)\) queued for shop/,
    );
    session.close();
  });
});

describe.each(ALL)('smppd serve with Service = sql on %s: failures', (dialect) => {
  it('gives UNDELIV with the network error when the report says the message failed', async () => {
    if (!(await serverAvailable(dialect))) return;
    const s = await startSqlStack(dialect, { modem: { reportStatus: 0x41 } });
    const { session, got } = await bindCollecting(s.smppd.port, 'shop', 'pw123');
    const r = await call(session, 'submit_sm', {
      destination_addr: '+420111222555',
      short_message: gsm('will fail'),
      registered_delivery: 2,
    });
    expect(r.command_status).toBe(0);
    const rc = await waitFor(() => got.find((p) => p.esm_class === 4), 15_000, `receipt\n${s.out()}`);
    expect(rc.receipted_message_id).toBe(r.message_id);
    expect(rc.message_state).toBe(5);
    expect(text(rc)).toMatch(/ stat:UNDELIV err:065 text:will fail$/);
    expect(Buffer.from(rc.network_error_code as Buffer).toString('hex')).toBe('030041');
    // The receipt is queued (durably) before the row is closed: the ESME may get it first.
    const row = async () =>
      (
        await s.rows(
          `SELECT ${s.q('state')}, ${s.q('final_state')}, ${s.q('final_error')} FROM smppd_message`,
        )
      ).map((x) => x.map(Number));
    await waitFor(async () => (await row())[0]?.[0] === 1, 15_000, 'the smppd_message row closed');
    expect(await row()).toEqual([[1, 5, 0x41]]);
    session.close();
  });

  it('sends ENROUTE when asked (registered_delivery 0x10), closes a message that wants no receipt once sent, and query_sm still follows it', async () => {
    if (!(await serverAvailable(dialect))) return;
    const s = await startSqlStack(dialect, { modem: { reportDelayMs: 1500 } });
    const { session, got } = await bindCollecting(s.smppd.port, 'shop', 'pw123');
    const r = await call(session, 'submit_sm', {
      destination_addr: '+420111222888',
      short_message: gsm('on its way'),
      registered_delivery: 0x10,
    });
    expect(r.command_status).toBe(0);
    const enroute = await waitFor(() => got.find((p) => p.esm_class === 0x20), 15_000, `ENROUTE\n${s.out()}`);
    expect(enroute.receipted_message_id).toBe(r.message_id);
    expect(text(enroute)).toMatch(/ stat:ENROUTE err:000 text:on its way$/);
    await waitFor(
      async () => Number((await s.rows(`SELECT ${s.q('state')} FROM smppd_message`))[0]?.[0]) === 1,
      5_000,
      'the smppd_message row closed',
    );
    // The report comes later; query_sm reads it from sentitems.
    await waitFor(
      async () => (await call(session, 'query_sm', { message_id: r.message_id })).message_state === 2,
      15_000,
      `DELIVERED by query_sm\n${s.out()}`,
    );
    expect(got.filter((p) => p.esm_class === 4)).toEqual([]);
    session.close();
  });

  it('gives UNDELIV when the modem cannot send it, and refunds a prepaid message', async () => {
    if (!(await serverAvailable(dialect))) return;
    const billing = (dir: string) => path.join(dir, 'smppd', 'billing');
    const s = await startSqlStack(dialect, {
      modem: { faults: { cmsErrorEvery: 1 } },
      accountExtra: 'prepaid = yes\ndefault_cost = 0.25\n',
      before: (dir) => topUpOffline(billing(dir), 'shop', 1, 'test credit'),
    });
    const { session, got } = await bindCollecting(s.smppd.port, 'shop', 'pw123');
    const r = await call(session, 'submit_sm', {
      destination_addr: '+420111222666',
      short_message: gsm('never sent'),
      registered_delivery: 1,
    });
    expect(r.command_status).toBe(0);
    const rc = await waitFor(() => got.find((p) => p.esm_class === 4), 15_000, `receipt\n${s.out()}`);
    expect(rc.receipted_message_id).toBe(r.message_id);
    expect(rc.message_state).toBe(5);
    expect(text(rc)).toMatch(/ stat:UNDELIV err:000 text:never sent$/);
    expect((await s.rows(`SELECT ${s.q('Status')} FROM sentitems`)).map((x) => x[0])).toEqual([
      'SendingError',
    ]);
    const ledger = fs.readFileSync(ledgerFile(billing(s.rig.spool.dir), 'shop'), 'utf8');
    expect(ledger).toMatch(new RegExp(`\trefund\t0\\.25\t1\t${String(r.message_id)}\t`));
    session.close();
  });

  it('answers ESME_RSYSERR when the database refuses the batch, and stores nothing of it', async () => {
    if (!(await serverAvailable(dialect))) return;
    const s = await startSqlStack(dialect, { daemon: false });
    const { session } = await bindCollecting(s.smppd.port, 'shop', 'pw123');
    const rename = (from: string, to: string) =>
      s.admin.query(
        dialect === 'mysql' ? `RENAME TABLE ${from} TO ${to}` : `ALTER TABLE ${from} RENAME TO ${to}`,
      );
    await rename('smppd_message', 'smppd_message_away');
    const refused = await call(session, 'submit_sm', {
      destination_addr: '+420111222777',
      short_message: gsm('x'),
    });
    expect(refused.command_status).toBe(0x08);
    expect(s.smppd.logs.join('\n')).toMatch(/cannot store the message: SQL outbox in .*smppd_message/);
    // The outbox row went in first, and was rolled back with the rest.
    expect(Number((await s.rows('SELECT COUNT(*) FROM outbox'))[0]?.[0])).toBe(0);
    await rename('smppd_message_away', 'smppd_message');
    const ok = await call(session, 'submit_sm', {
      destination_addr: '+420111222777',
      short_message: gsm('y'),
    });
    expect(ok.command_status).toBe(0);
    expect(Number((await s.rows('SELECT COUNT(*) FROM outbox'))[0]?.[0])).toBe(1);
    session.close();
  });
});

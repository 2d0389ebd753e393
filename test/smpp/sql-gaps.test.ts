import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU, PduValue, Session } from 'smpp';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { makeSpool } from '../helpers/spool.js';
import { createTempDb, serverAvailable, type TempDb } from '../sql/db.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { joinSent } from '../../src/lib/emulator/records.js';
import type { ModemEmulatorOptions } from '../../src/lib/emulator/modem.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import { bindCollecting, call, startTestSmppd, type TestSmppd } from './harness.js';

// The SQL outbox's gaps of the last round, on real MariaDB and PostgreSQL with the real `smsd run`
// on the modem emulator: replace_sm, priority_flag → Priority, and EXPIRED for receipts that
// never come (one node and two).

interface Stack {
  db: TempDb;
  rig: Rig;
  smppd: TestSmppd;
  admin: SqlConnection;
  q: (name: string) => string;
  rows: (sql: string, params?: (string | number)[]) => Promise<unknown[][]>;
  out: () => string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function startStack(
  dialect: SqlDialect,
  o: { modem?: Partial<ModemEmulatorOptions>; smppdExtra?: string } = {},
): Promise<Stack> {
  const db = await createTempDb(dialect, 18);
  cleanups.push(() => db.drop());
  const rig = await startRig({
    config: `${FAST_TIMERS}DeliveryReport = log\nPhoneID = run1\n`,
    startDaemon: false,
    modem: o.modem as ModemEmulatorOptions,
  });
  cleanups.push(() => rig.close());
  toSql(rig.spool.config, db);
  const smppd = await startTestSmppd(
    [{ systemId: 'shop', password: 'pw123' }],
    o.smppdExtra ?? '',
    rig.spool,
  );
  cleanups.push(() => smppd.stop());
  const admin = new SqlConnection(db.options);
  cleanups.push(() => admin.close());
  return {
    db,
    rig,
    smppd,
    admin,
    q: (n) => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`),
    rows: async (sql, params = []) => (await admin.query(sql, params)).rows,
    out: () => `--- smppd ---\n${smppd.logs.join('\n')}\n--- smsd run ---\n${rig.output()}`,
  };
}

function toSql(config: string, db: TempDb): void {
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('service = files\n', db.configLines));
}

const gsm = (t: string) => Buffer.from(encodeGsm7(t));
const receiptText = (p: PDU): string => {
  const m = p.short_message as { message?: unknown } | undefined;
  return typeof m?.message === 'string' ? m.message : '';
};

async function submit(s: Session, to: string, text: string, extra: Record<string, PduValue> = {}) {
  const r = await call(s, 'submit_sm', {
    destination_addr: to,
    short_message: gsm(text),
    registered_delivery: 1,
    ...extra,
  });
  expect(r.command_status).toBe(0);
  return String(r.message_id);
}

describe.each(['mysql', 'pgsql'] as const)('SQL outbox gaps on %s', (dialect) => {
  it('replace_sm replaces a queued message (text, multipart, registered_delivery) and refuses once a daemon has it; priority_flag orders sending', async () => {
    if (!(await serverAvailable(dialect))) return;
    const s = await startStack(dialect);
    const { q } = s;
    const { session, got } = await bindCollecting(s.smppd.port, 'shop', 'pw123');
    const low = [
      await submit(session, '+420111000001', 'low one', { priority_flag: 0 }),
      await submit(session, '+420111000002', 'low two', { priority_flag: 0 }),
      await submit(session, '+420111000003', 'low three', { priority_flag: 0 }),
    ];
    const mid = await submit(session, '+420111000004', 'mid', { priority_flag: 2 });
    const top = await submit(session, '+420111000005', 'top', { priority_flag: 3 });
    const outboxOf = async (id: string) =>
      (
        await s.rows(
          `SELECT o.${q('ID')}, o.${q('Priority')}, o.${q('TextDecoded')}, o.${q('MultiPart')}, m.${q('parts')} FROM smppd_message m JOIN outbox o ON o.${q('ID')} = m.${q('outbox_id')} WHERE m.${q('message_id')} = '${id}'`,
        )
      )[0];
    expect((await Promise.all([...low, mid, top].map(outboxOf))).map((r) => Number(r?.[1]))).toEqual([
      0, 0, 0, 2, 3,
    ]);

    // A queued message gets a new text; the top one becomes a two-part message and keeps Priority 3.
    const before = await outboxOf(low[0]!);
    expect(
      (await call(session, 'replace_sm', { message_id: low[0], short_message: gsm('replaced') }))
        .command_status,
    ).toBe(0);
    const after = await outboxOf(low[0]!);
    expect([after?.[2], Number(after?.[1])]).toEqual(['replaced', 0]);
    expect(Number(after?.[0])).not.toBe(Number(before?.[0]));
    const long = 'Top priority, now long enough for two parts. '.repeat(4);
    expect(
      (await call(session, 'replace_sm', { message_id: top, short_message: gsm(long) })).command_status,
    ).toBe(0);
    const topRow = await outboxOf(top);
    expect([Number(topRow?.[1]), String(topRow?.[3]), Number(topRow?.[4])]).toEqual([3, 'true', 2]);
    expect(Number((await s.rows(`SELECT COUNT(*) FROM outbox_multipart`))[0]?.[0])).toBe(1);
    // registered_delivery 0 keeps the original's; a new one (2: failures only) is taken.
    expect(
      (
        await call(session, 'replace_sm', {
          message_id: low[2],
          short_message: gsm('no news'),
          registered_delivery: 2,
        })
      ).command_status,
    ).toBe(0);

    // Refused: another source_addr, an unknown ID, a schedule, an empty message ID.
    const fail = async (o: Record<string, PduValue>) => (await call(session, 'replace_sm', o)).command_status;
    expect(await fail({ message_id: low[1], source_addr: 'other', short_message: gsm('x') })).toBe(0x13);
    expect(await fail({ message_id: 'ffff0000ffff0000', short_message: gsm('x') })).toBe(0x13);
    expect(
      await fail({ message_id: low[1], short_message: gsm('x'), schedule_delivery_time: '000000000100000R' }),
    ).toBe(0x61);
    expect(await fail({ message_id: low[1], short_message: Buffer.from([0x80]) })).toBe(0x13);

    // A daemon's lease (SendingTimeOut ahead) makes it not replaceable; the row stays as it was.
    const leased = Number((await outboxOf(low[1]!))?.[0]);
    const future = dialect === 'mysql' ? 'NOW() + INTERVAL 1 HOUR' : `LOCALTIMESTAMP + INTERVAL '1 hour'`;
    await s.admin.query(`UPDATE outbox SET ${q('SendingTimeOut')} = ${future} WHERE ${q('ID')} = ${leased}`);
    expect(await fail({ message_id: low[1], short_message: gsm('too late') })).toBe(0x13);
    expect((await outboxOf(low[1]!))?.[2]).toBe('low two');
    const past = dialect === 'mysql' ? 'NOW() - INTERVAL 1 HOUR' : `LOCALTIMESTAMP - INTERVAL '1 hour'`;
    await s.admin.query(`UPDATE outbox SET ${q('SendingTimeOut')} = ${past} WHERE ${q('ID')} = ${leased}`);

    // smsd run sends by Priority: top (3), mid (2), then the rest in queue order (a replaced message
    // is queued anew, behind what was queued before its replacement).
    s.rig.startDaemon();
    await waitFor(
      () => joinSent(s.rig.emulator.modem.sent).filter((m) => m.complete).length === 5,
      30_000,
      `five sent\n${s.out()}`,
    );
    const sent = joinSent(s.rig.emulator.modem.sent);
    expect(sent.map((m) => m.text)).toEqual([long, 'mid', 'low two', 'replaced', 'no news']);
    // Sent: too late to replace. Receipts quote the replaced text; the failure-only one sends none.
    await waitFor(() => got.filter((p) => p.esm_class === 4).length >= 4, 30_000, `receipts\n${s.out()}`);
    expect(await fail({ message_id: low[0], short_message: gsm('after') })).toBe(0x13);
    const r0 = got.find((p) => p.receipted_message_id === low[0]);
    expect(receiptText(r0!)).toMatch(/stat:DELIVRD .*text:replaced$/);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(got.filter((p) => p.receipted_message_id === low[2])).toEqual([]);
    session.close();
  }, 90_000);

  it('replace_sm racing smsd run: each message goes out exactly once, with the text its answer says', async () => {
    if (!(await serverAvailable(dialect))) return;
    const s = await startStack(dialect);
    const { session } = await bindCollecting(s.smppd.port, 'shop', 'pw123');
    const N = 30;
    const ids: string[] = [];
    for (let i = 0; i < N; i++)
      ids.push(await submit(session, `+42022200${String(i).padStart(4, '0')}`, `old ${i}`));
    s.rig.startDaemon();
    await waitFor(() => s.rig.emulator.modem.sent.length >= 3, 30_000, `first sends\n${s.out()}`);
    const answers = await Promise.all(
      ids.map((id, i) => call(session, 'replace_sm', { message_id: id, short_message: gsm(`new ${i}`) })),
    );
    await waitFor(
      () => joinSent(s.rig.emulator.modem.sent).filter((m) => m.complete).length >= N,
      60_000,
      `all sent\n${s.out()}`,
    );
    await new Promise((r) => setTimeout(r, 1_500)); // nothing more goes out
    const sent = joinSent(s.rig.emulator.modem.sent);
    expect(sent).toHaveLength(N);
    let replaced = 0;
    for (let i = 0; i < N; i++) {
      const status = answers[i]?.command_status;
      expect([0, 0x13]).toContain(status);
      if (status === 0) replaced++;
      const to = `+42022200${String(i).padStart(4, '0')}`;
      expect(sent.filter((m) => m.number === to).map((m) => m.text)).toEqual([
        status === 0 ? `new ${i}` : `old ${i}`,
      ]);
    }
    // The first were sent before the replaces came: refused; some later ones were replaced.
    expect(replaced).toBeGreaterThan(0);
    expect(replaced).toBeLessThan(N);
    session.close();
  }, 120_000);

  it('a sent message whose receipt never comes is closed as EXPIRED past its validity plus ReceiptGrace', async () => {
    if (!(await serverAvailable(dialect))) return;
    // The modem's reports would come in a day: never, for this test.
    const s = await startStack(dialect, {
      modem: { reportDelayMs: 86_400_000 },
      smppdExtra: 'ReceiptGrace = 1\n',
    });
    const { q } = s;
    const { session, got } = await bindCollecting(s.smppd.port, 'shop', 'pw123');
    const vp = { validity_period: '000000000002000R' }; // 2 s
    const wantsAll = await submit(session, '+420333000001', 'short lived', vp);
    const wantsFailures = await submit(session, '+420333000002', 'failures only', {
      ...vp,
      registered_delivery: 2,
    });
    const none = await submit(session, '+420333000003', 'no receipt', { ...vp, registered_delivery: 0 });
    // No validity_period: ReceiptValidity (2 days) applies, so it stays open.
    const longLived = await submit(session, '+420333000004', 'long lived');
    const started = Date.now();
    s.rig.startDaemon();
    const expired = await waitFor(
      () => {
        const r = got.filter((p) => p.esm_class === 4);
        return r.length >= 2 ? r : undefined;
      },
      30_000,
      `EXPIRED receipts\n${s.out()}`,
    );
    // Not before validity (2 s) plus grace (1 s).
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(expired.map((p) => String(p.receipted_message_id)).sort()).toEqual(
      [wantsAll, wantsFailures].sort(),
    );
    for (const p of expired) {
      expect(p.message_state).toBe(3);
      expect(receiptText(p)).toMatch(/ stat:EXPIRED err:000 /);
    }
    expect((await call(session, 'query_sm', { message_id: wantsAll })).message_state).toBe(3);
    expect((await call(session, 'query_sm', { message_id: longLived })).message_state).toBe(1);
    const status = async (id: string) =>
      String(
        (
          await s.rows(
            `SELECT st.${q('Status')} FROM sentitems st JOIN smppd_message m ON m.${q('outbox_id')} = st.${q('ID')} WHERE m.${q('message_id')} = '${id}'`,
          )
        )[0]?.[0],
      );
    expect(await status(wantsAll)).toBe('DeliveryUnknown');
    expect(await status(wantsFailures)).toBe('DeliveryUnknown');
    expect(await status(longLived)).toBe('SendingOK');
    await new Promise((r) => setTimeout(r, 2_000)); // no repeat, nothing for the others
    expect(got.filter((p) => p.esm_class === 4)).toHaveLength(2);
    expect(got.some((p) => p.receipted_message_id === none || p.receipted_message_id === longLived)).toBe(
      false,
    );
    session.close();
  }, 60_000);

  it('two nodes: each expired message gets one EXPIRED receipt, through the node its receiver is bound to', async () => {
    if (!(await serverAvailable(dialect))) return;
    const s = await startStack(dialect, {
      modem: { reportDelayMs: 86_400_000 },
      smppdExtra: 'ReceiptGrace = 1\nNodeId = node-a\nNodeTimeout = 1\n',
    });
    const spoolB = makeSpool();
    cleanups.push(async () => spoolB.cleanup());
    toSql(spoolB.config, s.db);
    const b = await startTestSmppd(
      [{ systemId: 'shop', password: 'pw123' }],
      'ReceiptGrace = 1\nNodeId = node-b\nNodeTimeout = 1\n',
      spoolB,
    );
    cleanups.push(() => b.stop());
    const tx = await bindCollecting(s.smppd.port, 'shop', 'pw123', 'bind_transmitter');
    const txB = await bindCollecting(b.port, 'shop', 'pw123', 'bind_transmitter');
    const rx = await bindCollecting(b.port, 'shop', 'pw123', 'bind_receiver');
    const vp = { validity_period: '000000000002000R' };
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push(
        await submit(
          i % 2 ? tx.session : txB.session,
          `+42044400${String(i).padStart(4, '0')}`,
          `x ${i}`,
          vp,
        ),
      );
    s.rig.startDaemon();
    await waitFor(() => rx.got.length >= 10, 45_000, `10 EXPIRED receipts\n${s.out()}`);
    await new Promise((r) => setTimeout(r, 3_000)); // two more polls of each node: no repeat
    expect(rx.got.map((p) => String(p.receipted_message_id)).sort()).toEqual([...ids].sort());
    expect(rx.got.every((p) => p.message_state === 3)).toBe(true);
    for (const c of [tx, txB, rx]) c.session.close();
  }, 90_000);
});

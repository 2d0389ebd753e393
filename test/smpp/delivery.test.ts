import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import { bind, bindCollecting, call, closed, startTestSmppd, type TestSmppd } from './harness.js';
import { waitFor } from '../helpers/rig.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';

// Receipts and MO from what `smsd run` leaves in the spool (reports/, error/, inbox/), written here
// by hand; test/smpp/e2e.test.ts does the same with the real daemon and the emulator.

const ACCOUNTS = [
  { systemId: 'alpha', password: 'secret1' },
  { systemId: 'inbound', password: 'secret2', extra: 'mo = yes\n' },
];
let t: TestSmppd | undefined;
afterEach(async () => {
  await t?.stop();
  t?.spool.cleanup();
  t = undefined;
});

const gsm = (text: string): Buffer => Buffer.from(encodeGsm7(text));

/** What `smsd run` does once it sent a message and got its status report. */
function sendAndReport(s: TestSmppd, name: string, category: 'delivered' | 'failed', status = 0): void {
  fs.renameSync(path.join(s.spool.outbox, name), path.join(s.spool.sent, name));
  const now = new Date().toISOString();
  fs.writeFileSync(
    path.join(s.spool.dir, 'reports', `${name}.01.json`),
    JSON.stringify({
      id: name,
      part: 1,
      parts: 1,
      number: '+420123456789',
      mr: 1,
      phoneId: 'x',
      sentAt: now,
      status,
      category,
      description: '',
      submittedAt: now,
      dischargedAt: now,
      receivedAt: now,
      history: [],
    }),
  );
}

function outboxName(s: TestSmppd, id: string): string {
  const n = fs.readdirSync(s.spool.outbox).find((x) => x.includes(`smpp-${id}`));
  if (!n) throw new Error(`no outbox file for ${id}`);
  return n;
}

const text = (p: PDU): string => {
  const m = p.short_message as { message?: unknown } | undefined;
  return typeof m?.message === 'string' ? m.message : '';
};

async function submitWithReceipt(
  session: Awaited<ReturnType<typeof bind>>['session'],
  rd = 1,
): Promise<string> {
  const r = await call(session, 'submit_sm', {
    source_addr: '12345',
    source_addr_ton: 0,
    destination_addr: '+420123456789',
    data_coding: 0,
    short_message: gsm('Your code is 1234, valid for 5 minutes'),
    registered_delivery: rd,
  });
  expect(r.command_status).toBe(0);
  await t?.settled(); // the outbox file follows the acknowledgement
  return String(r.message_id);
}

describe('delivery receipts', () => {
  it('DELIVRD to the bound transceiver that submitted, with the right id, text and TLVs', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { session, got } = await bindCollecting(t.port, 'alpha', 'secret1');
    const id = await submitWithReceipt(session);
    sendAndReport(t, outboxName(t, id), 'delivered');
    const d = await waitFor(() => got[0], 5_000, 'receipt');
    expect(d.esm_class).toBe(4);
    expect(d.source_addr).toBe('420123456789');
    expect(d.destination_addr).toBe('12345');
    expect(text(d)).toMatch(
      new RegExp(
        `^id:${id} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:Your code is 1234, v$`,
      ),
    );
    expect(d.receipted_message_id).toBe(id);
    expect(d.message_state).toBe(2);
    expect(Buffer.from(d.network_error_code as Buffer).toString('hex')).toBe('030000');
    // Answered: the queue is empty again.
    await waitFor(
      () => fs.readdirSync(path.join(t!.spool.dir, 'smppd', 'queue', 'alpha')).length === 0,
      5_000,
      'queue drained',
    );
    session.close();
  });

  it('an intermediate notification (ENROUTE, esm_class 0x20) when asked for with registered_delivery 0x10', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { session, got } = await bindCollecting(t.port, 'alpha', 'secret1');
    const id = await submitWithReceipt(session, 0x11);
    const name = outboxName(t, id);
    fs.renameSync(path.join(t.spool.outbox, name), path.join(t.spool.sent, name));
    const enroute = await waitFor(() => got[0], 5_000, 'intermediate notification');
    expect(enroute).toMatchObject({ esm_class: 0x20, message_state: 1, receipted_message_id: id });
    expect(text(enroute)).toContain('stat:ENROUTE');
    fs.renameSync(path.join(t.spool.sent, name), path.join(t.spool.outbox, name));
    sendAndReport(t, name, 'delivered');
    await waitFor(() => got.length === 2, 5_000, 'final receipt');
    expect(got[1]).toMatchObject({ esm_class: 4, message_state: 2 });
    // Without bit 4, no intermediate notification.
    const plain = await submitWithReceipt(session, 1);
    const plainName = outboxName(t, plain);
    fs.renameSync(path.join(t.spool.outbox, plainName), path.join(t.spool.sent, plainName));
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(2);
    session.close();
  });

  it('an SMPP 3.3 receiver gets the receipt text without TLVs', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { connect } = await import('./harness.js');
    const session = await connect(t.port);
    const got: PDU[] = [];
    session.on('deliver_sm', (p: PDU) => {
      got.push(p);
      session.send(p.response());
    });
    expect(
      (
        await call(session, 'bind_transceiver', {
          system_id: 'alpha',
          password: 'secret1',
          interface_version: 0x33,
        })
      ).command_status,
    ).toBe(0);
    const id = await submitWithReceipt(session);
    sendAndReport(t, outboxName(t, id), 'delivered');
    const d = await waitFor(() => got[0], 5_000, 'receipt');
    expect(text(d)).toContain(`id:${id} `);
    expect(d.receipted_message_id).toBeUndefined();
    expect(d.message_state).toBeUndefined();
    session.close();
  });

  it('finds the reports under StatePath when the config sets it (as smsd run writes them there)', async () => {
    const { makeSpool } = await import('../helpers/spool.js');
    const base = makeSpool();
    fs.mkdirSync(path.join(base.dir, 'state'));
    fs.appendFileSync(base.config, `StatePath = ${path.join(base.dir, 'state')}\n`);
    t = await startTestSmppd(ACCOUNTS, '', base);
    const { session, got } = await bindCollecting(t.port, 'alpha', 'secret1');
    const id = await submitWithReceipt(session);
    const name = outboxName(t, id);
    fs.renameSync(path.join(t.spool.outbox, name), path.join(t.spool.sent, name));
    const now = new Date().toISOString();
    fs.writeFileSync(
      path.join(base.dir, 'state', 'reports', `${name}.01.json`),
      JSON.stringify({ id: name, part: 1, parts: 1, status: 0, category: 'delivered', dischargedAt: now }),
    );
    await waitFor(() => got[0], 5_000, 'receipt');
    expect(got[0]?.receipted_message_id).toBe(id);
    expect(fs.existsSync(path.join(base.dir, 'state', 'smppd', 'done.log'))).toBe(true);
    session.close();
  });

  it('UNDELIV for a failed report and for a message smsd run moved to error/; none when not asked for', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { session, got } = await bindCollecting(t.port, 'alpha', 'secret1');
    const failed = await submitWithReceipt(session);
    const errored = await submitWithReceipt(session, 2);
    const quiet = await submitWithReceipt(session, 0);
    const okButFailureOnly = await submitWithReceipt(session, 2);
    sendAndReport(t, outboxName(t, failed), 'failed', 0x46);
    fs.renameSync(
      path.join(t.spool.outbox, outboxName(t, errored)),
      path.join(t.spool.error, outboxName(t, errored)),
    );
    sendAndReport(t, outboxName(t, quiet), 'delivered');
    sendAndReport(t, outboxName(t, okButFailureOnly), 'delivered');
    await waitFor(() => got.length >= 2, 5_000, 'two receipts');
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(2);
    const byId = new Map(got.map((p) => [p.receipted_message_id, p]));
    expect(text(byId.get(failed)!)).toContain('stat:UNDELIV err:070');
    expect(byId.get(failed)?.message_state).toBe(5);
    expect(text(byId.get(errored)!)).toContain('stat:UNDELIV');
    session.close();
  });

  it('queues receipts while no receiver is bound and sends them in order after a rebind, even across a restart', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const tx = (await bind(t.port, 'alpha', 'secret1', 'bind_transmitter')).session;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await submitWithReceipt(tx));
    tx.close();
    await closed(tx);
    const names = ids.map((id) => outboxName(t!, id));
    for (const n of names) {
      sendAndReport(t, n, 'delivered');
      await new Promise((r) => setTimeout(r, 30)); // three separate events, in this order
    }
    const queueDir = path.join(t.spool.dir, 'smppd', 'queue', 'alpha');
    await waitFor(
      () => fs.existsSync(queueDir) && fs.readdirSync(queueDir).length === 3,
      5_000,
      'three queued receipts',
    );
    // Restart smppd on the same spool: nothing is lost, nothing is queued twice.
    const spool = t.spool;
    await t.stop();
    fs.writeFileSync(
      spool.config,
      fs.readFileSync(spool.config, 'utf8').replace(/\n\[smppd\][\s\S]*$/, '\n'),
    );
    t = await startTestSmppd(ACCOUNTS, '', spool);
    await new Promise((r) => setTimeout(r, 200));
    expect(fs.readdirSync(queueDir)).toHaveLength(3);
    const { session: rx, got } = await bindCollecting(t.port, 'alpha', 'secret1', 'bind_receiver');
    await waitFor(() => got.length === 3, 5_000, 'three receipts');
    expect(got.map((p) => p.receipted_message_id)).toEqual(ids);
    await waitFor(() => fs.readdirSync(queueDir).length === 0, 5_000, 'queue drained');
    rx.close();
  });

  it('keeps a receipt the ESME refuses and sends it again', async () => {
    t = await startTestSmppd(ACCOUNTS);
    let refuse = true;
    const { session, got } = await bindCollecting(t.port, 'alpha', 'secret1', 'bind_transceiver', () =>
      refuse ? 0x64 : 0,
    );
    const id = await submitWithReceipt(session);
    sendAndReport(t, outboxName(t, id), 'delivered');
    await waitFor(() => got.length === 1, 5_000, 'first attempt');
    refuse = false;
    // The retry comes after the back-off (5 s by default), or at once on a rebind.
    session.close();
    await closed(session);
    const { session: again, got: got2 } = await bindCollecting(t.port, 'alpha', 'secret1', 'bind_receiver');
    await waitFor(() => got2.length === 1, 5_000, 'second attempt');
    expect(got2[0]?.receipted_message_id).toBe(id);
    again.close();
  });

  it('drops a receipt the ESME refuses for good (ESME_RX_P_APPN)', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { session, got } = await bindCollecting(t.port, 'alpha', 'secret1', 'bind_transceiver', () => 0x65);
    const id = await submitWithReceipt(session);
    sendAndReport(t, outboxName(t, id), 'delivered');
    await waitFor(() => got.length === 1, 5_000, 'the receipt');
    const queueDir = path.join(t.spool.dir, 'smppd', 'queue', 'alpha');
    await waitFor(() => fs.readdirSync(queueDir).length === 0, 5_000, 'dropped from the queue');
    expect(t.logs.some((l) => l.includes('refused for good'))).toBe(true);
    session.close();
  });
});

describe('query_sm and cancel_sm', () => {
  it('query_sm follows the message from the outbox to DELIVERED; only for its submitter', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { session } = await bind(t.port, 'alpha', 'secret1');
    const id = await submitWithReceipt(session, 0);
    const q1 = await call(session, 'query_sm', { message_id: id });
    expect(q1).toMatchObject({ command_status: 0, message_id: id, message_state: 1 });
    sendAndReport(t, outboxName(t, id), 'delivered');
    const q2 = await call(session, 'query_sm', { message_id: id });
    expect(q2).toMatchObject({ command_status: 0, message_state: 2 });
    expect(q2.final_date).toBeInstanceOf(Date);
    const other = (await bind(t.port, 'inbound', 'secret2', 'bind_transmitter')).session;
    expect((await call(other, 'query_sm', { message_id: id })).command_status).toBe(0x0c);
    expect((await call(session, 'query_sm', { message_id: '0123456789abcdef' })).command_status).toBe(0x0c);
    other.close();
    session.close();
  });

  it('cancel_sm takes a queued message out (no receipt, query says DELETED); not one a daemon is sending', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { session, got } = await bindCollecting(t.port, 'alpha', 'secret1');
    const id = await submitWithReceipt(session);
    const name = outboxName(t, id);
    expect((await call(session, 'cancel_sm', { message_id: id })).command_status).toBe(0);
    expect(fs.existsSync(path.join(t.spool.error, name))).toBe(true);
    expect(fs.readFileSync(path.join(t.spool.error, `${name}.reason`), 'utf8')).toContain('cancel_sm');
    expect((await call(session, 'query_sm', { message_id: id })).message_state).toBe(4);
    expect((await call(session, 'cancel_sm', { message_id: id })).command_status).toBe(0x11);
    // A file a daemon has claimed (its lock directory is fresh) stays.
    const busy = await submitWithReceipt(session);
    fs.mkdirSync(path.join(t.spool.outbox, `${outboxName(t, busy)}.lock`));
    expect((await call(session, 'cancel_sm', { message_id: busy })).command_status).toBe(0x11);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(0);
    session.close();
  });
});

describe('window', () => {
  it('keeps at most Window deliver_sm unanswered per bind; the rest wait in the queue', async () => {
    t = await startTestSmppd(ACCOUNTS, 'Window = 2\n');
    const { session } = await bind(t.port, 'alpha', 'secret1');
    const held: PDU[] = [];
    session.on('deliver_sm', (p: PDU) => held.push(p));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await submitWithReceipt(session));
    for (const id of ids) sendAndReport(t, outboxName(t, id), 'delivered');
    await waitFor(() => held.length === 2, 5_000, 'a full window');
    await new Promise((r) => setTimeout(r, 300));
    expect(held).toHaveLength(2);
    // Answering frees the window: the others follow, in order.
    session.on('deliver_sm', (p: PDU) => session.send(p.response()));
    for (const p of held.splice(0)) session.send(p.response());
    await waitFor(() => held.length === 3, 5_000, 'the rest');
    expect(held.map((p) => p.receipted_message_id)).toEqual(ids.slice(2));
    session.close();
  });
});

describe('MO', () => {
  it('goes to the account marked mo = yes, short and long, GSM and UCS-2', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { session, got } = await bindCollecting(t.port, 'inbound', 'secret2', 'bind_receiver');
    fs.writeFileSync(path.join(t.spool.inbox, 'IN20261127_101500_00_+420777888999_00.txt'), 'Hi, smsgate!');
    const long = 'Ahoj světe, tohle je dlouhá zpráva. '.repeat(3);
    fs.writeFileSync(
      path.join(t.spool.inbox, 'IN20261127_101501_00_+420777888990_00.txt'),
      long.slice(0, 60),
    );
    fs.writeFileSync(path.join(t.spool.inbox, 'IN20261127_101501_00_+420777888990_01.txt'), long.slice(60));
    await waitFor(() => got.length === 1 + Math.ceil(long.length / 67), 5_000, 'MO deliver_sm');
    expect(got[0]).toMatchObject({
      source_addr: '420777888999',
      source_addr_ton: 1,
      esm_class: 0,
      data_coding: 0,
    });
    expect(text(got[0]!)).toBe('Hi, smsgate!');
    const parts = got.slice(1);
    expect(parts.every((p) => p.esm_class === 0x40 && p.data_coding === 8)).toBe(true);
    expect(parts.map(text).join('')).toBe(long);
    session.close();
  });

  it('reads InboxFormat = detail (one SMS-backup file) and 8-bit .bin parts', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const { session, got } = await bindCollecting(t.port, 'inbound', 'secret2', 'bind_receiver');
    const { formatBackup } = await import('../../src/lib/smsbackup/writer.js');
    const entry = {
      pdu: 'Deliver' as const,
      state: 'UnRead' as const,
      number: '+420600700800',
      name: '',
      text: 'Zdravím z detailu',
      coding: 'Unicode_No_Compression' as const,
      folder: 1,
      length: 17,
      messageClass: -1,
      replySmsc: false,
      rejectDuplicates: false,
      replaceMessage: 0,
      messageReference: 0,
    };
    fs.writeFileSync(
      path.join(t.spool.inbox, 'IN20261127_101700_00_+420600700800_00.txt'),
      formatBackup([entry], new Date()),
    );
    await waitFor(() => got.length === 1, 5_000, 'detail MO');
    expect(got[0]).toMatchObject({ source_addr: '420600700800', data_coding: 8 });
    expect(text(got[0]!)).toBe('Zdravím z detailu');
    fs.writeFileSync(
      path.join(t.spool.inbox, 'IN20261127_101701_00_+420600700801_00.bin'),
      Buffer.from([1, 2, 3, 0xff]),
    );
    await waitFor(() => got.length === 2, 5_000, 'binary MO');
    expect(got[1]?.data_coding).toBe(4);
    expect(Buffer.from((got[1]?.short_message as { message: Buffer }).message).toString('hex')).toBe(
      '010203ff',
    );
    session.close();
  });

  it.each(['sar', 'payload'])('delivers a long MO as the account asks: long_mo = %s', async (mode) => {
    t = await startTestSmppd([
      { systemId: 'inbound', password: 'secret2', extra: `mo = yes\nlong_mo = ${mode}\n` },
    ]);
    const { session, got } = await bindCollecting(t.port, 'inbound', 'secret2', 'bind_receiver');
    const long = 'A long message from a handset, more than one SMS can carry in GSM seven bit. '.repeat(3);
    fs.writeFileSync(path.join(t.spool.inbox, 'IN20261127_101800_00_+420777000111_00.txt'), long);
    if (mode === 'payload') {
      const d = await waitFor(() => got[0], 5_000, 'one deliver_sm');
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toHaveLength(1);
      expect((d.message_payload as { message?: string }).message).toBe(long);
    } else {
      await waitFor(() => got.length === Math.ceil(long.length / 153), 5_000, 'SAR parts');
      expect(got.map((p) => p.sar_segment_seqnum)).toEqual([1, 2]);
      expect(new Set(got.map((p) => p.sar_msg_ref_num)).size).toBe(1);
      expect(got.every((p) => p.esm_class === 0 && p.sar_total_segments === 2)).toBe(true);
      expect(got.map(text).join('')).toBe(long);
    }
    session.close();
  });

  it('ignores what was in the inbox before smppd first ran', async () => {
    t = await startTestSmppd(ACCOUNTS);
    const spool = t.spool;
    await t.stop();
    fs.rmSync(path.join(spool.dir, 'smppd'), { recursive: true });
    fs.writeFileSync(path.join(spool.inbox, 'IN20261127_101500_00_+420777888999_00.txt'), 'old');
    fs.writeFileSync(
      spool.config,
      fs.readFileSync(spool.config, 'utf8').replace(/\n\[smppd\][\s\S]*$/, '\n'),
    );
    t = await startTestSmppd(ACCOUNTS, '', spool);
    const { session, got } = await bindCollecting(t.port, 'inbound', 'secret2', 'bind_receiver');
    fs.writeFileSync(path.join(spool.inbox, 'IN20261127_101600_00_+420777888999_00.txt'), 'new');
    await waitFor(() => got.length === 1, 5_000, 'new MO');
    await new Promise((r) => setTimeout(r, 300));
    expect(got.map(text)).toEqual(['new']);
    session.close();
  });
});

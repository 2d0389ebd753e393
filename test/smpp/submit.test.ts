import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import smpp, { type PDU, type Session } from 'smpp';
import { waitFor } from '../helpers/rig.js';
import { bind, call, outboxMessages, startTestSmppd, type TestSmppd } from './harness.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import { parseUdh } from '../../src/lib/sms/udh.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';

// submit_sm / data_sm in every form an ESME uses; the outbox file must decode to what was submitted.

let t: TestSmppd;
let s: Session;
beforeAll(async () => {
  t = await startTestSmppd([
    { systemId: 'alpha', password: 'secret1' },
    { systemId: 'slow', password: 'secret2', extra: 'throughput = 5\n' },
    {
      systemId: 'picky',
      password: 'secret3',
      extra: 'source_pattern = Shop|\\d{5}\nmessage_id = decimal\nmessage_id_length = 10\n',
    },
  ]);
  s = (await bind(t.port, 'alpha', 'secret1')).session;
});
afterAll(async () => {
  s?.close();
  await t?.stop();
  t?.spool.cleanup();
});
beforeEach(async () => {
  await t.settled(); // a file of the previous test could otherwise appear after this clean-up
  for (const n of fs.readdirSync(t.spool.outbox))
    if (n.startsWith('OUT')) fs.rmSync(path.join(t.spool.outbox, n));
});

const gsm = (text: string): Buffer => Buffer.from(encodeGsm7(text));
const ucs2 = (text: string): Buffer => Buffer.from(text, 'utf16le').swap16();
const DEST = { destination_addr: '420123456789', dest_addr_ton: 1, dest_addr_npi: 1, source_addr: 'Shop' };

async function submit(options: Record<string, unknown>): Promise<{ status: number; id: string }> {
  const r = await call(s, 'submit_sm', { ...DEST, ...options } as never);
  await t.settled(); // the outbox file follows the acknowledgement
  return { status: r.command_status, id: typeof r.message_id === 'string' ? r.message_id : '' };
}

function udhOf(name: string, part = 0): Uint8Array | undefined {
  const r = readOutboxFile(name, fs.readFileSync(path.join(t.spool.outbox, name)), 'auto', 0);
  if (!r.ok) throw new Error(r.reason);
  return r.message.parts[part]?.udh;
}

describe('single messages', () => {
  it.each([
    [
      'GSM-7 (data_coding 0, with extension characters)',
      0,
      gsm('Hello {world} €5 @home'),
      'Hello {world} €5 @home',
    ],
    ['IA5 (data_coding 1)', 1, Buffer.from('Plain ASCII text'), 'Plain ASCII text'],
    ['Latin-1 (data_coding 3)', 3, Buffer.from('Grüße naïve ÿ', 'latin1'), 'Grüße naïve ÿ'],
    ['UCS-2 (data_coding 8)', 8, ucs2('Привет 你好 😀'), 'Привет 你好 😀'],
    ['GSM class 1 group (0xF1)', 0xf1, gsm('class one'), 'class one'],
  ])('%s', async (_what, dc, body, text) => {
    const r = await submit({ data_coding: dc, short_message: body });
    expect(r.status).toBe(0);
    const files = outboxMessages(t.spool);
    expect(files).toMatchObject([{ text, parts: 1 }]);
    expect(files[0]?.name).toContain(`_+420123456789_smpp-${r.id}.smsbackup`);
  });

  it('keeps the message class of a flash message (0xF0)', async () => {
    expect((await submit({ data_coding: 0xf0, short_message: gsm('flash') })).status).toBe(0);
    const name = outboxMessages(t.spool)[0]?.name ?? '';
    const r = readOutboxFile(name, fs.readFileSync(path.join(t.spool.outbox, name)), 'auto', 0);
    expect(r.ok && r.message.parts[0]?.messageClass).toBe(0);
  });
});

describe('validity', () => {
  it.each([
    ['relative 1 day', '000001000000000R', 0xa7],
    ['relative 2 hours', '000000020000000R', 23],
    ['absolute, in 3 days (UTC+1)', 'ABS', 0xa9],
  ])('%s becomes the relative validity smsd run sends', async (_w, vp, octet) => {
    let v = vp;
    if (v === 'ABS') {
      const d = new Date(Date.now() + 3 * 86400_000 + 3600_000 - 60_000);
      const p = (n: number): string => String(n).padStart(2, '0');
      v = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}004+`;
    }
    expect((await submit({ data_coding: 0, short_message: gsm('valid'), validity_period: v })).status).toBe(
      0,
    );
    const name = outboxMessages(t.spool)[0]?.name ?? '';
    const r = readOutboxFile(name, fs.readFileSync(path.join(t.spool.outbox, name)), 'auto', 0);
    expect(r.ok && r.message.parts[0]?.validity).toBe(octet);
  });
});

describe('long messages', () => {
  const long = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(7).trim();

  it('segments with their own UDH (esm_class UDHI) stay segments with that UDH', async () => {
    const parts = [long.slice(0, 153), long.slice(153, 306)];
    for (const [i, p] of parts.entries()) {
      const udh = Buffer.from([5, 0, 3, 0x42, 2, i + 1]);
      expect(
        (await submit({ esm_class: 0x40, data_coding: 0, short_message: Buffer.concat([udh, gsm(p)]) }))
          .status,
      ).toBe(0);
    }
    const files = outboxMessages(t.spool);
    expect(files.map((f) => f.text).sort()).toEqual([...parts].sort());
    const udhs = files.map((f) => parseUdh(udhOf(f.name) ?? Buffer.alloc(0))[0]);
    expect(udhs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'concat', ref: 0x42, total: 2, seq: 1 }),
        expect.objectContaining({ kind: 'concat', ref: 0x42, total: 2, seq: 2 }),
      ]),
    );
  });

  it('SAR TLVs become a concatenation UDH (16-bit reference when needed), Latin-1 and UCS-2', async () => {
    const a = 'Première partie, déjà envoyée ';
    const b = 'и вторая часть';
    expect(
      (
        await submit({
          data_coding: 3,
          short_message: Buffer.from(a, 'latin1'),
          sar_msg_ref_num: 700,
          sar_total_segments: 2,
          sar_segment_seqnum: 1,
        })
      ).status,
    ).toBe(0);
    expect(
      (
        await submit({
          data_coding: 8,
          short_message: ucs2(b),
          sar_msg_ref_num: 700,
          sar_total_segments: 2,
          sar_segment_seqnum: 2,
        })
      ).status,
    ).toBe(0);
    const files = outboxMessages(t.spool);
    expect(files.map((f) => f.text).sort()).toEqual([a, b].sort());
    for (const f of files)
      expect(parseUdh(udhOf(f.name) ?? Buffer.alloc(0))[0]).toMatchObject({
        kind: 'concat',
        ref: 700,
        total: 2,
        ref16bit: true,
      });
  });

  it.each([
    ['GSM-7', 0, gsm],
    ['Latin-1', 3, (x: string) => Buffer.from(x, 'latin1')],
    ['UCS-2', 8, ucs2],
  ])('message_payload in %s is split into one multipart outbox file', async (_w, dc, enc) => {
    const text = dc === 8 ? `Ж ${long}` : long;
    expect((await submit({ data_coding: dc, message_payload: enc(text) })).status).toBe(0);
    const files = outboxMessages(t.spool);
    expect(files).toHaveLength(1);
    expect(files[0]?.text).toBe(text);
    expect(files[0]?.parts).toBe(dc === 8 ? Math.ceil(text.length / 67) : Math.ceil(text.length / 153));
  });

  it('data_sm with message_payload gets a data_sm_resp with a message_id', async () => {
    const r = await call(s, 'data_sm', {
      ...DEST,
      data_coding: 0,
      message_payload: gsm('via data_sm'),
    } as never);
    expect(r.command).toBe('data_sm_resp');
    expect(r.command_status).toBe(0);
    expect(r.message_id).toMatch(/^[0-9a-f]{16}$/);
    await t.settled();
    expect(outboxMessages(t.spool)).toMatchObject([{ text: 'via data_sm' }]);
  });
});

describe('refusals', () => {
  it.each([
    ['empty destination', { destination_addr: '' }, 0x0b],
    ['alphanumeric destination', { destination_addr: 'Hello', dest_addr_ton: 5 }, 0x0b],
    ['unsupported data_coding', { data_coding: 5 }, 0x45],
    ['short_message and message_payload', { message_payload: gsm('again') }, 0xc4],
    [
      'UDHI with a UDH longer than the message',
      { esm_class: 0x40, short_message: Buffer.from([9, 0, 3]) },
      0x43,
    ],
    ['registered_delivery 3', { registered_delivery: 3 }, 0x07],
    ['incomplete SAR', { sar_msg_ref_num: 1 }, 0xc3],
    ['scheduled delivery', { schedule_delivery_time: '000000010000000R' }, 0x61],
    ['malformed validity_period', { validity_period: 'tomorrow' }, 0x62],
    ['validity_period in the past', { validity_period: '200101000000000+' }, 0x62],
  ])('%s', async (_w, options, status) => {
    expect((await submit({ data_coding: 0, short_message: gsm('text'), ...options })).status).toBe(status);
    expect(outboxMessages(t.spool)).toHaveLength(0);
  });
});

describe('account settings', () => {
  it('source_pattern limits source_addr; message_id = decimal with its length', async () => {
    const p = (await bind(t.port, 'picky', 'secret3', 'bind_transmitter')).session;
    const ok = await call(p, 'submit_sm', {
      ...DEST,
      source_addr: '12345',
      data_coding: 0,
      short_message: gsm('a'),
    } as never);
    expect(ok.command_status).toBe(0);
    expect(ok.message_id).toMatch(/^[1-9]\d{9}$/);
    expect(
      (await call(p, 'submit_sm', { ...DEST, data_coding: 0, short_message: gsm('b') } as never))
        .command_status,
    ).toBe(0);
    expect(
      (
        await call(p, 'submit_sm', {
          ...DEST,
          source_addr: 'Other',
          data_coding: 0,
          short_message: gsm('c'),
        } as never)
      ).command_status,
    ).toBe(0x0a);
    p.close();
  });
});

describe('throughput', () => {
  it('answers ESME_RTHROTTLED beyond the account rate (every part counts)', async () => {
    const slow = (await bind(t.port, 'slow', 'secret2', 'bind_transmitter')).session;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(slow, 'submit_sm', { ...DEST, data_coding: 0, short_message: gsm('hi') } as never),
      ),
    );
    const ok = results.filter((r) => r.command_status === 0).length;
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(ok).toBeLessThanOrEqual(6);
    expect(results.filter((r) => r.command_status === 0x58)).toHaveLength(10 - ok);
    slow.close();
  });

  it('acknowledges 500 pipelined submits, each with its own id and file', async () => {
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        call(s, 'submit_sm', { ...DEST, data_coding: 0, short_message: gsm(`n${i}`) } as never),
      ),
    );
    expect(results.every((r) => r.command_status === 0)).toBe(true);
    expect(new Set(results.map((r) => r.message_id)).size).toBe(500);
    await t.settled();
    expect(outboxMessages(t.spool)).toHaveLength(500);
  });
});

describe('durability', () => {
  it("journals every acknowledged file in the format smsd run's recovery reads", async () => {
    const { readSegment, JOURNAL_DIR } = await import('../../src/lib/spool/journal.js');
    const r = await submit({ data_coding: 0, short_message: gsm('journaled') });
    expect(r.status).toBe(0);
    const dir = path.join(t.spool.outbox, JOURNAL_DIR);
    const records = fs
      .readdirSync(dir)
      .flatMap((f) => readSegment(fs.readFileSync(path.join(dir, f))).records);
    const rec = records.find((x) => x.name.includes(`smpp-${r.id}`));
    expect(rec?.data.equals(fs.readFileSync(path.join(t.spool.outbox, rec.name)))).toBe(true);
  });
});

describe('shutdown', () => {
  it('answers every submit it took before unbinding; each acknowledged message is in the outbox', async () => {
    const own = await startTestSmppd([{ systemId: 'alpha', password: 'secret1' }]);
    try {
      const { session } = await bind(own.port, 'alpha', 'secret1');
      session.on('unbind', (p: PDU) => session.send(p.response()));
      const answers: PDU[] = [];
      for (let i = 0; i < 300; i++)
        session.send(
          new smpp.PDU('submit_sm', { ...DEST, data_coding: 0, short_message: gsm(`m${i}`) }),
          (r: PDU) => answers.push(r),
        );
      await waitFor(() => answers.length >= 50, 5_000, 'first answers');
      await own.smppd.stop();
      const ok = answers.filter((r) => r.command_status === 0);
      expect(ok.length).toBeGreaterThanOrEqual(50);
      expect(answers.every((r) => r.command_status === 0 || r.command_status === 8)).toBe(true);
      const names = fs.readdirSync(own.spool.outbox);
      for (const r of ok) expect(names.some((n) => n.includes(`smpp-${String(r.message_id)}.`))).toBe(true);
      expect(own.logs.some((l) => l.includes('smppd stopped'))).toBe(true);
    } finally {
      own.spool.cleanup();
    }
  });
});

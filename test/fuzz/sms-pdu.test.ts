import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type MessageClass,
  PduError,
  buildConcatUdh,
  bufferToHex,
  decodePdu,
  decodeSubmit,
  encodeDeliver,
  encodeStatusReport,
  encodeSubmit,
  gsm7Septets,
} from '../../src/lib/sms/index.js';
import { onlyThrows, params, timed } from './props.js';

// SMS PDU decoding (src/lib/sms/): whatever the modem prints, decodePdu throws nothing but PduError;
// what encodeSubmit writes decodes back to the same fields.

const when = new Date('2024-05-01T12:30:00Z');
const udh = buildConcatUdh({ ref: 9, total: 2, seq: 1, ref16bit: false });
const VALID = [
  '07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07',
  '0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B',
  '038121431100048121430000FF0631D98C56B301',
  encodeSubmit({ number: '+420123', text: 'a{b}c'.repeat(20), coding: 'gsm7', udh }).hex,
  encodeSubmit({ number: 'Alpha', text: 'Привет 😀', coding: 'ucs2', udh, validity: null }).hex,
  encodeDeliver({
    originator: 'Shop',
    data: Buffer.from('0102030405', 'hex'),
    coding: '8bit',
    udh,
    scts: when,
  }).hex,
  encodeDeliver({
    originator: '+1555',
    text: 'x'.repeat(153),
    coding: 'gsm7',
    udh,
    scts: when,
    tzMinutes: -300,
  }).hex,
  encodeStatusReport({
    mr: 1,
    recipient: '+1',
    scts: when,
    discharge: when,
    status: 0x46,
    pid: 0,
    text: 'report',
  }).hex,
];

const decode = (hex: string, withSmsc: boolean): unknown =>
  onlyThrows(() => decodePdu(hex, { withSmsc }), [PduError]);

/** Random octets, half of them with a plausible SMSC length and TP-MTI so the fuzz reaches the deeper fields. */
const pduBytes = fc
  .tuple(fc.uint8Array({ maxLength: 180 }), fc.boolean(), fc.nat(11), fc.nat(2))
  .map(([u, shape, smscLength, mti]) => {
    const b = Buffer.from(u);
    if (shape && b.length > smscLength + 2) {
      b[0] = smscLength;
      b[smscLength + 1] = ((b[smscLength + 1] ?? 0) & 0xfc) | mti;
    }
    return b;
  });

describe('SMS PDU decoder: only PduError', () => {
  it('random octets, with and without the SMSC field', () => {
    fc.assert(
      fc.property(pduBytes, fc.boolean(), (b, withSmsc) => {
        decode(bufferToHex(b), withSmsc);
      }),
      params(3000),
    );
  });

  it('strings that are not clean hex (odd length, other characters, spaces, lower case)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFgGxX \r\n\u0000é'), maxLength: 200 }),
        (s) => {
          decode(s, true);
        },
      ),
      params(1500),
    );
  });

  it('one to four corrupted octets of a valid PDU', () => {
    const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(edit, { minLength: 1, maxLength: 4 }), (hex, edits) => {
        const b = Buffer.from(hex, 'hex');
        for (const [at, v] of edits) b[at % b.length] = v;
        decode(bufferToHex(b), true);
      }),
      params(2000),
    );
  });

  it('every truncation of a valid PDU throws PduError (status reports may lose only optional fields)', () => {
    for (const hex of VALID) {
      expect(decodePdu(hex).type).toBeDefined();
      for (let cut = 0; cut < hex.length; cut += 2) {
        const prefix = hex.slice(0, cut);
        const result = decode(prefix, true);
        if (result instanceof PduError) continue;
        // A status report cut right after TP-ST is itself a complete report without TP-PI.
        expect((result as ReturnType<typeof decodePdu>).type, prefix).toBe('status-report');
        expect((result as ReturnType<typeof decodePdu>).text).toBeUndefined();
      }
    }
  });

  it('bounded time on a megabyte of hex', () => {
    const big = 'ff'.repeat(500_000);
    expect(timed(() => decode(big, true))).toBeLessThan(1000);
    expect(timed(() => decode(`00${'11'.repeat(500_000)}`, true))).toBeLessThan(1000);
  });
});

const GSM7 = [
  ...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ...'\f^{}\\[~]|€',
];
const gsmText = fc.string({ unit: fc.constantFrom(...GSM7), maxLength: 160 });
const number = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789*#'), minLength: 1, maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 20 }).map((d) => `+${d}`),
  fc
    .tuple(fc.constantFrom(...'ABCXYZabcxyzÄß'), fc.string({ unit: fc.constantFrom(...GSM7), maxLength: 9 }))
    .map(([l, s]) => l + s)
    .filter((s) => gsm7Septets(s) <= 11),
);
const concat = fc.option(
  fc
    .record({ ref: fc.nat(0xffff), total: fc.integer({ min: 1, max: 255 }), ref16bit: fc.boolean() })
    .chain((c) =>
      fc
        .integer({ min: 1, max: c.total })
        .map((seq) => buildConcatUdh({ ...c, ref: c.ref16bit ? c.ref : c.ref & 0xff, seq })),
    ),
  { nil: undefined },
);
const common = fc.record({
  number,
  udh: concat,
  messageClass: fc.constantFrom<MessageClass>(-1, 0, 1, 2, 3),
  statusReport: fc.boolean(),
  rejectDuplicates: fc.boolean(),
  replyPath: fc.boolean(),
  validity: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
  mr: fc.integer({ min: 0, max: 255 }),
});

describe('SMS-SUBMIT round trip: decode(encode(x)) = x', () => {
  it('GSM 7-bit, UCS-2 and 8-bit content with any header fields', () => {
    const content = fc.oneof(
      gsmText.map((text) => ({ coding: 'gsm7' as const, text })),
      fc.string({ unit: 'binary', maxLength: 70 }).map((text) => ({ coding: 'ucs2' as const, text })),
      fc.uint8Array({ maxLength: 140 }).map((u) => ({ coding: '8bit' as const, data: Buffer.from(u) })),
    );
    fc.assert(
      fc.property(common, content, (o, c) => {
        const udhOctets = o.udh?.length ?? 0;
        if (c.coding === 'gsm7') fc.pre(Math.ceil((udhOctets * 8) / 7) + gsm7Septets(c.text) <= 160);
        else if (c.coding === 'ucs2') fc.pre(udhOctets + Buffer.byteLength(c.text, 'utf16le') <= 140);
        else fc.pre(udhOctets + c.data.length <= 140);
        const d = decodeSubmit(encodeSubmit({ ...o, ...c }).hex);
        expect(d.recipient.number).toBe(o.number);
        expect(d.coding).toBe(c.coding);
        if (c.coding === '8bit') expect(d.data?.toString('hex')).toBe(c.data.toString('hex'));
        else expect(d.text).toBe(c.text);
        expect(d.udh?.toString('hex')).toBe(o.udh?.toString('hex'));
        expect(d.messageClass).toBe(o.messageClass);
        expect(d.mr).toBe(o.mr);
        expect(d.flags).toMatchObject({
          statusReportRequest: o.statusReport,
          rejectDuplicates: o.rejectDuplicates,
          replyPath: o.replyPath,
        });
        if (o.validity === null) expect(d.validity).toMatchObject({ format: 'none' });
      }),
      params(2000),
    );
  });
});

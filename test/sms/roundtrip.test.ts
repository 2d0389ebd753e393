import { describe, expect, it } from 'vitest';
import {
  type Alphabet,
  type MessageClass,
  buildConcatUdh,
  decodeDeliver,
  decodePdu,
  decodeStatusReport,
  decodeSubmit,
  encodeDeliver,
  encodeStatusReport,
  encodeSubmit,
  encodeUdh,
  splitText,
} from '../../src/lib/sms/index.js';

type Content = { coding: Alphabet; text?: string; data?: Buffer };

const CONTENTS: Content[] = [
  { coding: 'gsm7', text: '' },
  { coding: 'gsm7', text: 'Hello' },
  { coding: 'gsm7', text: '@' },
  { coding: 'gsm7', text: 'ABCDEFG' }, // ends on an octet boundary
  { coding: 'gsm7', text: 'ABCDEFG@' }, // ends with a 0x00 septet on the boundary
  { coding: 'gsm7', text: '{€}[~]|^\\\f' },
  { coding: 'gsm7', text: 'ÄÖÜäöüß ΔΦΓ @£$¥' },
  { coding: 'gsm7', text: 'x'.repeat(152) }, // fills a 16-bit concat part
  { coding: 'ucs2', text: 'Привет 😀 ☺' },
  { coding: 'ucs2', text: '' },
  { coding: 'ucs2', text: '中'.repeat(66) },
  { coding: '8bit', data: Buffer.from([0, 1, 0x7f, 0x80, 0xff]) },
  { coding: '8bit', data: Buffer.alloc(133, 0x5a) },
];

const UDHS: (Buffer | undefined)[] = [
  undefined,
  buildConcatUdh({ ref: 0xab, total: 3, seq: 2, ref16bit: false }),
  buildConcatUdh({ ref: 0xbeef, total: 2, seq: 2, ref16bit: true }),
];
const CLASSES: MessageClass[] = [-1, 0, 1, 2, 3];

function hexOf(b: Buffer | undefined): string | undefined {
  return b?.toString('hex');
}

describe('SUBMIT round trip over a grid', () => {
  it('encode then decode gives the same number, text, coding, UDH, class, flags and validity', () => {
    const numbers = ['+420123456789', '800123456', '*100#', 'Gammu'];
    // Flags and validity vary together to keep the grid (and the run time) small.
    const variants = [
      { flags: {}, validity: undefined },
      { flags: { statusReport: true }, validity: null },
      { flags: { rejectDuplicates: true, replyPath: true }, validity: 0 },
      { flags: { statusReport: true, rejectDuplicates: true, replyPath: true }, validity: 167 },
    ];
    let n = 0;
    for (const number of numbers)
      for (const content of CONTENTS)
        for (const udh of UDHS)
          for (const messageClass of CLASSES)
            for (const { flags, validity } of variants) {
              const smsc = n % 3 === 0 ? undefined : n % 3 === 1 ? '+491710760000' : '1234';
              const mr = n % 256;
              const opts = { smsc, number, ...content, udh, messageClass, ...flags, validity, mr };
              const enc = encodeSubmit(opts);
              const p = decodeSubmit(enc.hex);
              expect(decodePdu(enc.hex)).toEqual(p);
              expect(p.recipient.number).toBe(number);
              expect(p.smsc?.number).toBe(smsc);
              expect(p.coding).toBe(content.coding);
              expect(p.text).toBe(content.text);
              expect(p.data).toEqual(content.data);
              expect(hexOf(p.udh)).toBe(hexOf(udh));
              expect(p.messageClass).toBe(messageClass);
              expect(p.mr).toBe(mr);
              expect(p.flags).toEqual({
                statusReportRequest: !!opts.statusReport,
                rejectDuplicates: !!opts.rejectDuplicates,
                replyPath: !!opts.replyPath,
                udhi: udh !== undefined,
              });
              expect(p.validity).toMatchObject(
                validity === null ? { format: 'none' } : { format: 'relative', value: validity ?? 0xff },
              );
              expect(p.tpduLength).toBe(enc.tpduLength);
              n++;
            }
    expect(n).toBe(4 * CONTENTS.length * 3 * 5 * 4);
  });

  it('keeps application-port and unknown IEs alongside concatenation', () => {
    const udh = encodeUdh([
      { kind: 'ports', iei: 0x05, destination: 0x0b84, source: 0x23f0, bits: 16 },
      { kind: 'concat', iei: 0x00, ref: 7, total: 2, seq: 1, ref16bit: false },
      { kind: 'raw', iei: 0x70, data: Buffer.from([1, 2]) },
    ]);
    for (const coding of ['gsm7', 'ucs2'] as const) {
      const p = decodeSubmit(encodeSubmit({ number: '1', text: 'payload', coding, udh }).hex);
      expect(p.udhElements).toHaveLength(3);
      expect(p.concat).toEqual({ ref: 7, total: 2, seq: 1, ref16bit: false });
      expect(p.text).toBe('payload');
    }
  });

  it('a split long text reassembles from the decoded parts', () => {
    for (const text of [
      'The quick brown fox {jumps} over €100. '.repeat(12),
      'Съешь ещё этих мягких булок 😀 '.repeat(9),
    ]) {
      for (const concat of ['8bit', '16bit'] as const) {
        const { coding, parts } = splitText(text, { concat });
        const decoded = parts.map((part, i) => {
          const udh = buildConcatUdh({
            ref: 0x42,
            total: parts.length,
            seq: i + 1,
            ref16bit: concat === '16bit',
          });
          return decodePdu(encodeSubmit({ number: '+1555', text: part, coding, udh }).hex);
        });
        expect(decoded.map((d) => d.text).join('')).toBe(text);
        expect(decoded.map((d) => d.concat?.seq)).toEqual(parts.map((_, i) => i + 1));
      }
    }
  });
});

describe('DELIVER round trip over a grid', () => {
  it('encode then decode gives the same originator, text, coding, UDH, class, time and flags', () => {
    const originators = ['+4915112345678', '0123', 'Bank', 'ABCDEFGHIJK', 'Shop[1]'];
    const zones = [0, 60, -300, 345];
    let n = 0;
    for (const originator of originators)
      for (const content of CONTENTS)
        for (const udh of UDHS)
          for (const messageClass of CLASSES)
            for (const tzMinutes of zones) {
              const scts = new Date(Date.UTC(2024, n % 12, 1 + (n % 28), n % 24, n % 60, (n * 7) % 60));
              const flags = {
                moreMessagesToSend: n % 2 === 0,
                statusReportIndication: n % 3 === 0,
                replyPath: n % 5 === 0,
              };
              const enc = encodeDeliver({
                originator,
                ...content,
                udh,
                messageClass,
                scts,
                tzMinutes,
                pid: n % 2,
                ...flags,
              });
              const p = decodeDeliver(enc.hex);
              expect(p.originator.number).toBe(originator);
              expect(p.coding).toBe(content.coding);
              expect(p.text).toBe(content.text);
              expect(p.data).toEqual(content.data);
              expect(hexOf(p.udh)).toBe(hexOf(udh));
              expect(p.messageClass).toBe(messageClass);
              expect(p.pid).toBe(n % 2);
              expect(p.scts.date.getTime()).toBe(scts.getTime());
              expect(p.scts.tzMinutes).toBe(tzMinutes);
              expect(p.flags).toEqual({
                mms: !flags.moreMessagesToSend,
                loopPrevention: false,
                statusReportIndication: flags.statusReportIndication,
                udhi: udh !== undefined,
                replyPath: flags.replyPath,
              });
              n++;
            }
  });
});

describe('STATUS-REPORT round trip', () => {
  it('keeps MR, recipient, times and status for every status category', () => {
    for (const status of [0x00, 0x01, 0x02, 0x20, 0x25, 0x30, 0x40, 0x46, 0x49, 0x60, 0x65, 0x80, 0xff]) {
      for (const recipient of ['+420800123456', '5551234']) {
        const scts = new Date('2025-06-01T12:00:00Z');
        const discharge = new Date('2025-06-01T12:00:30Z');
        const p = decodeStatusReport(
          encodeStatusReport({ mr: status, recipient, scts, discharge, tzMinutes: 120, status }).hex,
        );
        expect(p).toMatchObject({ mr: status, status, recipient: { number: recipient } });
        expect(p.scts.date).toEqual(scts);
        expect(p.discharge.date).toEqual(discharge);
      }
    }
  });
});

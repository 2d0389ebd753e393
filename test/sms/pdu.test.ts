import { describe, expect, it } from 'vitest';
import {
  buildConcatUdh,
  decodeDeliver,
  decodePdu,
  decodeStatusReport,
  decodeSubmit,
  deliveryStatus,
  encodeDeliver,
  encodeStatusReport,
  encodeSubmit,
  hexToBuffer,
  PduError,
  relativeValiditySeconds,
  tryDecodePdu,
} from '../../src/lib/sms/index.js';

// ---- submit ----
describe('encodeSubmit', () => {
  it('reproduces Gammu tests/at-sms-encode/01 (SMSC type 0x81)', () => {
    expect(encodeSubmit({ smsc: '1234', number: '1234', text: '123456', coding: 'gsm7' })).toEqual({
      hex: '038121431100048121430000FF0631D98C56B301',
      tpduLength: 16,
    });
  });

  it('reproduces what gammu-smsd 1.42 wrote after AT+CMGS=15 (shared/spec transcript)', () => {
    expect(encodeSubmit({ smsc: '+491710760000', number: '+123456', text: 'hi 1', coding: 'gsm7' })).toEqual({
      hex: '0791947101670000110006912143650000FF04E8342806',
      tpduLength: 15,
    });
  });

  it('reproduces the classic SUBMIT example (no SMSC, VP 0xAA)', () => {
    const pdu = encodeSubmit({ number: '+46708251358', text: 'hellohello', coding: 'gsm7', validity: 0xaa });
    expect(pdu.hex).toBe('0011000B916407281553F80000AA0AE8329BFD4697D9EC37');
    expect(pdu.tpduLength).toBe(23);
  });

  it('sets first-octet flags: RD 0x04, VPF 0x10, SRR 0x20, UDHI 0x40, RP 0x80', () => {
    const base = { number: '1234', text: 'x', coding: 'gsm7' } as const;
    const first = (o: Parameters<typeof encodeSubmit>[0]): string => encodeSubmit(o).hex.slice(2, 4);
    expect(first(base)).toBe('11');
    expect(first({ ...base, statusReport: true })).toBe('31');
    expect(first({ ...base, rejectDuplicates: true })).toBe('15');
    expect(first({ ...base, replyPath: true })).toBe('91');
    expect(first({ ...base, validity: null })).toBe('01');
    expect(first({ ...base, udh: buildConcatUdh({ ref: 1, total: 2, seq: 1, ref16bit: false }) })).toBe('51');
    expect(first({ ...base, statusReport: true, rejectDuplicates: true, replyPath: true })).toBe('B5');
  });

  it('omits TP-VP when validity is null and writes MR / PID when given', () => {
    expect(
      encodeSubmit({ number: '1234', text: 'x', coding: 'gsm7', validity: null, mr: 7, pid: 0x41 }).hex,
    ).toBe('0001070481214341000178');
  });

  it('writes DCS 00 / 08 / 04 and 0x10|class', () => {
    const dcs = (o: Parameters<typeof encodeSubmit>[0]): string => encodeSubmit(o).hex.slice(16, 18);
    expect(dcs({ number: '1234', text: 'x', coding: 'gsm7' })).toBe('00');
    expect(dcs({ number: '1234', text: 'x', coding: 'ucs2' })).toBe('08');
    expect(dcs({ number: '1234', data: Buffer.from([1]), coding: '8bit' })).toBe('04');
    expect(dcs({ number: '1234', text: 'x', coding: 'gsm7', messageClass: 0 })).toBe('10');
    expect(dcs({ number: '1234', text: 'x', coding: 'ucs2', messageClass: 1 })).toBe('19');
  });

  it('aligns GSM-7 after a UDH with fill bits; UDL counts septets including the header', () => {
    const udh = buildConcatUdh({ ref: 0x24, total: 2, seq: 1, ref16bit: false });
    const pdu = encodeSubmit({ number: '1234', text: 'a'.repeat(153), coding: 'gsm7', udh });
    expect(pdu.hex.slice(20, 22)).toBe('A0'); // UDL 160 = 7 header septets + 153
    expect(pdu.tpduLength).toBe(10 + 140);
    expect(pdu.hex.slice(22, 34)).toBe('050003240201');
    expect(pdu.hex.slice(34, 36)).toBe('C2'); // 'a' (0x61) shifted by 1 fill bit
    const p16 = encodeSubmit({
      number: '1234',
      text: 'a'.repeat(152),
      coding: 'gsm7',
      udh: buildConcatUdh({ ref: 0x1234, total: 2, seq: 1, ref16bit: true }),
    });
    expect(p16.hex.slice(20, 22)).toBe('A0'); // 8 + 152
    expect(p16.tpduLength).toBe(10 + 140);
  });

  it('counts UCS2 and 8-bit UDL in octets including the header', () => {
    const udh = buildConcatUdh({ ref: 1, total: 2, seq: 2, ref16bit: false });
    const u = encodeSubmit({ number: '1234', text: 'ж'.repeat(67), coding: 'ucs2', udh });
    expect(u.hex.slice(20, 22)).toBe('8C'); // 140
    const d = encodeSubmit({ number: '1234', data: Buffer.alloc(134, 0xab), coding: '8bit', udh });
    expect(d.hex.slice(20, 22)).toBe('8C');
  });

  it('refuses content that does not fit one message (split first)', () => {
    const tooLong = [
      { number: '1234', text: 'a'.repeat(161), coding: 'gsm7' },
      { number: '1234', text: 'a'.repeat(159) + '€', coding: 'gsm7' },
      { number: '1234', text: 'ж'.repeat(71), coding: 'ucs2' },
      { number: '1234', data: Buffer.alloc(141), coding: '8bit' },
      {
        number: '1234',
        text: 'a'.repeat(154),
        coding: 'gsm7',
        udh: buildConcatUdh({ ref: 1, total: 2, seq: 1, ref16bit: false }),
      },
    ] as const;
    for (const o of tooLong)
      expect(() => encodeSubmit(o)).toThrowError(expect.objectContaining({ code: 'BAD_LENGTH' }));
    expect(() => encodeSubmit({ number: '1234', text: 'a'.repeat(160), coding: 'gsm7' })).not.toThrow();
  });

  it('rejects bad arguments with PduError', () => {
    const err = (code: string): unknown => expect.objectContaining({ name: 'PduError', code });
    expect(() => encodeSubmit({ number: '+420 123', text: 'x', coding: 'gsm7' })).toThrowError(
      err('BAD_ADDRESS'),
    );
    expect(() => encodeSubmit({ smsc: 'SMSC', number: '1', text: 'x', coding: 'gsm7' })).toThrowError(
      err('BAD_ADDRESS'),
    );
    expect(() => encodeSubmit({ number: '1', text: 'x', coding: '8bit' })).toThrowError(err('BAD_ARGUMENT'));
    expect(() => encodeSubmit({ number: '1', data: Buffer.alloc(1), coding: 'gsm7' })).toThrowError(
      err('BAD_ARGUMENT'),
    );
    expect(() => encodeSubmit({ number: '1', text: 'x', coding: 'gsm7', validity: 256 })).toThrowError(
      err('BAD_ARGUMENT'),
    );
    expect(() => encodeSubmit({ number: '1', text: 'x', coding: 'gsm7', mr: -1 })).toThrowError(
      err('BAD_ARGUMENT'),
    );
    expect(() =>
      encodeSubmit({ number: '1', text: 'x', coding: 'gsm7', udh: Buffer.from('0500', 'hex') }),
    ).toThrowError(err('BAD_UDH'));
  });
});

describe('decodeSubmit', () => {
  it("decodes Gammu's vector", () => {
    const p = decodeSubmit('038121431100048121430000FF0631D98C56B301');
    expect(p).toMatchObject({
      type: 'submit',
      smsc: { number: '1234', toa: 0x81 },
      mr: 0,
      recipient: { number: '1234', toa: 0x81 },
      pid: 0,
      coding: 'gsm7',
      messageClass: -1,
      validity: { format: 'relative', value: 0xff },
      udl: 6,
      text: '123456',
      tpduLength: 16,
    });
    expect(p.flags).toEqual({
      rejectDuplicates: false,
      statusReportRequest: false,
      udhi: false,
      replyPath: false,
    });
  });

  it('decodes absolute and enhanced validity periods', () => {
    const abs = decodeSubmit('0019000481214300009930925161958001C1');
    expect(abs.validity).toMatchObject({ format: 'absolute', scts: { tzMinutes: 120 } });
    expect(abs.text).toBe('A');
    const enh = decodeSubmit('00090004812143000001020304050607' + '01C1');
    expect(enh.validity).toEqual({ format: 'enhanced', raw: Buffer.from('01020304050607', 'hex') });
  });

  it('converts relative validity to seconds (23.040 9.2.3.12.1)', () => {
    expect(relativeValiditySeconds(0)).toBe(300);
    expect(relativeValiditySeconds(143)).toBe(12 * 3600);
    expect(relativeValiditySeconds(167)).toBe(24 * 3600);
    expect(relativeValiditySeconds(168)).toBe(2 * 86400);
    expect(relativeValiditySeconds(196)).toBe(30 * 86400);
    expect(relativeValiditySeconds(197)).toBe(5 * 7 * 86400);
    expect(relativeValiditySeconds(255)).toBe(63 * 7 * 86400);
  });

  it('refuses a PDU of another type', () => {
    expect(() =>
      decodeSubmit('07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07'),
    ).toThrowError(expect.objectContaining({ code: 'UNSUPPORTED_TYPE' }));
  });
});

// ---- deliver ----
/** Messages the fake modem of shared/spec/gammu-at-transcript.txt returned to gammu-smsd 1.42. */
const TRANSCRIPT = {
  text: '0791947101670000000D91945111325476F800004250102103000019C8329BFD0699E5EF36888E2E83CCE17519D47E93CB6D',
  ucs2: '0791947101670000000D91947196999999F90008425010210300001C0047007200FC00DF00650020263A0020041F04400438043204350442',
  part1:
    '0791947101670000400D91945111325476F8000042501021030000A0050003240201866FF7384C2FBBC3F43219D42ECFE7E17319040FCBE9207A794E7781866FF7384C2FBBC3F43219D42ECFE7E17319040FCBE9207A794E7781866FF7384C2FBBC3F43219D42ECFE7E17319040FCBE9207A794E7781866FF7384C2FBBC3F43219D42ECFE7E17319040FCBE9207A794E7781866FF7384C2FBBC3F43219D42ECFE7E17319040FCBE9',
  part2:
    '0791947101670000400D91945111325476F80000425010210300002E05000324020240F4F29CEE020DDFEE71985E7687E96532A85D9ECFC3E732081E96D341F4F29CEE0201',
};

describe('SMS-DELIVER decoding', () => {
  it('decodes the 23.040 tutorial example "How are you?" from +31641600986', () => {
    const p = decodeDeliver('07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07');
    expect(p).toMatchObject({
      type: 'deliver',
      smsc: { number: '+31624000000', toa: 0x91 },
      originator: { number: '+31641600986', toa: 0x91, ton: 1, npi: 1 },
      pid: 0,
      coding: 'gsm7',
      messageClass: -1,
      udl: 12,
      text: 'How are you?',
      tpduLength: 30,
    });
    expect(p.flags).toEqual({
      mms: true,
      loopPrevention: false,
      statusReportIndication: false,
      udhi: false,
      replyPath: false,
    });
    expect(p.scts.local).toEqual({ year: 2002, month: 8, day: 26, hour: 19, minute: 37, second: 41 });
    expect(p.udh).toBeUndefined();
  });

  it('decodes the "hellohello" example: subscriber number type 0xC8 and zone +02:00', () => {
    const p = decodeDeliver('07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37');
    expect(p.originator).toEqual({ number: '27838890001', toa: 0xc8, ton: 4, npi: 8 });
    expect(p.text).toBe('hellohello');
    expect(p.scts.tzMinutes).toBe(120);
    expect(p.scts.date.toISOString()).toBe('1999-03-29T13:16:59.000Z');
  });

  it('decodes an alphanumeric originator ("diafaan", status report indication set)', () => {
    const p = decodeDeliver('0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B');
    expect(p.originator).toEqual({ number: 'diafaan', toa: 0xd0, ton: 5, npi: 0 });
    expect(p.text).toBe('diafaan.com');
    expect(p.flags.statusReportIndication).toBe(true);
    expect(p.scts.date.toISOString()).toBe('2011-01-11T13:25:41.000Z');
  });

  it('decodes UCS2 text (transcript message 2)', () => {
    const p = decodeDeliver(TRANSCRIPT.ucs2);
    expect(p).toMatchObject({
      coding: 'ucs2',
      udl: 28,
      text: 'Grüße ☺ Привет',
      originator: { number: '+4917699999999' },
    });
  });

  it('decodes a concatenated message with UDH and fill bits (transcript parts 1 and 2)', () => {
    const p1 = decodeDeliver(TRANSCRIPT.part1, { tpduLength: 160 });
    const p2 = decodeDeliver(TRANSCRIPT.part2, { tpduLength: 61 });
    expect(p1.flags.udhi).toBe(true);
    expect(p1.udh?.toString('hex')).toBe('050003240201');
    expect(p1.concat).toEqual({ ref: 0x24, total: 2, seq: 1, ref16bit: false });
    expect(p2.concat).toEqual({ ref: 0x24, total: 2, seq: 2, ref16bit: false });
    expect(p1.udl).toBe(160);
    expect(p1.text).toHaveLength(153);
    expect((p1.text ?? '') + p2.text).toBe('Concatenated message part test. '.repeat(6));
    expect(decodeDeliver(TRANSCRIPT.text).text).toBe('Hello from the fake modem');
  });

  it('gives 8-bit payloads as a Buffer and no text', () => {
    const { hex } = encodeDeliver({
      originator: '+420123',
      coding: '8bit',
      data: Buffer.from([0, 1, 2, 0xff]),
      scts: new Date('2024-01-02T03:04:05Z'),
    });
    const p = decodeDeliver(hex);
    expect(p.coding).toBe('8bit');
    expect(p.text).toBeUndefined();
    expect(p.data).toEqual(Buffer.from([0, 1, 2, 0xff]));
  });

  it('does not turn compressed user data into text', () => {
    const p = decodeDeliver('00040381214300202420101200000004C1C2C3C4'); // DCS 0x20: compressed GSM-7;
    expect(p.dcs.compressed).toBe(true);
    expect(p.text).toBeUndefined();
    expect(p.data).toEqual(Buffer.from('C1C2C3C4', 'hex'));
  });

  it('decodes a flash (class 0) message', () => {
    const { hex } = encodeDeliver({
      originator: '123',
      coding: 'gsm7',
      text: 'flash',
      messageClass: 0,
      scts: new Date(),
    });
    expect(decodePdu(hex)).toMatchObject({ type: 'deliver', messageClass: 0, dcs: { raw: 0x10 } });
  });
});

describe('encodeDeliver', () => {
  it('reproduces the tutorial example (except the -0 zone octet 08, written as 00)', () => {
    const { hex, tpduLength } = encodeDeliver({
      smsc: '+31624000000',
      originator: '+31641600986',
      text: 'How are you?',
      coding: 'gsm7',
      scts: new Date('2002-08-26T19:37:41Z'),
    });
    expect(hex).toBe('07911326040000F0040B911346610089F60000208062917314000CC8F71D14969741F977FD07');
    expect(tpduLength).toBe(30);
  });

  it('reproduces the transcript concatenated part 2', () => {
    const { hex } = encodeDeliver({
      smsc: '+491710760000',
      originator: '+4915112345678',
      coding: 'gsm7',
      text: ' test. Concatenated message part test. ',
      udh: buildConcatUdh({ ref: 0x24, total: 2, seq: 2, ref16bit: false }),
      scts: new Date('2024-05-01T12:30:00Z'),
      moreMessagesToSend: true,
    });
    expect(hex).toBe(TRANSCRIPT.part2);
  });

  it('sets SRI, RP and clears MMS on request', () => {
    const { hex } = encodeDeliver({
      originator: 'Bank',
      coding: 'ucs2',
      text: 'ok',
      scts: new Date(),
      statusReportIndication: true,
      replyPath: true,
      moreMessagesToSend: true,
    });
    expect(hex.slice(2, 4)).toBe('A0');
    expect(decodeDeliver(hex).flags).toMatchObject({
      mms: false,
      statusReportIndication: true,
      replyPath: true,
    });
    expect(decodeDeliver(hex).text).toBe('ok');
  });
});

// ---- status-report ----
/** The +CDS: 25 report from Gammu's tests/atgen/smsd-incoming-cds.c. */
const CDS = '07914875215652F006360B914892347527F3817003018104808170030181448000';

describe('SMS-STATUS-REPORT', () => {
  it("decodes Gammu's +CDS example", () => {
    const p = decodeStatusReport(CDS, { tpduLength: 25 });
    expect(p).toMatchObject({
      type: 'status-report',
      smsc: { number: '+84571265250' },
      mr: 0x36,
      recipient: { number: '+84294357723', toa: 0x91 },
      status: 0,
      statusInfo: { category: 'delivered' },
      tpduLength: 25,
    });
    expect(p.flags).toEqual({ mms: true, loopPrevention: false, statusReportQualifier: false, udhi: false });
    expect(p.scts.date.toISOString()).toBe('2018-07-30T08:18:40.000Z');
    expect(p.scts.tzMinutes).toBe(120);
    expect(p.discharge.date.toISOString()).toBe('2018-07-30T08:18:44.000Z');
    expect(p.pi).toBeUndefined();
    expect(p.text).toBeUndefined();
    expect(decodePdu(CDS).type).toBe('status-report');
  });

  it('encodes the same report byte for byte', () => {
    const { hex, tpduLength } = encodeStatusReport({
      smsc: '+84571265250',
      mr: 0x36,
      recipient: '+84294357723',
      scts: new Date('2018-07-30T08:18:40Z'),
      discharge: new Date('2018-07-30T08:18:44Z'),
      tzMinutes: 120,
      status: 0,
    });
    expect(hex).toBe(CDS);
    expect(tpduLength).toBe(25);
  });

  it('classifies TP-Status per 23.040 9.2.3.15', () => {
    expect(deliveryStatus(0x00)).toMatchObject({
      category: 'delivered',
      description: 'Short message received by the SME',
    });
    expect(deliveryStatus(0x02).category).toBe('delivered');
    expect(deliveryStatus(0x1f).category).toBe('delivered');
    expect(deliveryStatus(0x20)).toMatchObject({ category: 'pending', description: 'Congestion' });
    expect(deliveryStatus(0x30).category).toBe('pending');
    expect(deliveryStatus(0x46)).toEqual({
      category: 'failed',
      permanent: true,
      description: 'SM validity period expired',
    });
    expect(deliveryStatus(0x62)).toMatchObject({ category: 'failed', permanent: false });
    expect(deliveryStatus(0x7f)).toMatchObject({ category: 'failed', permanent: false });
    expect(deliveryStatus(0x80).category).toBe('unknown');
  });

  it('round-trips the optional PI / PID / DCS / UDL fields', () => {
    const { hex } = encodeStatusReport({
      mr: 200,
      recipient: '800123456',
      scts: new Date('2025-03-01T10:00:00Z'),
      discharge: new Date('2025-03-01T10:05:00Z'),
      tzMinutes: -300,
      status: 0x46,
      statusReportQualifier: true,
      pid: 0x00,
      coding: 'ucs2',
      text: 'expired ⏰',
    });
    const p = decodeStatusReport(hex);
    expect(p).toMatchObject({
      mr: 200,
      recipient: { number: '800123456', toa: 0x81 },
      status: 0x46,
      statusInfo: { category: 'failed', permanent: true },
      pi: 0x07,
      pid: 0,
      coding: 'ucs2',
      text: 'expired ⏰',
      flags: { statusReportQualifier: true },
    });
    expect(p.scts.tzMinutes).toBe(-300);
    expect(p.discharge.date.toISOString()).toBe('2025-03-01T10:05:00.000Z');
  });

  it('reads GSM-7 user data when TP-PI announces UDL without DCS', () => {
    const p = decodeStatusReport(CDS.replace(/8000$/, '80000402E834'));
    expect(p.pi).toBe(0x04);
    expect(p.dcs).toBeUndefined();
    expect(p.text).toBe('hi');
  });

  it('skips TP-PI extension octets', () => {
    expect(decodeStatusReport(CDS + '8001').pi).toBe(0x80);
    expect(() => decodeStatusReport(CDS + '80')).toThrowError(expect.objectContaining({ code: 'TRUNCATED' }));
  });

  it('reports a TP-PI promising missing fields as TRUNCATED, and other types as UNSUPPORTED_TYPE', () => {
    expect(() => decodeStatusReport(CDS + '01')).toThrowError(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => decodeStatusReport(CDS + '04')).toThrowError(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => decodeStatusReport('038121431100048121430000FF0631D98C56B301')).toThrowError(
      expect.objectContaining({ code: 'UNSUPPORTED_TYPE' }),
    );
  });
});

// ---- decode ----
const DELIVER = '07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07';
const SUBMIT = '038121431100048121430000FF0631D98C56B301';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof PduError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('decodePdu dispatch', () => {
  it('dispatches on TP-MTI', () => {
    expect(decodePdu(DELIVER).type).toBe('deliver');
    expect(decodePdu(SUBMIT).type).toBe('submit');
    expect(decodePdu(CDS).type).toBe('status-report');
  });

  it('accepts lowercase hex, surrounding whitespace and Buffers', () => {
    expect(decodePdu(` ${DELIVER.toLowerCase()}\r\n`)).toMatchObject({ text: 'How are you?' });
    expect(decodePdu(hexToBuffer(DELIVER))).toMatchObject({ text: 'How are you?' });
  });

  it('decodes a TPDU without SMSC field (withSmsc: false)', () => {
    const p = decodePdu(DELIVER.slice(16), { withSmsc: false });
    expect(p.smsc).toBeUndefined();
    expect(p).toMatchObject({ type: 'deliver', text: 'How are you?', tpduLength: 30 });
  });

  it('reports "00" as no SMSC', () => {
    expect(decodePdu('00' + SUBMIT.slice(8)).smsc).toBeUndefined();
  });

  it('checks the length the modem announced', () => {
    expect(decodePdu(DELIVER, { tpduLength: 30 }).type).toBe('deliver');
    expect(code(() => decodePdu(DELIVER, { tpduLength: 31 }))).toBe('BAD_LENGTH');
    expect(code(() => decodePdu(DELIVER, { tpduLength: 38 }))).toBe('BAD_LENGTH'); // counted the SMSC
  });
});

describe('decodePdu errors (PduError, never a wrong text)', () => {
  it('bad hex', () => {
    expect(code(() => decodePdu(DELIVER.slice(0, -1)))).toBe('BAD_HEX');
    expect(code(() => decodePdu(DELIVER.replace('C8F7', 'C8G7')))).toBe('BAD_HEX');
    expect(code(() => decodePdu('07 91'))).toBe('BAD_HEX');
    expect(code(() => decodePdu(''))).toBe('TRUNCATED');
  });

  it('reserved TP-MTI 3', () => {
    expect(code(() => decodePdu('0003'))).toBe('UNSUPPORTED_TYPE');
  });

  it('trailing octets mean a wrong length field unless allowed', () => {
    expect(code(() => decodePdu(DELIVER + '00'))).toBe('BAD_LENGTH');
    expect(decodePdu(DELIVER + '00', { allowTrailing: true })).toMatchObject({ text: 'How are you?' });
  });

  it('UDL beyond the data is TRUNCATED, not a shorter text', () => {
    expect(code(() => decodePdu(DELIVER.replace('0CC8F7', '0DC8F7')))).toBe('TRUNCATED'); // 13 septets need 12 octets
    expect(code(() => decodePdu(DELIVER.slice(0, -2)))).toBe('TRUNCATED');
  });

  it('UDL larger than an SMS can hold is BAD_LENGTH', () => {
    const ucs2 = '0004038121430008242010120000008D' + '00'.repeat(141);
    expect(code(() => decodePdu(ucs2))).toBe('BAD_LENGTH');
    const gsm = '000403812143000024201012000000A1' + '00'.repeat(141);
    expect(code(() => decodePdu(gsm))).toBe('BAD_LENGTH');
  });

  it('a UDH that overruns the user data or its own length is BAD_UDH', () => {
    // UDHI set, UDL 6 octets (8-bit), UDHL 9
    expect(code(() => decodePdu('004403812143000424201012000000060900032402FF'))).toBe('BAD_UDH');
    // IE length runs past UDHL
    expect(code(() => decodePdu('004403812143000424201012000000060400042402FF'))).toBe('BAD_UDH');
    // UDHI set but no user data at all
    expect(code(() => decodePdu('00440381214300042420101200000000'))).toBe('BAD_UDH');
  });

  it('GSM-7 UDL shorter than the header is BAD_LENGTH', () => {
    // UDL 6 septets (6 octets) cannot hold a 6-octet header, which takes 7 septets with its fill bit
    expect(code(() => decodePdu('00440381214300002420101200000006050003240201'))).toBe('BAD_LENGTH');
  });

  it('odd UCS2 payload is BAD_LENGTH', () => {
    expect(code(() => decodePdu('000403812143000824201012000000030041FF'))).toBe('BAD_LENGTH');
  });

  it('a bad time stamp is BAD_TIMESTAMP with the octet offset', () => {
    const r = tryDecodePdu(DELIVER.replace('20806291731408', '20316291731408')); // month 13
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('BAD_TIMESTAMP');
      expect(r.error.offset).toBe(19); // SMSC field 8 + first octet 1 + OA 8 + PID + DCS
    }
  });

  it('tryDecodePdu returns a result instead of throwing', () => {
    const ok = tryDecodePdu(SUBMIT);
    expect(ok.ok && ok.value.type).toBe('submit');
    const bad = tryDecodePdu('zz');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toBeInstanceOf(PduError);
  });
});

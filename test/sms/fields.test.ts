import { describe, expect, it } from 'vitest';
import {
  bufferToHex,
  buildConcatUdh,
  classifyAddress,
  concatInfo,
  decodeAddress,
  decodeDcs,
  decodeScts,
  decodeSmscAddress,
  encodeAddress,
  encodeDcs,
  encodeScts,
  encodeSmscAddress,
  encodeUdh,
  hexToBuffer,
  type MessageClass,
  parseUdh,
  PduError,
  type UdhElement,
  udhFillBits,
} from '../../src/lib/sms/index.js';

// ---- address ----
describe('classifyAddress', () => {
  it.each([
    ['+420123456789', 'international'],
    ['+1', 'international'],
    ['800123456', 'national'],
    ['*100#', 'national'],
    ['+*21#', 'international'],
    ['Gammu', 'alphanumeric'],
    ['Info 24', 'alphanumeric'],
    ['ABCDEFGHIJK', 'alphanumeric'],
    ['ÄÖÜ-Shop', 'alphanumeric'],
    ['{Shop}', 'alphanumeric'],
    ['ABCDEFGHIJKL', 'invalid'], // 12 septets
    ['{Shop}{Co}', 'invalid'], // 10 chars but 14 septets
    ['+420 123 456', 'invalid'], // a mistyped number, not a sender name
    ['', 'invalid'],
    ['+', 'invalid'],
    ['123456789012345678901', 'invalid'], // 21 digits
    ['Shop😀', 'invalid'],
    ['çafé', 'invalid'],
  ])('%j is %s', (s, kind) => {
    expect(classifyAddress(s)).toBe(kind);
  });
});

describe('destination / originator address', () => {
  it('encodes an international number with type 0x91 and F filler', () => {
    expect(bufferToHex(encodeAddress('+46708251358'))).toBe('0B916407281553F8');
  });

  it('encodes other numbers with type 0x81', () => {
    expect(bufferToHex(encodeAddress('1234'))).toBe('04812143');
    expect(bufferToHex(encodeAddress('0708251358'))).toBe('0A817080523185');
  });

  it('encodes * and # as semi-octets A and B', () => {
    expect(bufferToHex(encodeAddress('*100#'))).toBe('05811A00FB');
    expect(decodeAddress(hexToBuffer('05811A00FB')).address.number).toBe('*100#');
  });

  it('decodes semi-octets C, D, E as a, b, c (23.040 9.1.2.3)', () => {
    expect(decodeAddress(hexToBuffer('0381DCFE')).address.number).toBe('abc');
  });

  it('encodes an alphanumeric sender: TON 5 (0xD0), GSM-7 packed, length in semi-octets', () => {
    // 7 chars = 49 bits -> 13 useful semi-octets in 7 octets
    expect(bufferToHex(encodeAddress('diafaan'))).toBe('0DD0E474D81C0EBB01');
    expect(decodeAddress(hexToBuffer('0DD0E474D81C0EBB01'))).toEqual({
      address: { number: 'diafaan', toa: 0xd0, ton: 5, npi: 0 },
      length: 9,
    });
  });

  it('round-trips alphanumeric senders of every length, including extension characters', () => {
    for (const s of ['A', 'Go', 'Google', 'ABCDEFGH', 'ABCDEFGHIJK', 'Shop[1]', 'x€']) {
      const enc = encodeAddress(s);
      expect(decodeAddress(enc)).toEqual({
        address: expect.objectContaining({ number: s, toa: 0xd0 }),
        length: enc.length,
      });
    }
  });

  it('decodes the TON/NPI of a subscriber number (0xC8) without a plus', () => {
    expect(decodeAddress(hexToBuffer('0BC87238880900F1')).address).toEqual({
      number: '27838890001',
      toa: 0xc8,
      ton: 4,
      npi: 8,
    });
  });

  it('rejects invalid numbers with BAD_ADDRESS', () => {
    for (const s of ['', '+', '+420 123 456', 'ABCDEFGHIJKL', 'a😀']) {
      expect(() => encodeAddress(s)).toThrowError(
        expect.objectContaining({ name: 'PduError', code: 'BAD_ADDRESS' }),
      );
    }
  });

  it('rejects an over-long or truncated field with PduError', () => {
    expect(() => decodeAddress(hexToBuffer('1591' + '11'.repeat(11)))).toThrowError(
      expect.objectContaining({ code: 'BAD_ADDRESS' }),
    );
    expect(() => decodeAddress(hexToBuffer('0B916407281553'))).toThrowError(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
    expect(() => decodeAddress(hexToBuffer('0B'))).toThrow(PduError);
  });
});

describe('SMSC address field', () => {
  it('counts octets including the type octet', () => {
    expect(bufferToHex(encodeSmscAddress('+27381000015'))).toBe('07917283010010F5');
    expect(bufferToHex(encodeSmscAddress('1234'))).toBe('03812143');
  });

  it('is 00 when there is no SMSC', () => {
    expect(bufferToHex(encodeSmscAddress())).toBe('00');
    expect(bufferToHex(encodeSmscAddress(''))).toBe('00');
    expect(decodeSmscAddress(hexToBuffer('00'))).toEqual({ address: undefined, length: 1 });
  });

  it('decodes international and unknown types', () => {
    expect(decodeSmscAddress(hexToBuffer('07917283010010F5'))).toEqual({
      address: { number: '+27381000015', toa: 0x91, ton: 1, npi: 1 },
      length: 8,
    });
    expect(decodeSmscAddress(hexToBuffer('03812143')).address?.number).toBe('1234');
  });

  it('rejects an alphanumeric SMSC', () => {
    expect(() => encodeSmscAddress('Operator')).toThrowError(
      expect.objectContaining({ code: 'BAD_ADDRESS' }),
    );
  });
});

// ---- scts ----
describe('service-centre time stamp', () => {
  it('decodes swapped semi-octets and a positive zone in quarters', () => {
    // 23.040 example from the "hellohello" DELIVER: 99-03-29 15:16:59 +02:00
    const t = decodeScts(hexToBuffer('99309251619580'));
    expect(t.local).toEqual({ year: 1999, month: 3, day: 29, hour: 15, minute: 16, second: 59 });
    expect(t.tzMinutes).toBe(120);
    expect(t.date.toISOString()).toBe('1999-03-29T13:16:59.000Z');
  });

  it('decodes a negative zone (sign bit 0x08 of the tens semi-octet)', () => {
    // -05:00 = 20 quarters -> tens 2 | sign 8 = 0xA, units 0 -> octet 0x0A
    const t = decodeScts(hexToBuffer('3220713012000A'));
    expect(t.local).toEqual({ year: 2023, month: 2, day: 17, hour: 3, minute: 21, second: 0 });
    expect(t.tzMinutes).toBe(-300);
    expect(t.date.toISOString()).toBe('2023-02-17T08:21:00.000Z');
  });

  it('reads a zone of -0 as 0 and quarter-hour zones exactly', () => {
    expect(decodeScts(hexToBuffer('20806291731408')).tzMinutes).toBe(0);
    expect(decodeScts(hexToBuffer('24103021000032')).tzMinutes).toBe(5 * 60 + 45); // +05:45 Nepal
  });

  it('round-trips through encodeScts for several zones', () => {
    const date = new Date('2024-12-31T23:59:58Z');
    for (const tz of [0, 60, -60, 330, 345, -210, 780, -720]) {
      const enc = encodeScts(date, tz);
      expect(enc).toHaveLength(7);
      const dec = decodeScts(enc);
      expect(dec.date.getTime()).toBe(date.getTime());
      expect(dec.tzMinutes).toBe(tz);
    }
    expect(bufferToHex(encodeScts(new Date('1999-03-29T13:16:59Z'), 120))).toBe('99309251619580');
    expect(decodeScts(encodeScts(new Date('2024-12-31T23:30:00Z'), 60)).local).toEqual({
      year: 2025,
      month: 1,
      day: 1,
      hour: 0,
      minute: 30,
      second: 0,
    });
  });

  it('rejects bad digits and impossible dates with BAD_TIMESTAMP', () => {
    const bad = [
      '9A309251619580', // year tens digit A
      '99309251619F80', // seconds tens digit F
      '99319251619580', // month 13
      '99000251619580', // month 0
      '99300051619580', // day 0
      '99309242619580', // hour 24
      '99309251069580', // minute 60
      '993092516195A0', // zone units digit A
    ];
    for (const hex of bad) {
      expect(() => decodeScts(hexToBuffer(hex)), hex).toThrowError(
        expect.objectContaining({ code: 'BAD_TIMESTAMP' }),
      );
    }
  });

  it('accepts 29 February only in leap years', () => {
    expect(decodeScts(hexToBuffer('42209200000000')).local.day).toBe(29);
    expect(() => decodeScts(hexToBuffer('32209200000000'))).toThrowError(
      expect.objectContaining({ code: 'BAD_TIMESTAMP' }),
    );
  });

  it('throws TRUNCATED for fewer than 7 octets', () => {
    expect(() => decodeScts(hexToBuffer('993092516195'))).toThrowError(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
  });

  it('refuses zones that are not quarter hours', () => {
    expect(() => encodeScts(new Date(), 10)).toThrowError(expect.objectContaining({ code: 'BAD_TIMESTAMP' }));
    expect(() => encodeScts(new Date('2100-01-01T00:00:00Z'))).toThrow(PduError);
  });
});

// ---- dcs ----
describe('data coding scheme', () => {
  it('decodes the general data coding group 00xx', () => {
    expect(decodeDcs(0x00)).toEqual({ raw: 0, alphabet: 'gsm7', messageClass: -1, compressed: false });
    expect(decodeDcs(0x04)).toMatchObject({ alphabet: '8bit', messageClass: -1 });
    expect(decodeDcs(0x08)).toMatchObject({ alphabet: 'ucs2', messageClass: -1 });
    expect(decodeDcs(0x10)).toMatchObject({ alphabet: 'gsm7', messageClass: 0 });
    expect(decodeDcs(0x18)).toMatchObject({ alphabet: 'ucs2', messageClass: 0 });
    expect(decodeDcs(0x16)).toMatchObject({ alphabet: '8bit', messageClass: 2 });
    expect(decodeDcs(0x03)).toMatchObject({ messageClass: -1 }); // class bits without bit 4 mean nothing
    expect(decodeDcs(0x20)).toMatchObject({ alphabet: 'gsm7', compressed: true });
    expect(decodeDcs(0x0c)).toMatchObject({ alphabet: 'gsm7', reserved: true });
  });

  it('decodes the automatic-deletion group 01xx like 00xx', () => {
    expect(decodeDcs(0x48)).toMatchObject({ alphabet: 'ucs2', autoDelete: true, messageClass: -1 });
    expect(decodeDcs(0x51)).toMatchObject({ alphabet: 'gsm7', autoDelete: true, messageClass: 1 });
  });

  it('decodes the message waiting groups', () => {
    expect(decodeDcs(0xc8)).toEqual({
      raw: 0xc8,
      alphabet: 'gsm7',
      messageClass: -1,
      compressed: false,
      mwi: { store: false, active: true, indication: 'voicemail' },
    });
    expect(decodeDcs(0xd1).mwi).toEqual({ store: true, active: false, indication: 'fax' });
    expect(decodeDcs(0xd1).alphabet).toBe('gsm7');
    expect(decodeDcs(0xea)).toMatchObject({
      alphabet: 'ucs2',
      mwi: { store: true, active: true, indication: 'email' },
    });
  });

  it('decodes group 1111 (class + 7bit/8bit)', () => {
    expect(decodeDcs(0xf0)).toMatchObject({ alphabet: 'gsm7', messageClass: 0 });
    expect(decodeDcs(0xf5)).toMatchObject({ alphabet: '8bit', messageClass: 1 });
    expect(decodeDcs(0xf6)).toMatchObject({ alphabet: '8bit', messageClass: 2 });
  });

  it('reads reserved groups 1000..1011 as GSM-7 as 23.038 requires', () => {
    expect(decodeDcs(0x84)).toEqual({
      raw: 0x84,
      alphabet: 'gsm7',
      messageClass: -1,
      compressed: false,
      reserved: true,
    });
  });

  it("encodes Gammu's values: 00 / 08 / 04, and 0x10|class", () => {
    expect(encodeDcs({ alphabet: 'gsm7' })).toBe(0x00);
    expect(encodeDcs({ alphabet: 'ucs2' })).toBe(0x08);
    expect(encodeDcs({ alphabet: '8bit' })).toBe(0x04);
    expect(encodeDcs({ alphabet: 'gsm7', messageClass: 0 })).toBe(0x10);
    expect(encodeDcs({ alphabet: 'ucs2', messageClass: 1 })).toBe(0x19);
    expect(encodeDcs({ alphabet: '8bit', messageClass: 3 })).toBe(0x17);
  });

  it('round-trips alphabet x class x compression and MWI', () => {
    for (const alphabet of ['gsm7', '8bit', 'ucs2'] as const) {
      for (const messageClass of [-1, 0, 1, 2, 3] as MessageClass[]) {
        for (const compressed of [false, true]) {
          const d = decodeDcs(encodeDcs({ alphabet, messageClass, compressed }));
          expect(d).toMatchObject({ alphabet, messageClass, compressed });
        }
      }
    }
    const mwi = { store: true, active: true, indication: 'other' } as const;
    expect(decodeDcs(encodeDcs({ alphabet: 'ucs2', mwi })).mwi).toEqual(mwi);
  });

  it('rejects impossible combinations with BAD_DCS', () => {
    const mwi = { store: false, active: true, indication: 'voicemail' } as const;
    expect(() => encodeDcs({ alphabet: '8bit', mwi })).toThrowError(
      expect.objectContaining({ code: 'BAD_DCS' }),
    );
    expect(() => encodeDcs({ alphabet: 'ucs2', mwi })).toThrowError(
      expect.objectContaining({ code: 'BAD_DCS' }),
    );
    expect(() => encodeDcs({ alphabet: 'gsm7', messageClass: 4 as MessageClass })).toThrowError(
      expect.objectContaining({ code: 'BAD_DCS' }),
    );
    expect(() => decodeDcs(256)).toThrowError(expect.objectContaining({ code: 'BAD_DCS' }));
  });
});

// ---- udh ----
describe('User Data Header', () => {
  it('builds the 8-bit concatenation header 05 00 03 RR NN PP', () => {
    expect(bufferToHex(buildConcatUdh({ ref: 0x24, total: 2, seq: 1, ref16bit: false }))).toBe(
      '050003240201',
    );
  });

  it('builds the 16-bit concatenation header 06 08 04 RRRR NN PP', () => {
    expect(bufferToHex(buildConcatUdh({ ref: 0xbeef, total: 3, seq: 3, ref16bit: true }))).toBe(
      '060804BEEF0303',
    );
  });

  it('parses typed elements and keeps unknown ones raw', () => {
    const udh = hexToBuffer('14' + '0003AA0302' + '050415811234' + '0A03000102' + '04021620');
    expect(parseUdh(udh)).toEqual([
      { kind: 'concat', iei: 0, ref: 0xaa, total: 3, seq: 2, ref16bit: false },
      { kind: 'ports', iei: 5, destination: 0x1581, source: 0x1234, bits: 16 },
      { kind: 'raw', iei: 0x0a, data: hexToBuffer('000102') },
      { kind: 'ports', iei: 4, destination: 0x16, source: 0x20, bits: 8 },
    ]);
    expect(bufferToHex(encodeUdh(parseUdh(udh)))).toBe(bufferToHex(udh));
  });

  it('concatInfo finds the concatenation element', () => {
    expect(concatInfo(hexToBuffer('050003240202'))).toEqual({ ref: 0x24, total: 2, seq: 2, ref16bit: false });
    expect(concatInfo(hexToBuffer('060804BEEF0301'))).toEqual({
      ref: 0xbeef,
      total: 3,
      seq: 1,
      ref16bit: true,
    });
    expect(concatInfo(hexToBuffer('06050415811234'))).toBeUndefined();
  });

  it('ignores a concatenation element with seq 0 or seq > total (23.040 9.2.3.24.1)', () => {
    expect(concatInfo(hexToBuffer('050003240200'))).toBeUndefined();
    expect(concatInfo(hexToBuffer('050003240203'))).toBeUndefined();
    expect(parseUdh(hexToBuffer('050003240203'))[0]?.kind).toBe('raw');
  });

  it('throws BAD_UDH when an IE runs past the header or UDHL disagrees', () => {
    for (const hex of ['050003240201FF', '0400032402', '0200', '0300050102', '']) {
      expect(() => parseUdh(hexToBuffer(hex)), hex).toThrowError(
        expect.objectContaining({ code: 'BAD_UDH' }),
      );
    }
  });

  it('validates concatenation arguments', () => {
    const bad = [
      { ref: 256, total: 2, seq: 1, ref16bit: false },
      { ref: 1, total: 2, seq: 3, ref16bit: false },
      { ref: 1, total: 0, seq: 0, ref16bit: false },
      { ref: 70000, total: 2, seq: 1, ref16bit: true },
    ];
    for (const info of bad)
      expect(() => buildConcatUdh(info)).toThrowError(expect.objectContaining({ name: 'PduError' }));
  });

  it('rejects a header that cannot fit in an SMS', () => {
    const big: UdhElement = { kind: 'raw', iei: 0x70, data: Buffer.alloc(120) };
    expect(() => encodeUdh([big, big])).toThrowError(expect.objectContaining({ code: 'BAD_UDH' }));
  });

  it('computes fill bits that align GSM-7 text to a septet boundary', () => {
    expect(udhFillBits(6)).toBe(1); // 8-bit concat: 48 bits + 1 = 7 septets
    expect(udhFillBits(7)).toBe(0); // 16-bit concat: 56 bits = 8 septets
    expect(udhFillBits(8)).toBe(6);
    expect(udhFillBits(3)).toBe(4);
  });
});

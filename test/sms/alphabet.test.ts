import { describe, expect, it } from 'vitest';
import {
  bufferToHex,
  decodeGsm7,
  decodeUcs2,
  encodeGsm7,
  encodeUcs2,
  gsm7Septets,
  hexToBuffer,
  isGsm7Text,
  packSeptets,
  PduError,
  unpackSeptets,
} from '../../src/lib/sms/index.js';

// ---- gsm7 ----
describe('GSM 03.38 alphabet', () => {
  it('maps the default table per 23.038 6.2.1', () => {
    expect(encodeGsm7('@£$¥èéùìòÇ\nØø\rÅå')).toEqual([...Array(16).keys()].filter((v) => v !== 0x1b));
    expect(encodeGsm7('ΔΦΓΛΩΠΨΣΘΞ')).toEqual([0x10, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a]);
    expect(encodeGsm7('_ÆæßÉ¤¡ÄÖÑÜ§¿äöñüà')).toEqual([
      0x11, 0x1c, 0x1d, 0x1e, 0x1f, 0x24, 0x40, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x7b, 0x7c, 0x7d, 0x7e,
      0x7f,
    ]);
    expect(encodeGsm7('Aa0 ')).toEqual([0x41, 0x61, 0x30, 0x20]);
  });

  it('uses ESC + extension for ^ { } \\ [ ~ ] | € and form feed', () => {
    expect(encodeGsm7('^{}\\[~]|€\f')).toEqual([
      0x1b, 0x14, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x2f, 0x1b, 0x3c, 0x1b, 0x3d, 0x1b, 0x3e, 0x1b, 0x40, 0x1b,
      0x65, 0x1b, 0x0a,
    ]);
    expect(decodeGsm7(encodeGsm7('^{}\\[~]|€\f'))).toBe('^{}\\[~]|€\f');
  });

  it('round-trips every character of both tables', () => {
    const all = decodeGsm7([...Array(128).keys()].filter((v) => v !== 0x1b)) + '^{}\\[~]|€\f';
    expect(isGsm7Text(all)).toBe(true);
    expect(decodeGsm7(encodeGsm7(all))).toBe(all);
  });

  it('isGsm7Text rejects characters outside both tables', () => {
    expect(isGsm7Text('hello {world} €5')).toBe(true);
    expect(isGsm7Text('ç')).toBe(false); // only capital Ç is at 0x09
    expect(isGsm7Text('á')).toBe(false);
    expect(isGsm7Text('😀')).toBe(false);
    expect(isGsm7Text('\u001b')).toBe(false); // ESC is not a character
    expect(isGsm7Text('`')).toBe(false);
  });

  it('counts septets: extension 2, unknown 1 per UTF-16 code unit, equal to the encoding length', () => {
    expect(gsm7Septets('abc')).toBe(3);
    expect(gsm7Septets('{€}')).toBe(6);
    expect(gsm7Septets('á')).toBe(1);
    expect(gsm7Septets('😀')).toBe(2);
    for (const s of ['', 'a{b', 'x😀y€', 'ñ\f~']) expect(encodeGsm7(s)).toHaveLength(gsm7Septets(s));
  });

  it("sends unknown characters as '?'", () => {
    expect(encodeGsm7('á')).toEqual([0x3f]);
    expect(decodeGsm7(encodeGsm7('a😀b'))).toBe('a??b');
  });

  it('decodes ESC + unknown value as the base-table character (23.038 6.2.1.1)', () => {
    expect(decodeGsm7([0x1b, 0x41])).toBe('A');
    expect(decodeGsm7([0x1b, 0x0d])).toBe('\r'); // CR2 has no glyph -> base CR
  });

  it('decodes ESC ESC as a space and drops a trailing lone ESC', () => {
    expect(decodeGsm7([0x41, 0x1b, 0x1b, 0x42])).toBe('A B');
    expect(decodeGsm7([0x41, 0x42, 0x1b])).toBe('AB');
    expect(decodeGsm7([0x1b])).toBe('');
  });

  it('rejects values that are not septets with PduError', () => {
    expect(() => decodeGsm7([0x80])).toThrow(PduError);
    expect(() => packSeptets([-1])).toThrow(PduError);
  });
});

describe('septet packing', () => {
  it('packs "hellohello" to E8329BFD4697D9EC37 (the classic 23.040 example)', () => {
    expect(bufferToHex(packSeptets(encodeGsm7('hellohello')))).toBe('E8329BFD4697D9EC37');
    expect(decodeGsm7(unpackSeptets(hexToBuffer('E8329BFD4697D9EC37'), 10))).toBe('hellohello');
  });

  it('packs Gammu\'s "123456" to 31D98C56B301', () => {
    expect(bufferToHex(packSeptets(encodeGsm7('123456')))).toBe('31D98C56B301');
  });

  it('7 characters fill 7 octets; decoding by octet length would add a spurious @', () => {
    const packed = packSeptets(encodeGsm7('ABCDEFG'));
    expect(packed).toHaveLength(7);
    expect(decodeGsm7(unpackSeptets(packed, 7))).toBe('ABCDEFG');
    // 7 spare zero bits are a whole septet 0x00 = '@' to anyone using 8 * octets / 7.
    expect(decodeGsm7(unpackSeptets(packed, 8))).toBe('ABCDEFG@');
  });

  it('keeps a real @ at the end (0x00 septet)', () => {
    const packed = packSeptets(encodeGsm7('ABCDEFG@'));
    expect(packed).toHaveLength(7);
    expect(bufferToHex(packed)).toBe(bufferToHex(packSeptets(encodeGsm7('ABCDEFG'))));
    expect(decodeGsm7(unpackSeptets(packed, 8))).toBe('ABCDEFG@');
    expect(decodeGsm7(unpackSeptets(packSeptets(encodeGsm7('abc@')), 4))).toBe('abc@');
  });

  it('does not add CR padding (23.038 6.1.2.3.1) - Gammu does not', () => {
    const packed = packSeptets(encodeGsm7('ABCDEFG'));
    expect((packed[6] ?? 0) >> 1).toBe(0); // top 7 bits empty, not CR (0x0D)
  });

  it('honours fill bits and round-trips for every fill 0..6', () => {
    const septets = encodeGsm7('Fill bits {test}');
    for (let fill = 0; fill <= 6; fill++) {
      const packed = packSeptets(septets, fill);
      expect(packed).toHaveLength(Math.ceil((fill + septets.length * 7) / 8));
      expect((packed[0] ?? 0) & ((1 << fill) - 1)).toBe(0);
      expect(unpackSeptets(packed, septets.length, fill)).toEqual(septets);
    }
    expect(bufferToHex(packSeptets([0x7f], 1))).toBe('FE');
  });

  it('throws PduError TRUNCATED when the buffer is too short', () => {
    const packed = packSeptets(encodeGsm7('hellohello'));
    expect(() => unpackSeptets(packed.subarray(0, 8), 10)).toThrowError(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
    expect(() => unpackSeptets(packed, 11)).toThrow(PduError); // 77 bits > 72
    expect(unpackSeptets(packed, 10, 1)).toHaveLength(10); // 71 bits still fit
    expect(() => unpackSeptets(packed, 10, 7)).toThrowError(
      expect.objectContaining({ code: 'BAD_ARGUMENT' }),
    );
  });
});

// ---- ucs2 ----
describe('UCS2 (UTF-16BE)', () => {
  it('encodes BMP characters big-endian', () => {
    expect(bufferToHex(encodeUcs2('Aé☺П'))).toBe('004100E9263A041F');
  });

  it('encodes characters outside the BMP as surrogate pairs', () => {
    expect(bufferToHex(encodeUcs2('😀'))).toBe('D83DDE00');
    expect(decodeUcs2(hexToBuffer('D83DDE00'))).toBe('😀');
  });

  it('round-trips mixed text', () => {
    const s = 'Grüße ☺ Привет 😀 𝄞';
    expect(decodeUcs2(encodeUcs2(s))).toBe(s);
  });

  it('keeps a lone surrogate so split pairs can be rejoined', () => {
    expect(decodeUcs2(hexToBuffer('D83D')) + decodeUcs2(hexToBuffer('DE00'))).toBe('😀');
  });

  it('rejects an odd byte count with PduError', () => {
    expect(() => decodeUcs2(hexToBuffer('004100'))).toThrow(PduError);
    expect(() => decodeUcs2(hexToBuffer('00'))).toThrowError(expect.objectContaining({ code: 'BAD_LENGTH' }));
  });
});

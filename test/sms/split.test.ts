import { describe, expect, it } from 'vitest';
import {
  encodeUcs2,
  gsm7Septets,
  partCapacity,
  splitData,
  splitText,
  truncateToSingle,
} from '../../src/lib/sms/index.js';

const a = (n: number): string => 'a'.repeat(n);
const b = (n: number): string => 'b'.repeat(n);

describe('partCapacity', () => {
  it('matches Gammu: 160/153/152 septets, 70/67/66 code units, 140/134/133 octets', () => {
    expect([
      partCapacity('gsm7', 'none'),
      partCapacity('gsm7', '8bit'),
      partCapacity('gsm7', '16bit'),
    ]).toEqual([160, 153, 152]);
    expect([
      partCapacity('ucs2', 'none'),
      partCapacity('ucs2', '8bit'),
      partCapacity('ucs2', '16bit'),
    ]).toEqual([70, 67, 66]);
    expect([
      partCapacity('8bit', 'none'),
      partCapacity('8bit', '8bit'),
      partCapacity('8bit', '16bit'),
    ]).toEqual([140, 134, 133]);
  });
});

describe('splitText', () => {
  it("'auto' picks gsm7 when every character (incl. extension) is in the alphabet, else ucs2", () => {
    expect(splitText('Price: 5€ {ok}', { coding: 'auto', concat: '8bit' }).coding).toBe('gsm7');
    expect(splitText('Grüße', { coding: 'auto', concat: '8bit' }).coding).toBe('gsm7');
    expect(splitText('façade', { coding: 'auto', concat: '8bit' }).coding).toBe('ucs2');
    expect(splitText('hi 😀', {}).coding).toBe('ucs2');
  });

  it('keeps a text that fits one message as one part (no UDH needed)', () => {
    expect(splitText(a(160), { coding: 'gsm7', concat: '8bit' }).parts).toEqual([a(160)]);
    expect(splitText(a(158) + '{', { coding: 'gsm7', concat: '8bit' }).parts).toHaveLength(1);
    expect(splitText('é'.repeat(70), { coding: 'ucs2', concat: '8bit' }).parts).toHaveLength(1);
    expect(splitText('', { coding: 'auto', concat: '8bit' })).toEqual({ coding: 'gsm7', parts: [''] });
  });

  it('splits gsm7 at 153 septets (8-bit ref) and 152 (16-bit ref)', () => {
    expect(splitText(a(161), { coding: 'gsm7', concat: '8bit' }).parts.map((p) => p.length)).toEqual([
      153, 8,
    ]);
    expect(splitText(a(161), { coding: 'gsm7', concat: '16bit' }).parts.map((p) => p.length)).toEqual([
      152, 9,
    ]);
    expect(splitText(a(153 * 3), { coding: 'gsm7', concat: '8bit' }).parts).toHaveLength(3);
  });

  it('never splits an extension character from its escape (gammu-smsd-inject -len)', () => {
    const { parts } = splitText(a(152) + '{' + b(10), { coding: 'gsm7', concat: '8bit' });
    expect(parts.map((p) => p.length)).toEqual([152, 11]);
    expect(parts[1]).toBe('{' + b(10));
    for (const p of splitText('€'.repeat(200), { coding: 'gsm7', concat: '8bit' }).parts) {
      expect(gsm7Septets(p)).toBeLessThanOrEqual(153);
    }
  });

  it('splits ucs2 at 67 / 66 code units without splitting a surrogate pair', () => {
    const { coding, parts } = splitText(a(66) + '😀' + b(10), { coding: 'ucs2', concat: '8bit' });
    expect(coding).toBe('ucs2');
    expect(parts.map((p) => p.length)).toEqual([66, 12]);
    expect(parts[1]?.startsWith('😀')).toBe(true);
    expect(
      splitText(a(65) + '😀' + b(10), { coding: 'ucs2', concat: '16bit' }).parts.map((p) => p.length),
    ).toEqual([65, 12]);
    expect(splitText(a(140), { coding: 'ucs2', concat: '8bit' }).parts.map((p) => p.length)).toEqual([
      67, 67, 6,
    ]);
  });

  it('keeps a combining mark with its base character (as Gammu does)', () => {
    const { parts } = splitText(a(66) + 'e\u0301' + b(10), { coding: 'ucs2', concat: '8bit' });
    expect(parts.map((p) => p.length)).toEqual([66, 12]);
  });

  it('every part round-trips to the original text', () => {
    const texts = ['😀'.repeat(100), 'x{'.repeat(150), 'Привет, мир! '.repeat(30), a(1000)];
    for (const t of texts) {
      for (const concat of ['8bit', '16bit'] as const)
        expect(splitText(t, { concat }).parts.join('')).toBe(t);
    }
  });

  it("truncates with concat 'none' (one message, Gammu's default inject)", () => {
    expect(splitText(a(159) + '{', { coding: 'gsm7', concat: 'none' }).parts).toEqual([a(159)]);
    expect(splitText(a(158) + '{', { coding: 'gsm7', concat: 'none' }).parts).toEqual([a(158) + '{']);
    expect(splitText(a(200), { coding: 'gsm7', concat: 'none' }).parts).toEqual([a(160)]);
    expect(splitText(a(69) + '😀', { coding: 'ucs2', concat: 'none' }).parts).toEqual([a(69)]);
    expect(truncateToSingle(a(100), 'ucs2')).toBe(a(70));
    expect(encodeUcs2(truncateToSingle('😀'.repeat(50), 'ucs2'))).toHaveLength(140);
  });

  it('refuses more than 255 parts', () => {
    expect(() => splitText(a(153 * 256), { coding: 'gsm7', concat: '8bit' })).toThrowError(
      expect.objectContaining({ code: 'BAD_LENGTH' }),
    );
  });
});

describe('splitData', () => {
  it('140 octets single, 134 / 133 per part', () => {
    expect(splitData(Buffer.alloc(140)).map((p) => p.length)).toEqual([140]);
    expect(splitData(Buffer.alloc(141), '8bit').map((p) => p.length)).toEqual([134, 7]);
    expect(splitData(Buffer.alloc(300), '16bit').map((p) => p.length)).toEqual([133, 133, 34]);
    expect(splitData(Buffer.alloc(300), 'none').map((p) => p.length)).toEqual([140]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  PduError,
  buildConcatUdh,
  bufferToHex,
  decodePdu,
  encodeDeliver,
  encodeStatusReport,
  encodeSubmit,
} from '../../src/lib/sms/index.js';

/** Deterministic PRNG (mulberry32) so a failure is reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decodes and reports anything other than success or a PduError. */
function decodeOnlyPduError(hex: string, withSmsc: boolean): 'ok' | 'PduError' {
  try {
    decodePdu(hex, { withSmsc });
    return 'ok';
  } catch (e) {
    if (e instanceof PduError) return 'PduError';
    throw new Error(`${hex} (withSmsc ${withSmsc}) threw ${String(e)}`);
  }
}

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

describe('fuzz-ish robustness: only PduError, never a wrong text', () => {
  it('2,000 random hex strings', () => {
    const rand = rng(0x5eed);
    const outcomes = { ok: 0, PduError: 0 };
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 180);
      const bytes = Buffer.alloc(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(rand() * 256);
      // Bias some inputs toward plausible headers so the fuzz reaches the deeper fields.
      if (i % 2 === 0 && len > 12) {
        const smscLength = Math.floor(rand() * 12);
        bytes[0] = smscLength;
        bytes[smscLength + 1] = ((bytes[smscLength + 1] ?? 0) & 0xfc) | Math.floor(rand() * 3);
      }
      let hex = bufferToHex(bytes);
      if (i % 50 === 0) hex = hex.slice(0, -1); // odd length
      if (i % 97 === 0) hex = hex.replace(/.$/, 'g'); // not hex
      outcomes[decodeOnlyPduError(hex, true)]++;
      decodeOnlyPduError(hex, false);
    }
    expect(outcomes.PduError).toBeGreaterThan(1000);
  });

  it('every truncation of a valid PDU throws PduError (status reports may lose only optional fields)', () => {
    for (const hex of VALID) {
      const full = decodePdu(hex);
      expect(full.type).toBeDefined();
      for (let cut = 0; cut < hex.length; cut += 2) {
        const prefix = hex.slice(0, cut);
        let result: ReturnType<typeof decodePdu> | undefined;
        try {
          result = decodePdu(prefix);
        } catch (e) {
          expect(e, prefix).toBeInstanceOf(PduError);
          continue;
        }
        // A status report cut right after TP-ST is itself a complete report without TP-PI.
        expect(result.type, prefix).toBe('status-report');
        expect(result.text).toBeUndefined();
      }
    }
  });

  it('single-octet corruption of valid PDUs throws only PduError', () => {
    const rand = rng(42);
    for (const hex of VALID) {
      const buf = Buffer.from(hex, 'hex');
      for (let k = 0; k < 150; k++) {
        const copy = Buffer.from(buf);
        const at = Math.floor(rand() * copy.length);
        copy[at] = Math.floor(rand() * 256);
        decodeOnlyPduError(bufferToHex(copy), true);
      }
    }
  });
});

import { PduError } from './errors.js';

/** Escape to the extension table (3GPP TS 23.038 6.2.1.1). */
export const GSM7_ESC = 0x1b;

/**
 * GSM 03.38 / 3GPP TS 23.038 6.2.1 default alphabet, indexed by septet value. Position 0x1B is the
 * escape, never produced from text, so it holds a placeholder that no input character maps to.
 */
const BASE =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Default extension table (23.038 6.2.1.1): value after ESC -> character. */
const EXTENSION: ReadonlyMap<number, string> = new Map([
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
]);

const BASE_REVERSE = new Map<string, number>();
for (let i = 0; i < BASE.length; i++) if (i !== GSM7_ESC) BASE_REVERSE.set(BASE.charAt(i), i);
const EXT_REVERSE = new Map<string, number>([...EXTENSION].map(([v, ch]) => [ch, v]));

const QUESTION_MARK = 0x3f;

/** True when every character is in the default alphabet or its extension table. */
export function isGsm7Text(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i);
    if (!BASE_REVERSE.has(ch) && !EXT_REVERSE.has(ch)) return false;
  }
  return true;
}

/** True for characters that cost an ESC plus a septet. */
export function isGsm7Extension(ch: string): boolean {
  return EXT_REVERSE.has(ch);
}

/**
 * Septets `encodeGsm7(s)` produces. Works per UTF-16 code unit, as Gammu does: a character outside
 * the alphabet becomes one '?' per code unit, so an emoji (a surrogate pair) costs 2.
 */
export function gsm7Septets(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) n += EXT_REVERSE.has(s.charAt(i)) ? 2 : 1;
  return n;
}

/**
 * Text -> septet values. Unknown characters become '?' per UTF-16 code unit (Gammu's EncodeDefault
 * behaviour; it keeps the result length equal to gsm7Septets). No CR padding is appended for a
 * message that ends on an octet boundary (23.038 6.1.2.3.1): Gammu does not add it either.
 */
export function encodeGsm7(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i);
    const base = BASE_REVERSE.get(ch);
    if (base !== undefined) {
      out.push(base);
      continue;
    }
    const ext = EXT_REVERSE.get(ch);
    if (ext !== undefined) out.push(GSM7_ESC, ext);
    else out.push(QUESTION_MARK);
  }
  return out;
}

/**
 * Septet values -> text.
 * - ESC + value not in the extension table: the base-table character for that value (23.038 6.2.1.1).
 * - ESC ESC: a space (reserved escape to a further table, which 23.038 says to display as a space).
 * - A trailing lone ESC decodes to nothing: it is a prefix without its character (typically an
 *   encoder that split the pair across parts), and inventing a visible space would alter the text.
 */
export function decodeGsm7(septets: readonly number[]): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const v = checkSeptet(septets[i]);
    if (v !== GSM7_ESC) {
      out += BASE.charAt(v);
      continue;
    }
    if (i + 1 >= septets.length) break;
    const next = checkSeptet(septets[++i]);
    if (next === GSM7_ESC) out += ' ';
    else out += EXTENSION.get(next) ?? BASE.charAt(next);
  }
  return out;
}

function checkSeptet(v: number | undefined): number {
  if (v === undefined || !Number.isInteger(v) || v < 0 || v > 0x7f) {
    throw new PduError('BAD_ARGUMENT', `not a septet value: ${String(v)}`);
  }
  return v;
}

function checkFill(fillBits: number): void {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) {
    throw new PduError('BAD_ARGUMENT', `fill bits must be 0..6, got ${fillBits}`);
  }
}

/**
 * Packs septets LSB-first (23.038 6.1.2.1.1). `fillBits` zero bits come first, which is how text
 * is aligned to a septet boundary after a User Data Header.
 */
export function packSeptets(septets: readonly number[], fillBits = 0): Buffer {
  checkFill(fillBits);
  const out = Buffer.alloc(Math.ceil((fillBits + septets.length * 7) / 8));
  let bit = fillBits;
  for (const s of septets) {
    const v = checkSeptet(s);
    const idx = bit >> 3;
    const shift = bit & 7;
    out[idx] = (out[idx] ?? 0) | ((v << shift) & 0xff);
    if (shift > 1) out[idx + 1] = (out[idx + 1] ?? 0) | (v >> (8 - shift));
    bit += 7;
  }
  return out;
}

/**
 * Unpacks exactly `septetCount` septets. The count must come from TP-UDL (or the address length),
 * never from the octet length: 7 septets fill 7 octets with 7 spare zero bits, which read as '@'.
 */
export function unpackSeptets(buf: Uint8Array, septetCount: number, fillBits = 0): number[] {
  checkFill(fillBits);
  if (!Number.isInteger(septetCount) || septetCount < 0) {
    throw new PduError('BAD_ARGUMENT', `septet count must be a non-negative integer, got ${septetCount}`);
  }
  const need = Math.ceil((fillBits + septetCount * 7) / 8);
  if (buf.length < need) {
    throw new PduError('TRUNCATED', `${septetCount} septets need ${need} octets, only ${buf.length} present`);
  }
  const out: number[] = new Array<number>(septetCount);
  for (let k = 0; k < septetCount; k++) {
    const bit = fillBits + k * 7;
    const idx = bit >> 3;
    const shift = bit & 7;
    let v = (buf[idx] ?? 0) >> shift;
    if (shift > 1) v |= (buf[idx + 1] ?? 0) << (8 - shift);
    out[k] = v & 0x7f;
  }
  return out;
}

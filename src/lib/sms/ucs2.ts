import { PduError } from './errors.js';

/**
 * Text -> UTF-16BE. JS strings are already UTF-16, so characters outside the BMP come out as
 * surrogate pairs, which is what phones expect in "UCS2" SMS.
 */
export function encodeUcs2(s: string): Buffer {
  const out = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) out.writeUInt16BE(s.charCodeAt(i), i * 2);
  return out;
}

/**
 * UTF-16BE -> text. Lone surrogates are kept as-is rather than replaced: a sender may split a
 * pair across concatenated parts, and joining the decoded parts then restores the character.
 */
export function decodeUcs2(buf: Uint8Array): string {
  if (buf.length % 2 !== 0) {
    throw new PduError('BAD_LENGTH', `UCS2 data has an odd number of octets (${buf.length})`);
  }
  const units: number[] = [];
  for (let i = 0; i < buf.length; i += 2) units.push(((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0));
  return String.fromCharCode(...units);
}

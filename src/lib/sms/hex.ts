import { PduError } from './errors.js';

/** Strict hex parser: modems hand us hex lines, and a silently skipped digit would shift every field. */
export function hexToBuffer(hex: string): Buffer {
  const s = hex.trim();
  const bad = s.search(/[^0-9A-Fa-f]/);
  if (bad >= 0) throw new PduError('BAD_HEX', `invalid hex character ${JSON.stringify(s[bad])}`, bad >> 1);
  if (s.length % 2 !== 0) throw new PduError('BAD_HEX', 'odd number of hex digits', s.length >> 1);
  return Buffer.from(s, 'hex');
}

/** Uppercase, as Gammu writes PDUs after AT+CMGS. */
export function bufferToHex(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('hex').toUpperCase();
}

export function toBuffer(input: string | Uint8Array): Buffer {
  if (typeof input === 'string') return hexToBuffer(input);
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

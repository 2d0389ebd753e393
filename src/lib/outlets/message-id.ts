import type { MessageIdFormat } from './types.js';

/** Case and leading zeros never matter (jasmin #1129, #521: `00B8BE19` vs `b8be19`). */
export function textKey(id: string): string {
  const s = id
    .trim()
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
  return `t:${s}`;
}

function asHex(id: string): bigint | undefined {
  return /^[0-9a-f]{1,32}$/i.test(id.trim()) ? BigInt(`0x${id.trim()}`) : undefined;
}

function asDec(id: string): bigint | undefined {
  return /^\d{1,40}$/.test(id.trim()) ? BigInt(id.trim()) : undefined;
}

/**
 * Keys under which a submit_sm_resp id is filed, so a receipt finds it whatever its id style:
 * the text itself; its value read as hex (for a receipt that writes it in decimal); its value read
 * as decimal (for a receipt that writes it in hex). MessageIdFormat narrows which are tried.
 */
export function submitKeys(id: string, format: MessageIdFormat): string[] {
  const keys = [textKey(id)];
  if (format === 'hex' || format === 'auto') {
    const h = asHex(id);
    if (h !== undefined) keys.push(`x:${h}`);
  }
  if (format === 'dec' || format === 'auto') {
    const d = asDec(id);
    if (d !== undefined) keys.push(`d:${d.toString(16)}`);
  }
  return keys;
}

/** Keys to look a receipt's id up with, best first (the same text before any conversion). */
export function receiptKeys(id: string, format: MessageIdFormat): string[] {
  const keys = [textKey(id)];
  if (format === 'hex' || format === 'auto') {
    // resp in hex, receipt in decimal
    const d = asDec(id);
    if (d !== undefined) keys.push(`x:${d}`);
  }
  if (format === 'dec' || format === 'auto') {
    // resp in decimal, receipt in hex
    const h = asHex(id);
    if (h !== undefined) keys.push(`d:${h.toString(16)}`);
  }
  return keys;
}

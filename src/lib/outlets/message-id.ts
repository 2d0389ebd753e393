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

/** The one key a submit_sm_resp id is filed under (its text, case and leading zeros ignored). */
export function submitKeys(id: string, _format: MessageIdFormat): string[] {
  return [textKey(id)];
}

/**
 * Keys to look a receipt's id up with, best first: the same text, then (MessageIdFormat hex or
 * auto) the receipt read as decimal and written in hex, as the resp would have it, then (dec or
 * auto) the receipt read as hex and written in decimal. One key per sent part keeps the index small.
 */
export function receiptKeys(id: string, format: MessageIdFormat): string[] {
  const keys = [textKey(id)];
  if (format === 'hex' || format === 'auto') {
    const d = asDec(id);
    if (d !== undefined) keys.push(textKey(d.toString(16)));
  }
  if (format === 'dec' || format === 'auto') {
    const h = asHex(id);
    if (h !== undefined) keys.push(textKey(h.toString(10)));
  }
  return [...new Set(keys)];
}

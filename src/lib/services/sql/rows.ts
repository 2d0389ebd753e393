/**
 * Between Gammu's SQL rows and our message types: outbox rows to the parts the daemon sends,
 * received parts and injected messages to the placeholder values of their rows.
 */
import type { SubmitOptions } from '../../sms/submit.js';
import type { DeliverPdu } from '../../sms/deliver.js';
import type { MessageClass } from '../../sms/dcs.js';
import { splitText } from '../../sms/split.js';
import { buildConcatUdh } from '../../sms/udh.js';
import { utf16beHex, hexToUtf16be, isHex } from '../../smsbackup/hex.js';
import type { BackupEntry } from '../../smsbackup/types.js';
import type { PartVars } from './placeholders.js';

export const GAMMU_CODINGS = [
  'Default_No_Compression',
  'Unicode_No_Compression',
  '8bit',
  'Default_Compression',
  'Unicode_Compression',
] as const;

/** Local wall-clock time as Gammu writes it into SQL ("YYYY-MM-DD HH:MM:SS"). */
export function formatSqlTime(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A column value as a Date: drivers give Date; a string is read as local time. */
export function toDate(v: unknown): Date | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v;
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/.test(v)) {
    const d = new Date(v.replace(' ', 'T'));
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

export const str = (v: unknown): string =>
  v === null || v === undefined ? '' : v instanceof Buffer ? v.toString('utf8') : String(v);
export const num = (v: unknown, fallback = -1): number => {
  const n = typeof v === 'number' ? v : Number.parseInt(str(v), 10);
  return Number.isFinite(n) ? n : fallback;
};
/** Gammu's GetBool: true, t, yes, y, 1 (any case), or a driver boolean. */
export const bool = (v: unknown): boolean => v === true || /^(true|t|yes|y|1)$/i.test(str(v).trim());

/** Numbers compare with a leading 00 read as +, as Gammu canonicalises them. */
export function canonicalNumber(n: string): string {
  return n.startsWith('00') ? `+${n.slice(2)}` : n;
}

/** One outbox or outbox_multipart row, by position (find_outbox_body / find_outbox_multipart). */
export interface OutboxPartRow {
  text: string | null;
  coding: string;
  udh: string;
  messageClass: number;
  textDecoded: string | null;
  status: string;
}

export type PartResult = { ok: true; part: SubmitOptions } | { ok: false; reason: string };

/**
 * A row as one SMS-SUBMIT, with Gammu's rules (SMSDSQL_FindOutboxSMS): an unknown Coding is 8bit
 * when Text has content, else Default; empty Text means TextDecoded is used; Text is UCS-2BE hex for
 * the text codings and bytes for 8bit; UDH hex is sent as is. Compressed codings are sent
 * uncompressed (our encoder has no compression, nor have the phones Gammu talks to).
 */
export function rowToPart(row: OutboxPartRow, number: string): PartResult {
  const hasText = row.text !== null && row.text.length > 0;
  let coding: SubmitOptions['coding'];
  if (row.coding.startsWith('Unicode')) coding = 'ucs2';
  else if (row.coding.startsWith('Default')) coding = 'gsm7';
  else if (row.coding === '8bit') coding = '8bit';
  else coding = hasText ? '8bit' : 'gsm7';
  const part: SubmitOptions = { number, coding };
  if (hasText) {
    const hex = (row.text as string).trim();
    if (!isHex(hex) || (coding !== '8bit' && hex.length % 4 !== 0))
      return { ok: false, reason: `Failed to decode Text HEX string: ${hex.slice(0, 40)}` };
    if (coding === '8bit') part.data = Buffer.from(hex, 'hex');
    else part.text = hexToUtf16be(hex);
  } else {
    if (row.textDecoded === null) return { ok: false, reason: 'Message without text!' };
    if (coding === '8bit') part.data = Buffer.from(row.textDecoded, 'utf8');
    else part.text = row.textDecoded;
  }
  const udh = row.udh.trim();
  if (udh.length > 0) {
    if (!isHex(udh)) return { ok: false, reason: `Failed to decode UDH HEX string: ${udh}` };
    part.udh = Buffer.from(udh, 'hex');
  }
  if (row.messageClass >= 0 && row.messageClass <= 3) part.messageClass = row.messageClass as MessageClass;
  return { ok: true, part };
}

/**
 * A single outbox row (MultiPart false, no UDH) whose text is longer than one message: Gammu sends
 * it cut or fails; we split it into a concatenated message, as the files service does for `.txt`.
 */
export function splitLongPart(part: SubmitOptions, ref: number): SubmitOptions[] {
  if (part.udh !== undefined || part.text === undefined || part.coding === '8bit') return [part];
  const split = splitText(part.text, { coding: part.coding, concat: '8bit' });
  if (split.parts.length <= 1) return [part];
  return split.parts.map((text, i) => ({
    ...part,
    text,
    udh: buildConcatUdh({ ref, total: split.parts.length, seq: i + 1, ref16bit: false }),
  }));
}

export const hexUpper = (b: Uint8Array | undefined): string =>
  b && b.length > 0 ? Buffer.from(b).toString('hex').toUpperCase() : '';

/** Gammu's coding name for a part we send or received. */
export function codingName(coding: SubmitOptions['coding'], compressed = false): string {
  if (coding === '8bit') return '8bit';
  if (coding === 'ucs2') return compressed ? 'Unicode_Compression' : 'Unicode_No_Compression';
  return compressed ? 'Default_Compression' : 'Default_No_Compression';
}

const BLANK: PartVars = {
  number: '',
  smsc: '',
  udhHex: '',
  messageClass: -1,
  coding: 'Default_No_Compression',
  mr: -1,
  textHex: '',
  text: '',
  validity: -1,
  smscTime: '',
  dateTime: '',
  deliveryStatus: -1,
};

/** Placeholder values of a part we send (add_sent_info). */
export function submitVars(p: SubmitOptions, extra: Partial<PartVars> = {}): PartVars {
  const text = p.coding === '8bit' ? '' : (p.text ?? '');
  return {
    ...BLANK,
    number: p.number,
    smsc: p.smsc ?? '',
    udhHex: hexUpper(p.udh),
    messageClass: p.messageClass ?? -1,
    coding: codingName(p.coding),
    textHex: p.coding === '8bit' ? hexUpper(p.data) : utf16beHex(text),
    text,
    validity: typeof p.validity === 'number' ? p.validity : -1,
    ...extra,
  };
}

/** Placeholder values of a received part (save_inbox_sms_insert). */
export function deliverVars(p: DeliverPdu, text: string): PartVars {
  const binary = p.coding === '8bit' || p.text === undefined;
  const time = formatSqlTime(p.scts.date);
  return {
    ...BLANK,
    number: canonicalNumber(p.originator.number),
    smsc: p.smsc?.number ?? '',
    udhHex: hexUpper(p.udh),
    messageClass: p.messageClass,
    coding: binary && p.coding !== '8bit' ? codingName(p.coding, true) : codingName(p.coding),
    textHex: binary ? (p.coding === '8bit' ? hexUpper(p.data) : '') : utf16beHex(p.text ?? ''),
    text,
    dateTime: time,
    smscTime: time,
  };
}

/** Placeholder values of an injected part (create_outbox / create_outbox_multipart). */
export function entryVars(e: BackupEntry, number: string, validity: number): PartVars {
  const binary = e.coding === '8bit';
  return {
    ...BLANK,
    number,
    udhHex: hexUpper(e.udh),
    messageClass: e.messageClass,
    coding: e.coding,
    textHex: binary ? hexUpper(e.data) : e.coding.endsWith('No_Compression') ? utf16beHex(e.text) : '',
    text: binary ? '' : e.text,
    validity,
  };
}

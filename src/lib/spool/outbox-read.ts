import type { SubmitOptions } from '../sms/submit.js';
import { splitText, type TextCoding } from '../sms/split.js';
import { buildConcatUdh } from '../sms/udh.js';
import { parseBackup, parseBackupExtensions, BackupFormatError } from '../smsbackup/reader.js';
import type { BackupEntry } from '../smsbackup/types.js';
import { parseOutboxName } from './names.js';
import { decodeUtf16WithBom } from '../sms/bom-text.js';
import { serviceIndication, wapPushParts } from '../sms/wap-push.js';

/** How `.txt` outbox files are encoded for sending (TransmitFormat). */
export type TransmitFormat = 'auto' | 'unicode' | '7bit';

/** One queued message as the daemon will send it. */
export interface OutgoingMessage {
  /** The file name: the message ID in logs and hooks. */
  id: string;
  number: string;
  parts: SubmitOptions[];
  /** Class 127 in an SMS backup: a USSD code to dial, not an SMS. */
  ussd: boolean;
  /** Only the daemon with this PhoneID sends it (an smsgate extension line; Gammu ignores it). */
  phoneId?: string;
  /** Not sent before this time (ms since the epoch; an smsgate extension line, Kannel's deferred). */
  sendAfter?: number;
}

/** The extension line that holds a message back until a time (`; smsgate: SendAfter = <ISO time>`). */
export const SEND_AFTER_KEY = 'SendAfter';

/** The SMS-backup extension line that pins a message to one modem (`; smsgate: PhoneID = x`). */
export const PHONE_ID_KEY = 'PhoneID';

export type OutboxReadResult = { ok: true; message: OutgoingMessage } | { ok: false; reason: string };

const fail = (reason: string): OutboxReadResult => ({ ok: false, reason });

/** Text of a `.txt` outbox file: UTF-16 with a byte-order mark, else UTF-8 (Gammu stops at U+0000). */
export function decodeOutboxText(buf: Buffer): string {
  const text = decodeUtf16WithBom(buf) ?? buf.toString('utf8');
  const nul = text.indexOf('\u0000');
  return nul >= 0 ? text.slice(0, nul) : text;
}

/**
 * Why a `.txt` outbox file cannot be sent as written, or undefined when it can: a NUL (Gammu would
 * send the text cut there, or empty), bytes that are not valid UTF-8 (no BOM), or not valid UTF-16
 * (with a BOM: an odd length, an unpaired surrogate). Such a file goes to the error folder.
 */
export function outboxTextProblem(buf: Buffer): string | undefined {
  const utf16 = buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff));
  if (utf16) {
    const le = buf[0] === 0xff;
    if ((buf.length - 2) % 2 !== 0) return `odd number of bytes (${buf.length}) after the UTF-16 byte-order mark`;
    for (let i = 2; i < buf.length; i += 2) {
      const u = le ? buf.readUInt16LE(i) : buf.readUInt16BE(i);
      if (u === 0) return `NUL character at byte ${i} (the text would be sent cut there)`;
      const high = u >= 0xd800 && u <= 0xdbff;
      const low = u >= 0xdc00 && u <= 0xdfff;
      const next = i + 2 < buf.length ? (le ? buf.readUInt16LE(i + 2) : buf.readUInt16BE(i + 2)) : -1;
      if (high && !(next >= 0xdc00 && next <= 0xdfff)) return `invalid UTF-16: unpaired surrogate at byte ${i}`;
      if (high) i += 2;
      else if (low) return `invalid UTF-16: unpaired surrogate at byte ${i}`;
    }
    return undefined;
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) return `NUL byte at byte ${nul} (the text would be sent cut there)`;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return `invalid UTF-8 at byte ${firstInvalidUtf8(buf)} (a .txt file without a byte-order mark must be UTF-8)`;
  }
  return undefined;
}

/** Where the first ill-formed UTF-8 sequence starts (the file is known to be invalid). */
function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    const n = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    if (n > 0) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(i, i + n + 1));
      } catch {
        return i;
      }
    }
    i += n + 1;
  }
  return i;
}

function fromTxt(id: string, number: string, content: Buffer, flags: { deliveryReport: boolean; flash: boolean }, transmit: TransmitFormat, ref: number): OutboxReadResult {
  const problem = outboxTextProblem(content);
  if (problem) return fail(problem);
  const text = decodeOutboxText(content);
  const coding: TextCoding | 'auto' = transmit === 'unicode' ? 'ucs2' : transmit === 'auto' ? 'auto' : 'gsm7';
  const split = splitText(text, { coding, concat: '8bit' });
  const parts = split.parts.map((part, i): SubmitOptions => {
    // No `d` flag means "as configured" (DeliveryReport), not "no report".
    const p: SubmitOptions = { number, text: part, coding: split.coding };
    if (flags.deliveryReport) p.statusReport = true;
    if (flags.flash) p.messageClass = 0;
    if (split.parts.length > 1) p.udh = buildConcatUdh({ ref, total: split.parts.length, seq: i + 1, ref16bit: false });
    return p;
  });
  return { ok: true, message: { id, number, parts, ussd: false } };
}

function entryToPart(e: BackupEntry, report: boolean, ext: Record<string, string>): SubmitOptions {
  const p: SubmitOptions = {
    number: e.number,
    coding: e.coding === '8bit' ? '8bit' : e.coding.startsWith('Unicode') ? 'ucs2' : 'gsm7',
    rejectDuplicates: e.rejectDuplicates,
    replyPath: e.replySmsc,
  };
  if (report) p.statusReport = true; // PDU = Status_Report; otherwise as configured
  if (p.coding === '8bit') p.data = e.data ?? Buffer.alloc(0);
  else p.text = e.text;
  if (e.udh && e.udh.length > 0) p.udh = e.udh;
  if (e.messageClass >= 0 && e.messageClass <= 3) p.messageClass = e.messageClass as 0 | 1 | 2 | 3;
  if (ext.RelativeValidity !== undefined && /^\d+$/.test(ext.RelativeValidity)) p.validity = Number(ext.RelativeValidity);
  const smsc = ext.SMSC?.replace(/^"(.*)"$/, '$1');
  if (smsc) p.smsc = smsc;
  return p;
}

function fromBackup(id: string, content: Buffer): OutboxReadResult {
  let entries: BackupEntry[];
  try {
    entries = parseBackup(content);
  } catch (err) {
    if (err instanceof BackupFormatError) return fail(`malformed SMS backup: ${err.message}`);
    throw err;
  }
  const first = entries[0];
  if (!first) return fail('SMS backup holds no message (no [SMSBackup000] section with a Number)');
  if (first.number === '') return fail('SMS backup message has an empty Number');
  const report = first.pdu === 'Status_Report';
  const ext = parseBackupExtensions(content);
  const after = ext[SEND_AFTER_KEY] ? Date.parse(ext[SEND_AFTER_KEY]) : NaN;
  if (ext[SEND_AFTER_KEY] && Number.isNaN(after))
    return fail(`${SEND_AFTER_KEY} = ${ext[SEND_AFTER_KEY].slice(0, 40)} is not a time`);
  return {
    ok: true,
    message: {
      id,
      number: first.number,
      parts: entries.map((e) => entryToPart(e, report, ext)),
      ussd: first.messageClass === 127,
      ...(ext[PHONE_ID_KEY] ? { phoneId: ext[PHONE_ID_KEY] } : {}),
      ...(Number.isNaN(after) ? {} : { sendAfter: after }),
    },
  };
}

/**
 * Flag `b`: the file holds `Title,URL` (title up to 50 characters, URL up to 255). Gammu sends it as
 * a Nokia smart-messaging bookmark; we send the WAP push Service Indication that current phones
 * understand (what WAPINDICATOR sends).
 */
function fromBookmark(id: string, number: string, content: Buffer, ref: number): OutboxReadResult {
  const problem = outboxTextProblem(content);
  if (problem) return fail(problem);
  const text = decodeOutboxText(content).replace(/\r?\n$/, '');
  const comma = text.indexOf(',');
  if (comma < 0) return fail('a bookmark file (flag b) must hold "Title,URL"');
  const title = text.slice(0, comma);
  const url = text.slice(comma + 1).trim();
  if (title.length > 50) return fail(`bookmark title longer than 50 characters (${title.length})`);
  if (url.length === 0 || url.length > 255) return fail(`bookmark URL must have 1 to 255 characters (${url.length})`);
  const parts = wapPushParts(serviceIndication(url, title), ref).map(
    (p): SubmitOptions => ({ number, coding: '8bit', data: p.data, udh: p.udh, messageClass: 1 }),
  );
  return { ok: true, message: { id, number, parts, ussd: false } };
}

/**
 * Turns an outbox file into the parts to send, with Gammu's FILES-service rules, or says why it
 * cannot be sent (the daemon then moves it to the error folder with that reason).
 * `ref` is the concatenation reference used when a long `.txt` text must be split.
 */
export function readOutboxFile(name: string, content: Buffer, transmit: TransmitFormat, ref: number): OutboxReadResult {
  const parsed = parseOutboxName(name);
  if (!parsed.ok) return fail(parsed.reason);
  const info = parsed.info;
  if (info.kind === 'smsbackup') return fromBackup(name, content);
  if (info.bookmark) return fromBookmark(name, info.number, content, ref);
  return fromTxt(name, info.number, content, info, transmit, ref);
}

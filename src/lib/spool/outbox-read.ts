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
}

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

function fromTxt(id: string, number: string, content: Buffer, flags: { deliveryReport: boolean; flash: boolean }, transmit: TransmitFormat, ref: number): OutboxReadResult {
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
  return {
    ok: true,
    message: {
      id,
      number: first.number,
      parts: entries.map((e) => entryToPart(e, report, ext)),
      ussd: first.messageClass === 127,
      ...(ext[PHONE_ID_KEY] ? { phoneId: ext[PHONE_ID_KEY] } : {}),
    },
  };
}

/**
 * Flag `b`: the file holds `Title,URL` (title up to 50 characters, URL up to 255). Gammu sends it as
 * a Nokia smart-messaging bookmark; we send the WAP push Service Indication that current phones
 * understand (what WAPINDICATOR sends).
 */
function fromBookmark(id: string, number: string, content: Buffer, ref: number): OutboxReadResult {
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

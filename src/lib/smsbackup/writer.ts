import type { BackupDateTime, BackupEntry } from './types.js';
import { utf16beHex } from './hex.js';

const HEADER_1 = '; This file format was designed for Gammu and is compatible with Gammu+\n';
const HEADER_2 = '; See <http://www.gammu.org> for more info\n';
export const EXTENSION_PREFIX = '; smsgate: ';
const TEXT_HEX_PER_LINE = 200;
const COMMENT_BYTES_PER_LINE = 76;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function formatVcalDate(d: BackupDateTime): string {
  return `${pad(d.year, 4)}${pad(d.month)}${pad(d.day)}T${pad(d.hour)}${pad(d.minute)}${pad(d.second)}${d.utc ? 'Z' : ''}`;
}

/** Local wall-clock fields of `now`, with `utc` set when the local offset is zero (as Gammu does). */
export function localBackupDate(now: Date): BackupDateTime {
  return {
    year: now.getFullYear(),
    month: now.getMonth() + 1,
    day: now.getDate(),
    hour: now.getHours(),
    minute: now.getMinutes(),
    second: now.getSeconds(),
    utc: now.getTimezoneOffset() === 0,
  };
}

/** The C locale's `%c`, e.g. `Fri Nov 27 10:18:57 2026`. */
function cLocaleDate(now: Date): string {
  return `${DAYS[now.getDay()]} ${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())} ${now.getFullYear()}`;
}

/**
 * Comment lines as Gammu writes them: every CR or LF starts a new `; ` line, and so does the 77th byte
 * of a line. Gammu counts bytes, so a UTF-8 sequence may be cut in two; we keep its bytes exactly.
 */
function commentLines(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out: number[] = [0x3b, 0x20];
  let width = 0;
  for (const b of bytes) {
    if (b === 0x0a || b === 0x0d) {
      out.push(0x0a, 0x3b, 0x20);
      width = 0;
      continue;
    }
    if (width === COMMENT_BYTES_PER_LINE) {
      out.push(0x0a, 0x3b, 0x20);
      width = 0;
    }
    out.push(b);
    width++;
  }
  out.push(0x0a);
  return Buffer.from(out);
}

/**
 * The quoted plain value, for people and old readers; the `...Unicode` key next to it carries the
 * exact text. A line break would end the line and make the rest of the value a line of its own
 * (an alphanumeric sender may hold LF or CR), so line breaks are written as spaces here.
 */
function quote(s: string): string {
  return `"${s.replace(/[\r\n]/g, ' ')}"`;
}

function textLines(hex: string): string {
  let out = '';
  // An empty text still gets an empty `Text00` line.
  let n = 0;
  do {
    out += `Text${pad(n)} = ${hex.slice(n * TEXT_HEX_PER_LINE, (n + 1) * TEXT_HEX_PER_LINE)}\r\n`;
    n++;
  } while (n * TEXT_HEX_PER_LINE < hex.length);
  return out;
}

/**
 * The comment lines as a string when every character is printable ASCII (one byte each, no line
 * breaks): the same bytes as commentLines, without going through a byte array.
 */
function asciiCommentLines(text: string): string | undefined {
  if (!/^[\x20-\x7e]*$/.test(text)) return undefined;
  let out = '';
  let i = 0;
  do {
    out += `; ${text.slice(i, i + COMMENT_BYTES_PER_LINE)}\n`;
    i += COMMENT_BYTES_PER_LINE;
  } while (i < text.length);
  return out;
}

/** The section's lines after its comment. */
function entryBody(e: BackupEntry): string {
  let s = '';
  if (e.pdu === 'Deliver') {
    s += `SMSC = ${quote(e.smsc ?? '')}\r\nSMSCUnicode = ${utf16beHex(e.smsc ?? '')}\r\n`;
    if (e.smscReply) s += 'SMSCReply = TRUE\n';
  }
  s += `PDU = ${e.pdu}\n`;
  if (e.pdu === 'Status_Report' && e.deliveryStatus !== undefined)
    s += `DeliveryStatus = ${e.deliveryStatus}\n`;
  if (e.dateTime && e.dateTime.year !== 0) s += `DateTime = ${formatVcalDate(e.dateTime)}\r\n`;
  s += `State = ${e.state}\n`;
  s += `Number = ${quote(e.number)}\r\nNumberUnicode = ${utf16beHex(e.number)}\r\n`;
  s += `Name = ${quote(e.name)}\r\nNameUnicode = ${utf16beHex(e.name)}\r\n`;
  if (e.udh && e.udh.length > 0) s += `UDH = ${e.udh.toString('hex').toUpperCase()}\n`;
  const hex =
    e.coding === '8bit' ? (e.data ?? Buffer.alloc(0)).toString('hex').toUpperCase() : utf16beHex(e.text);
  s += textLines(hex);
  s += `Coding = ${e.coding}\n`;
  s += `Folder = ${e.folder}\n`;
  s += `Length = ${e.length}\n`;
  s += `Class = ${e.messageClass}\n`;
  s += `ReplySMSC = ${e.replySmsc ? 'True' : 'False'}\n`;
  s += `RejectDuplicates = ${e.rejectDuplicates ? 'True' : 'False'}\n`;
  s += `ReplaceMessage = ${e.replaceMessage}\n`;
  s += `MessageReference = ${e.messageReference}\n`;
  s += '\n';
  return s;
}

const hasComment = (e: BackupEntry): boolean =>
  e.coding === 'Default_No_Compression' || e.coding === 'Unicode_No_Compression';

/** The whole section as a string, when its comment can be one (see asciiCommentLines). */
function entryString(e: BackupEntry, index: number): string | undefined {
  const comment = hasComment(e) ? asciiCommentLines(e.text) : '';
  return comment === undefined ? undefined : `[SMSBackup${pad(index, 3)}]\n${comment}${entryBody(e)}`;
}

/** One `[SMSBackupNNN]` section, byte for byte as Gammu 1.42 writes it (mixed CRLF/LF endings). */
export function formatEntry(e: BackupEntry, index: number): Buffer {
  const fast = entryString(e, index);
  if (fast !== undefined) return Buffer.from(fast, 'utf8');
  const head = Buffer.from(`[SMSBackup${pad(index, 3)}]\n`, 'utf8');
  const comment = hasComment(e) ? commentLines(e.text) : Buffer.alloc(0);
  return Buffer.concat([head, comment, Buffer.from(entryBody(e), 'utf8')]);
}

/**
 * A whole `.smsbackup` file. `saved` is the time written into the third header line.
 * `extensions` carry what the format has no key for (validity, SMSC of a Submit) as
 * `; smsgate: Key = value` comment lines: Gammu skips comments, our reader takes them.
 */
export function formatBackup(
  entries: readonly BackupEntry[],
  saved: Date,
  extensions: Readonly<Record<string, string | number>> = {},
): Buffer {
  let header =
    HEADER_1 +
    HEADER_2 +
    `; Saved ${formatVcalDate(Object.assign(localBackupDate(saved), { utc: false }))} (${cLocaleDate(saved)})\n`;
  for (const [k, v] of Object.entries(extensions)) header += `${EXTENSION_PREFIX}${k} = ${v}\n`;
  header += '\n';
  // Usually one string, encoded once; a section whose comment needs byte-wise cutting is a Buffer.
  const parts: (string | Buffer)[] = [header];
  entries.forEach((e, i) => {
    const fast = entryString(e, i);
    const last = parts.length - 1;
    if (fast !== undefined && typeof parts[last] === 'string') parts[last] += fast;
    else parts.push(fast ?? formatEntry(e, i));
  });
  if (parts.length === 1) return Buffer.from(parts[0] as string, 'utf8');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

import type { BackupCoding, BackupDateTime, BackupEntry, BackupPduType, BackupState } from './types.js';
import { hexToUtf16be, isHex } from './hex.js';

/** A `.smsbackup` file that cannot be turned into messages; `line` is 1-based when known. */
export class BackupFormatError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'BackupFormatError';
  }
}

interface RawSection {
  name: string;
  line: number;
  values: Map<string, { value: string; line: number }>;
}

function parseSections(text: string): RawSection[] {
  const sections: RawSection[] = [];
  let current: RawSection | undefined;
  const lines = text.split(/\r?\n|\r/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) return;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new BackupFormatError(`unterminated section header "${line}"`, i + 1);
      current = { name: line.slice(1, -1).trim(), line: i + 1, values: new Map() };
      sections.push(current);
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new BackupFormatError(`expected "key = value", got "${line.slice(0, 40)}"`, i + 1);
    if (!current) throw new BackupFormatError('key outside of any [SMSBackup] section', i + 1);
    current.values.set(line.slice(0, eq).trim().toLowerCase(), {
      value: line.slice(eq + 1).trim(),
      line: i + 1,
    });
  });
  return sections;
}

const CODINGS: Record<string, BackupCoding> = {
  Unicode: 'Unicode_No_Compression',
  Unicode_No_Compression: 'Unicode_No_Compression',
  Unicode_Compression: 'Unicode_Compression',
  Default: 'Default_No_Compression',
  Default_No_Compression: 'Default_No_Compression',
  Default_Compression: 'Default_Compression',
  '8bit': '8bit',
};

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function parseBool(v: string | undefined): boolean {
  return v !== undefined && /^(true|yes|y|t|1)$/i.test(v);
}

function parseDate(v: string, line: number): BackupDateTime {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/.exec(v);
  if (!m) throw new BackupFormatError(`DateTime "${v}" is not YYYYMMDDTHHMMSS[Z]`, line);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { year, month, day, hour, minute, second, utc: m[7] === 'Z' };
}

function parseIntKey(s: RawSection, key: string, fallback: number): number {
  const v = s.values.get(key);
  if (!v) return fallback;
  if (!/^-?\d+$/.test(v.value)) throw new BackupFormatError(`${key} "${v.value}" is not an integer`, v.line);
  return Number(v.value);
}

function hexKey(s: RawSection, key: string): string | undefined {
  const v = s.values.get(key);
  if (!v) return undefined;
  if (!isHex(v.value)) throw new BackupFormatError(`${key} is not hexadecimal`, v.line);
  return v.value;
}

/** Prefer the `...Unicode` hex key, as Gammu does, then the quoted plain one. */
function stringKey(s: RawSection, key: string): string | undefined {
  const uni = hexKey(s, `${key}unicode`);
  if (uni !== undefined && uni.length > 0) return hexToUtf16be(uni);
  const plain = s.values.get(key);
  return plain ? unquote(plain.value) : uni !== undefined ? '' : undefined;
}

function readEntry(s: RawSection): BackupEntry | undefined {
  const number = stringKey(s, 'number');
  if (number === undefined) return undefined;
  let pdu: BackupPduType = s.values.has('sent') ? 'Deliver' : 'Submit';
  const pduKey = s.values.get('pdu');
  if (pduKey) {
    if (pduKey.value !== 'Deliver' && pduKey.value !== 'Submit' && pduKey.value !== 'Status_Report')
      throw new BackupFormatError(
        `PDU "${pduKey.value}" is not Deliver, Submit or Status_Report`,
        pduKey.line,
      );
    pdu = pduKey.value;
  }
  const codingName = s.values.get('coding')?.value ?? '';
  // Own keys only: `Coding = constructor` must not find Object.prototype.constructor.
  const coding = (Object.hasOwn(CODINGS, codingName) ? CODINGS[codingName] : undefined) ?? '8bit';
  let hex = '';
  for (let n = 0; ; n++) {
    const part = hexKey(s, `text${String(n).padStart(2, '0')}`);
    if (part === undefined) break;
    hex += part;
  }
  const isText = coding !== '8bit';
  if (isText && hex.length % 4 !== 0)
    throw new BackupFormatError(`text of [${s.name}] is not whole UCS-2 characters`, s.line);
  const udhHex = hexKey(s, 'udh');
  const stateRaw = s.values.get('state')?.value.toLowerCase();
  const state: BackupState =
    stateRaw === 'read' ? 'Read' : stateRaw === 'sent' ? 'Sent' : stateRaw === 'unsent' ? 'UnSent' : 'UnRead';
  const dt = s.values.get('datetime') ?? s.values.get('sent');
  const entry: BackupEntry = {
    pdu,
    state,
    number,
    name: stringKey(s, 'name') ?? '',
    text: isText ? hexToUtf16be(hex) : '',
    coding,
    folder: parseIntKey(s, 'folder', 0),
    length: isText ? hex.length / 4 : hex.length / 2,
    messageClass: parseIntKey(s, 'class', -1),
    replySmsc: parseBool(s.values.get('replysmsc')?.value),
    rejectDuplicates: parseBool(s.values.get('rejectduplicates')?.value),
    replaceMessage: parseIntKey(s, 'replacemessage', 0),
    messageReference: parseIntKey(s, 'messagereference', 0),
  };
  if (!isText) entry.data = Buffer.from(hex, 'hex');
  if (udhHex) entry.udh = Buffer.from(udhHex, 'hex');
  const smsc = stringKey(s, 'smsc');
  if (smsc !== undefined) entry.smsc = smsc;
  if (s.values.has('smscreply')) entry.smscReply = parseBool(s.values.get('smscreply')?.value);
  if (dt) entry.dateTime = parseDate(dt.value, dt.line);
  if (s.values.has('deliverystatus')) entry.deliveryStatus = parseIntKey(s, 'deliverystatus', 0);
  return entry;
}

/** `; smsgate: Key = value` lines before the first section (see formatBackup). */
export function parseBackupExtensions(content: Buffer | string): Record<string, string> {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('[')) break;
    const m = /^; smsgate: (\w+) = (.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** Reads the messages of a `.smsbackup` file (Gammu's ReadSMSBackupEntry semantics). */
export function parseBackup(content: Buffer | string): BackupEntry[] {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const entries: BackupEntry[] = [];
  for (const section of parseSections(text)) {
    if (!section.name.toLowerCase().startsWith('smsbackup')) continue;
    const entry = readEntry(section);
    if (!entry) break; // Gammu stops at the first section without a Number.
    entries.push(entry);
  }
  return entries;
}

/**
 * Gammu's file names for the FILES service (gammu-smsd-files(7)).
 * Inbox:  IN<YYYYMMDD>_<HHMMSS>_<serial>_<sender>_<part>.<ext>
 * Outbox: OUT<prio><YYYYMMDD>_<HHMMSS>_<serial>_<number>_<note>.<ext>[flags]
 */

const MAX_NUMBER_LENGTH = 50;
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `*` becomes `X` (reversible); characters unsafe in file names become `_`. */
export function escapeNumber(number: string): string {
  let out = '';
  for (const ch of number) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '*') out += 'X';
    else if ('<>:"/\\|?'.includes(ch) || c < 0x20 || c === 0x7f) out += '_';
    else out += ch;
  }
  return out;
}

export function unescapeNumber(s: string): string {
  return s.replace(/X/g, '*');
}

export interface Stamp {
  date: string; // YYYYMMDD
  time: string; // HHMMSS
}

export function localStamp(d: Date): Stamp {
  return {
    date: `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`,
    time: `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`,
  };
}

export interface OutboxNameParts {
  priority: string; // one letter A-Z, A first
  stamp: Stamp;
  serial: number;
  number: string;
  note: string;
  ext: string; // smsbackup, txt, txtd, ...
}

export function outboxName(p: OutboxNameParts): string {
  return `OUT${p.priority}${p.stamp.date}_${p.stamp.time}_${pad(p.serial)}_${escapeNumber(p.number)}_${p.note}.${p.ext}`;
}

export interface InboxNameParts {
  stamp: Stamp;
  serial: number;
  sender: string;
  part: number;
  ext: 'txt' | 'bin';
}

export function inboxName(p: InboxNameParts): string {
  return `IN${p.stamp.date}_${p.stamp.time}_${pad(p.serial)}_${escapeNumber(p.sender)}_${pad(p.part)}.${p.ext}`;
}

export interface OutboxFileInfo {
  number: string;
  /** Letter from the `OUT<prio>...` form; `undefined` for the short forms. */
  priority?: string;
  kind: 'txt' | 'smsbackup';
  deliveryReport: boolean;
  flash: boolean;
  bookmark: boolean;
}

export type OutboxNameResult = { ok: true; info: OutboxFileInfo } | { ok: false; reason: string };

/** Would Gammu's outbox scan consider this name at all? (Other names are left alone, not failed.) */
export function isOutboxCandidate(name: string): boolean {
  if (name.startsWith('.') || !/^out/i.test(name)) return false;
  const dot = name.lastIndexOf('.');
  if (dot < 0) return false;
  const ext = name.slice(dot + 1).toLowerCase();
  return ext.startsWith('txt') || ext === 'smsbackup';
}

/** Extracts the recipient and flags exactly as Gammu's FILES service does. */
export function parseOutboxName(name: string): OutboxNameResult {
  if (!isOutboxCandidate(name)) return { ok: false, reason: 'not an outbox file name (OUT...txt or OUT...smsbackup)' };
  const dot = name.lastIndexOf('.');
  const ext = name.slice(dot + 1).toLowerCase();
  const stem = name.slice(3, name.indexOf('.'));
  const fields = stem.split('_');
  let number: string;
  let priority: string | undefined;
  if (fields.length === 1) number = stem;
  else if (fields.length === 3) number = fields[1] ?? '';
  else if (fields.length >= 5) {
    number = fields[3] ?? '';
    priority = /^[A-Za-z]/.test(stem) ? stem[0] : undefined;
  } else {
    return { ok: false, reason: `cannot find the recipient in "${name}": expected 0, 2 or at least 4 underscores` };
  }
  if (number.length === 0) return { ok: false, reason: `empty recipient in "${name}"` };
  if (number.length > MAX_NUMBER_LENGTH)
    return { ok: false, reason: `recipient longer than ${MAX_NUMBER_LENGTH} characters in "${name}"` };
  const flags = ext.startsWith('txt') ? ext.slice(3) : '';
  return {
    ok: true,
    info: {
      number: unescapeNumber(number),
      priority,
      kind: ext === 'smsbackup' ? 'smsbackup' : 'txt',
      deliveryReport: flags.includes('d'),
      flash: flags.includes('f'),
      bookmark: flags.includes('b'),
    },
  };
}

/**
 * An inbox name as inboxName writes it (and Gammu): group 1 is the message (the name without the
 * part number), group 2 the escaped sender, group 3 the part, group 4 the extension. The sender is
 * greedy, so a sender holding `_` still parses.
 */
export const INBOX_NAME_RE = /^(IN\d{8}_\d{6}_\d+_(.*))_(\d+)\.(txt|bin)$/;

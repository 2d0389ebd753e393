import type { DeliverPdu } from '../sms/deliver.js';
import type { BackupEntry } from '../smsbackup/types.js';
import { formatBackup } from '../smsbackup/writer.js';
import { utf16beHex } from '../smsbackup/hex.js';
import { inboxName, type Stamp } from '../spool/names.js';

export type InboxFormat = 'standard' | 'unicode' | 'detail';

/** The files of one received message, named with a placeholder serial: `nameFor(serial)`. */
export interface InboxFile {
  nameFor: (serial: number) => string;
  data: Buffer;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function stampOf(p: DeliverPdu): Stamp {
  const l = p.scts.local;
  return {
    date: `${pad(l.year, 4)}${pad(l.month)}${pad(l.day)}`,
    time: `${pad(l.hour)}${pad(l.minute)}${pad(l.second)}`,
  };
}

function isBinary(p: DeliverPdu): boolean {
  return p.coding === '8bit' || p.text === undefined;
}

/** A received part as an SMS-backup entry (what `gammu backupsms` would write). */
export function deliverToBackupEntry(p: DeliverPdu): BackupEntry {
  const l = p.scts.local;
  const entry: BackupEntry = {
    pdu: 'Deliver',
    smsc: p.smsc?.number ?? '',
    smscReply: p.flags.replyPath,
    dateTime: { ...l, utc: p.scts.tzMinutes === 0 },
    state: 'UnRead',
    number: p.originator.number,
    name: '',
    text: p.text ?? '',
    coding: isBinary(p) ? '8bit' : p.coding === 'ucs2' ? 'Unicode_No_Compression' : 'Default_No_Compression',
    folder: 1,
    length: isBinary(p) ? (p.data?.length ?? 0) : (p.text ?? '').length,
    messageClass: p.messageClass,
    replySmsc: p.flags.replyPath,
    rejectDuplicates: false,
    replaceMessage: 0,
    messageReference: 0,
  };
  if (isBinary(p)) entry.data = p.data ?? Buffer.alloc(0);
  if (p.udh && p.udh.length > 0) entry.udh = p.udh;
  if (!p.flags.replyPath) delete entry.smscReply;
  return entry;
}

/**
 * Gammu's inbox files for a received message: one file per part (`standard`: UTF-8 text,
 * `unicode`: BOM + UCS-2BE, 8-bit parts as raw `.bin`), or one SMS-backup file holding every part
 * named like part 00 (`detail`). All parts share the serial found free for the first.
 */
export function renderInboxFiles(parts: readonly DeliverPdu[], format: InboxFormat, now: Date): InboxFile[] {
  const first = parts[0];
  if (!first) return [];
  if (format === 'detail') {
    const ext = isBinary(first) ? 'bin' : 'txt';
    const data = formatBackup(parts.map(deliverToBackupEntry), now);
    return [
      {
        nameFor: (serial) =>
          inboxName({ stamp: stampOf(first), serial, sender: first.originator.number, part: 0, ext }),
        data,
      },
    ];
  }
  return parts.map((p, i) => {
    const binary = isBinary(p);
    const data = binary
      ? (p.data ?? Buffer.alloc(0))
      : format === 'unicode'
        ? Buffer.from(`FEFF${utf16beHex(p.text ?? '')}`, 'hex')
        : Buffer.from(p.text ?? '', 'utf8');
    return {
      nameFor: (serial) =>
        inboxName({
          stamp: stampOf(p),
          serial,
          sender: p.originator.number,
          part: i,
          ext: binary ? 'bin' : 'txt',
        }),
      data,
    };
  });
}

import type { BackupEntry } from '../smsbackup/types.js';
import { formatBackup } from '../smsbackup/writer.js';
import { utf16beHex } from '../smsbackup/hex.js';
import { localStamp, outboxName } from './names.js';

export type OutboxFormat = 'detail' | 'unicode' | 'standard';

/** One file to create in the outbox: its content and its name for serial `j`. */
export interface OutboxFile {
  data: Buffer;
  nameFor: (j: number) => string;
}

export interface OutboxMessage {
  number: string;
  entries: BackupEntry[];
  validity?: number;
  smsc?: string;
}

/** Gammu tries `sms0`..`sms99` for each file of a single injection. */
export const INJECT_NAME_TRIES = 100;

/**
 * The files gammu-smsd-inject would write for a message: one `.smsbackup` holding every part
 * (OutboxFormat=detail), or one `.txt` per part (unicode: BOM + UCS-2BE, standard: UTF-8).
 * Text files carry Gammu's name flags `d` (delivery report) and `f` (flash), which Gammu's own
 * injector drops; its daemon honours them.
 */
export function renderOutboxFiles(msg: OutboxMessage, format: OutboxFormat, now: Date): OutboxFile[] {
  const stamp = localStamp(now);
  const name = (ext: string) => (j: number) =>
    outboxName({ priority: 'C', stamp, serial: 0, number: msg.number, note: `sms${j}`, ext });
  // A .txt carries neither 8-bit data nor U+0000 (smsd run refuses a .txt with a NUL, gammu-smsd
  // cuts the text there): such a message is written as an SMS backup, which carries both.
  const textual = msg.entries.every((e) => e.coding !== '8bit' && !e.text.includes('\u0000'));
  if (format === 'detail' || !textual) {
    const ext: Record<string, string | number> = {};
    if (msg.validity !== undefined) ext.RelativeValidity = msg.validity;
    if (msg.smsc !== undefined) ext.SMSC = `"${msg.smsc}"`;
    return [{ data: formatBackup(msg.entries, now, ext), nameFor: name('smsbackup') }];
  }
  return msg.entries.map((e) => {
    const flags = `${e.pdu === 'Status_Report' ? 'd' : ''}${e.messageClass === 0 ? 'f' : ''}`;
    const data =
      format === 'unicode' ? Buffer.from(`FEFF${utf16beHex(e.text)}`, 'hex') : Buffer.from(e.text, 'utf8');
    return { data, nameFor: name(`txt${flags}`) };
  });
}

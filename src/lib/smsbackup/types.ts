import type { SctsLocal } from '../sms/scts.js';

/** One message part as Gammu's SMS-backup format (`.smsbackup`) describes it. */
export type BackupPduType = 'Deliver' | 'Submit' | 'Status_Report';
export type BackupCoding =
  | 'Default_No_Compression'
  | 'Unicode_No_Compression'
  | '8bit'
  | 'Default_Compression'
  | 'Unicode_Compression';
export type BackupState = 'UnRead' | 'Read' | 'Sent' | 'UnSent';

/** Wall-clock fields as Gammu stores them; `utc` marks the `Z` suffix (time zone offset 0). */
export interface BackupDateTime extends SctsLocal {
  utc: boolean;
}

export interface BackupEntry {
  pdu: BackupPduType;
  smsc?: string;
  smscReply?: boolean;
  deliveryStatus?: number;
  dateTime?: BackupDateTime;
  state: BackupState;
  number: string;
  name: string;
  /** User data header including its length octet. */
  udh?: Buffer;
  /** Text as UTF-16 code units (Default/Unicode codings). */
  text: string;
  /** Raw payload for 8-bit coding. */
  data?: Buffer;
  coding: BackupCoding;
  folder: number;
  length: number;
  messageClass: number;
  replySmsc: boolean;
  rejectDuplicates: boolean;
  replaceMessage: number;
  messageReference: number;
}

export const TEXT_CODINGS: readonly BackupCoding[] = [
  'Default_No_Compression',
  'Unicode_No_Compression',
  'Default_Compression',
  'Unicode_Compression',
];

export function isTextCoding(c: BackupCoding): boolean {
  return c !== '8bit';
}

import fs from 'node:fs';
import path from 'node:path';
import { replaceFileDurable } from './atomic.js';
import { readIfExists, readdirIfExists } from '../common/absent.js';

/**
 * Which modem received an inbox message, and on which number. Gammu's inbox file names and formats
 * have no room for it (its SQL inbox has RecipientID), so `smsd run` keeps a small record per
 * message in `inbox/.smsgate/<inbox file>.json`, hidden from anything that lists `IN*` files.
 * `smppd serve` routes MO with it. Records of inbox files that are gone are pruned at connect.
 */

export const RECEIVED_DIR = '.smsgate';

export interface ReceivedRecord {
  phoneId: string;
  /** The number the message was sent to (OwnNumber), when known. */
  receiver?: string;
}

export function writeReceivedRecord(inboxDir: string, inboxName: string, record: ReceivedRecord): void {
  const dir = path.join(inboxDir, RECEIVED_DIR);
  fs.mkdirSync(dir, { recursive: true });
  replaceFileDurable(path.join(dir, `${inboxName}.json`), Buffer.from(JSON.stringify(record)));
}

export function readReceivedRecord(inboxDir: string, inboxName: string): ReceivedRecord | undefined {
  // Absent: an inbox file from another writer; routing goes without it.
  const text = readIfExists(path.join(inboxDir, RECEIVED_DIR, `${inboxName}.json`), 'utf8');
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as unknown;
    if (r && typeof r === 'object' && typeof (r as ReceivedRecord).phoneId === 'string') return r as ReceivedRecord;
  } catch {
    // not a record (parsing only): routing goes without it
  }
  return undefined;
}

export function pruneReceivedRecords(inboxDir: string): void {
  const dir = path.join(inboxDir, RECEIVED_DIR);
  const names = readdirIfExists(dir);
  if (!names) return;
  for (const n of names)
    if (n.endsWith('.json') && !fs.existsSync(path.join(inboxDir, n.slice(0, -5))))
      fs.rmSync(path.join(dir, n), { force: true });
}

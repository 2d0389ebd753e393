import path from 'node:path';
import type { ReportRecord } from '../../spool/reports.js';
import { parseBackup, parseBackupExtensions } from '../../smsbackup/reader.js';
import { unescapeNumber } from '../../spool/names.js';
import { readIfExists } from '../../common/absent.js';
import { META_KEY, type SmppMeta } from '../store/store.js';
import type { MessageIndex, SpoolPaths } from '../store/messages.js';

/**
 * `GET /v1/messages/{id}` on the spool: where the message's file is (outbox: queued; sent/: sent,
 * then delivered or failed by the status reports of `smsd run`; error/: failed or cancelled), its
 * parts and the report of each part. Only the account that submitted it sees it.
 */

export interface ApiReceipt {
  part: number;
  state: 'delivered' | 'failed' | 'pending' | 'unknown';
  status: number;
  description: string;
  at: string;
}

export interface MessageView {
  id: string;
  to: string;
  from: string;
  state: 'queued' | 'sent' | 'delivered' | 'failed' | 'cancelled';
  parts: number;
  submitted_at: string;
  webhook?: string;
  error?: number;
  receipts: ApiReceipt[];
}

/** How long a lookup waits for the file of a message acknowledged a moment ago. */
const FILE_WAIT_MS = 5_000;

export async function spoolMessageView(
  paths: SpoolPaths,
  index: MessageIndex,
  id: string,
  systemId: string,
): Promise<MessageView | undefined> {
  if (!/^[0-9A-Za-z]{1,64}$/.test(id)) return undefined;
  const pending = index.unmaterialized?.whenMaterialized(id);
  if (pending) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pending, new Promise((r) => (timer = setTimeout(r, FILE_WAIT_MS)))]);
    clearTimeout(timer);
  }
  // Moved (outbox → sent/) between the listing and the read: look again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const w = index.locate(id);
    if (!w) return undefined;
    const content = readIfExists(path.join(paths[w.dir], w.name));
    if (!content) continue;
    let meta: SmppMeta;
    let parts: number;
    try {
      const raw = parseBackupExtensions(content)[META_KEY];
      if (!raw) return undefined;
      meta = JSON.parse(raw) as SmppMeta;
      parts = parseBackup(content).length;
    } catch {
      return undefined; // not one of ours
    }
    if (meta.sid.toLowerCase() !== systemId.toLowerCase()) return undefined;
    const receipts = w.dir === 'sent' ? reportsOf(paths.reports, w.name, parts) : [];
    const failed = receipts.find((r) => r.state === 'failed');
    let state: MessageView['state'] = 'queued';
    if (w.dir === 'error')
      state = (readIfExists(path.join(paths.error, `${w.name}.reason`), 'utf8') ?? '').includes('cancelled')
        ? 'cancelled'
        : 'failed';
    else if (w.dir === 'sent')
      state = failed
        ? 'failed'
        : receipts.length === parts && receipts.every((r) => r.state === 'delivered')
          ? 'delivered'
          : 'sent';
    return {
      id,
      to: unescapeNumber(w.name.split('_')[3] ?? ''),
      from: meta.src.ton === 1 ? `+${meta.src.addr}` : meta.src.addr,
      state,
      parts,
      submitted_at: meta.at,
      ...(meta.hook ? { webhook: meta.hook.url } : {}),
      ...(failed ? { error: failed.status } : {}),
      receipts,
    };
  }
  return undefined;
}

function reportsOf(dir: string, name: string, parts: number): ApiReceipt[] {
  const out: ApiReceipt[] = [];
  for (let part = 1; part <= parts; part++) {
    const text = readIfExists(path.join(dir, `${name}.${String(part).padStart(2, '0')}.json`), 'utf8');
    if (text === undefined) continue;
    try {
      const r = JSON.parse(text) as ReportRecord;
      out.push({
        part,
        state: r.category,
        status: r.status,
        description: r.description,
        at: r.dischargedAt || r.receivedAt,
      });
    } catch {
      // being replaced (report files are replaced whole): not there yet
    }
  }
  return out;
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, publishUnique, writeTemp } from '../spool/atomic.js';

/**
 * Durable per-ESME queues of deliver_sm (receipts and MO) in `<spool>/smppd/queue/<system_id>/`.
 *
 * One file per event, named `<16-digit sequence>-<key hash>.json`, holding the encoded PDUs (their
 * sequence numbers are set when sent). A file is created durably before the event counts as taken,
 * and removed only after the ESME answered every PDU with deliver_sm_resp. `done.log` lists the key
 * hashes of removed entries; together with the names still queued it is the set of events already
 * taken, so a restart neither loses an event nor queues it twice.
 */

export interface QueueEntry {
  key: string;
  kind: 'receipt' | 'mo';
  /** Encoded deliver_sm PDUs, hex. */
  pdus: string[];
  created: string;
}

export function keyHash(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 20);
}

function safeDirName(systemId: string): string {
  return encodeURIComponent(systemId.toLowerCase());
}

export class DeliveryQueue {
  readonly queueDir: string;
  private readonly doneFile: string;
  private readonly taken = new Set<string>();
  private readonly lists = new Map<string, string[]>();
  private seq = 0;
  private doneFd: number;
  private removals: { dir: string; name: string; hash: string }[] = [];
  private removalScheduled = false;
  /** True when this state folder was created now: the caller marks existing events as taken. */
  readonly fresh: boolean;

  constructor(readonly stateDir: string) {
    this.queueDir = path.join(stateDir, 'queue');
    this.fresh = !fs.existsSync(path.join(stateDir, 'done.log'));
    fs.mkdirSync(this.queueDir, { recursive: true });
    this.doneFile = path.join(stateDir, 'done.log');
    this.doneFd = fs.openSync(this.doneFile, 'a');
    for (const line of fs.readFileSync(this.doneFile, 'utf8').split('\n')) if (line) this.taken.add(line);
    for (const d of fs.readdirSync(this.queueDir)) {
      const names = fs
        .readdirSync(path.join(this.queueDir, d))
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .sort();
      for (const n of names) {
        const [seq = '0', hash = ''] = n.slice(0, -5).split('-');
        this.taken.add(hash);
        this.seq = Math.max(this.seq, Number(seq));
      }
      if (names.length > 0) this.lists.set(decodeURIComponent(d), names);
    }
  }

  has(key: string): boolean {
    return this.taken.has(keyHash(key));
  }

  /** Marks events as taken without queueing anything (the first start: what was there before us). */
  markTaken(keys: readonly string[]): void {
    if (keys.length === 0) return;
    const hashes = keys.map(keyHash).filter((h) => !this.taken.has(h));
    for (const h of hashes) this.taken.add(h);
    fs.writeSync(this.doneFd, hashes.map((h) => `${h}\n`).join(''));
    fs.fdatasyncSync(this.doneFd);
  }

  /** Queues an event durably for `systemId`; false if it was taken before. */
  add(systemId: string, entry: Omit<QueueEntry, 'created'>): boolean {
    const hash = keyHash(entry.key);
    if (this.taken.has(hash)) return false;
    const sid = systemId.toLowerCase();
    const dir = path.join(this.queueDir, safeDirName(sid));
    fs.mkdirSync(dir, { recursive: true });
    const data = Buffer.from(JSON.stringify({ ...entry, created: new Date().toISOString() }));
    const tmp = writeTemp(dir, data, true);
    const seq = ++this.seq;
    const published = publishUnique(tmp, dir, (j) => `${String(seq + j).padStart(16, '0')}-${hash}.json`, 10);
    if (!published) throw new Error(`cannot queue ${entry.key} in ${dir}`);
    fsyncDir(dir);
    this.taken.add(hash);
    const list = this.lists.get(sid) ?? [];
    list.push(published.name);
    this.lists.set(sid, list);
    return true;
  }

  /** Queued entry names for an ESME, oldest first. */
  names(systemId: string): readonly string[] {
    return this.lists.get(systemId.toLowerCase()) ?? [];
  }

  systemIds(): string[] {
    return [...this.lists.keys()].filter((k) => (this.lists.get(k)?.length ?? 0) > 0);
  }

  read(systemId: string, name: string): QueueEntry {
    return JSON.parse(
      fs.readFileSync(path.join(this.queueDir, safeDirName(systemId), name), 'utf8'),
    ) as QueueEntry;
  }

  /** Drops an answered entry: its hash goes to done.log (fdatasync, batched) before the file is unlinked. */
  remove(systemId: string, name: string): void {
    const sid = systemId.toLowerCase();
    const list = this.lists.get(sid);
    const i = list?.indexOf(name) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
    const hash = name.slice(17, -5);
    this.removals.push({ dir: path.join(this.queueDir, safeDirName(sid)), name, hash });
    if (!this.removalScheduled) {
      this.removalScheduled = true;
      setImmediate(() => {
        try {
          this.flushRemovals();
        } catch (err) {
          // done.log not writable (disk full...): the files stay and are sent again after a restart,
          // which beats losing track of them; never an uncaught exception in a timer.
          this.onError?.(err as Error);
        }
      });
    }
  }

  /** Told about failures of the background flush. */
  onError: ((err: Error) => void) | undefined;

  flushRemovals(): void {
    this.removalScheduled = false;
    const batch = this.removals;
    this.removals = [];
    if (batch.length === 0) return;
    fs.writeSync(this.doneFd, batch.map((r) => `${r.hash}\n`).join(''));
    fs.fdatasyncSync(this.doneFd);
    for (const r of batch) fs.rmSync(path.join(r.dir, r.name), { force: true });
  }

  close(): void {
    this.flushRemovals();
    fs.closeSync(this.doneFd);
  }
}

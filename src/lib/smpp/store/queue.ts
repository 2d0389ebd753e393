import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, publishUnique, writeTemp } from '../../spool/atomic.js';
import { DoneLog } from './done-log.js';
import { FingerprintSet } from './fingerprints.js';
import { hashOfEntry, isEntryName, oldestEntries, seqOfEntry } from './queue-scan.js';

/**
 * Durable per-ESME queues of deliver_sm (receipts and MO) in `<spool>/smppd/queue/<system_id>/`.
 *
 * One file per event, named `<16-digit sequence>-<key hash>.json`, holding the encoded PDUs (their
 * sequence numbers are set when sent). A file is created durably before the event counts as taken,
 * and removed only after the ESME answered every PDU with deliver_sm_resp. `done.log` lists the key
 * hashes of removed entries; together with the names still queued it is the set of events already
 * taken, so a restart neither loses an event nor queues it twice.
 *
 * Memory does not grow with the queue: per ESME only a page of the oldest names is held (the
 * rest stay on disk and are read in, oldest first, as the page runs low) plus a count; the set of
 * taken events is a table of 80-bit hashes (15 to 30 bytes an event, see FingerprintSet), kept
 * small by `compact`.
 */

export interface QueueEntry {
  key: string;
  kind: 'receipt' | 'mo';
  /** Encoded deliver_sm PDUs, hex. */
  pdus: string[];
  created: string;
}

export interface QueueOptions {
  /** Names held in memory per ESME (more when a caller of `page` needs more). */
  pageSize?: number;
  /** How long a done event is remembered even when nothing can bring it back (see `compact`). */
  horizonMs?: number;
  /** done.log lines appended since the last compaction before `needsCompaction` says so, at least. */
  compactAfter?: number;
  now?: () => number;
}

export function keyHash(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 20);
}

function safeDirName(systemId: string): string {
  return encodeURIComponent(systemId.toLowerCase());
}

// Flags of a hash in the taken set.
const QUEUED = 1; // a file in a queue folder
const DONE = 2; // a line in done.log
const LIVE = 4; // during `compact`: its source is still in the spool
const WRITTEN = 8; // during `compact`: its line is in the new done.log

/** One ESME's queue: the oldest names in memory, in order; the others only on disk. */
interface Lane {
  dir: string;
  /** Oldest first; a Set so that removing an answered entry anywhere in it is O(1). */
  page: Set<string>;
  /** The newest name ever put in the page: the disk is read for names after it. */
  last: string;
  /** Entries on disk (queued, not removed). */
  count: number;
  /** Every entry on disk is in the page: a new one can go straight in. */
  complete: boolean;
}

const EMPTY: ReadonlySet<string> = new Set();
const DAY_MS = 86_400_000;

export class DeliveryQueue {
  readonly queueDir: string;
  private readonly done: DoneLog;
  private taken: FingerprintSet;
  private readonly lanes = new Map<string, Lane>();
  private seq = 0;
  private removals: { dir: string; name: string; hash: string }[] = [];
  private removalScheduled = false;
  private readonly pageSize: number;
  private readonly horizonMs: number;
  private readonly compactAfter: number;
  private readonly now: () => number;
  /** When done.log was read: the time of its lines that have none. */
  private readonly loadedAt: number;
  private doneLines = 0;
  private linesAtCompaction = 0;
  /** True when this state folder was created now: the caller marks existing events as taken. */
  readonly fresh: boolean;

  constructor(
    readonly stateDir: string,
    o: QueueOptions = {},
  ) {
    // ~100 bytes a name in memory; a refill is one pass over the folder (~70 ms per 100,000
    // entries here), so draining N costs about N² / (1.5 × page) directory entries read.
    this.pageSize = Math.max(16, o.pageSize ?? 8192);
    this.horizonMs = o.horizonMs ?? DAY_MS;
    this.compactAfter = o.compactAfter ?? 10_000;
    this.now = o.now ?? Date.now;
    this.loadedAt = this.seconds();
    this.queueDir = path.join(stateDir, 'queue');
    const doneFile = path.join(stateDir, 'done.log');
    this.fresh = !fs.existsSync(doneFile);
    fs.mkdirSync(this.queueDir, { recursive: true });
    this.done = new DoneLog(doneFile);
    this.taken = new FingerprintSet();
    this.done.forEach((hash) => {
      this.taken.update(hash, DONE);
      this.doneLines++;
    });
    this.linesAtCompaction = this.doneLines;
    for (const d of fs.readdirSync(this.queueDir))
      this.load(decodeURIComponent(d), path.join(this.queueDir, d));
  }

  /** Counts and hashes one ESME's entries in one pass over its folder; pages in the oldest. */
  private load(sid: string, dir: string): void {
    if (!fs.statSync(dir).isDirectory()) return;
    let count = 0;
    const finished: string[] = [];
    const page = oldestEntries(dir, '', this.pageSize, (name) => {
      const hash = hashOfEntry(name);
      if (this.taken.flagsOf(hash) & DONE) {
        // Its line reached done.log (the ESME had answered) but a crash came before the unlink.
        finished.push(name);
        return false;
      }
      this.taken.update(hash, QUEUED);
      this.seq = Math.max(this.seq, seqOfEntry(name));
      count++;
      return true;
    });
    for (const name of finished) fs.rmSync(path.join(dir, name), { force: true });
    this.lanes.set(sid, {
      dir,
      page: new Set(page),
      last: page[page.length - 1] ?? '',
      count,
      complete: page.length === count,
    });
  }

  private lane(sid: string): Lane {
    let lane = this.lanes.get(sid);
    if (!lane) {
      lane = {
        dir: path.join(this.queueDir, safeDirName(sid)),
        page: new Set(),
        last: '',
        count: 0,
        complete: true,
      };
      this.lanes.set(sid, lane);
    }
    return lane;
  }

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  has(key: string): boolean {
    return this.taken.flagsOf(keyHash(key)) !== 0;
  }

  /** Marks events as taken without queueing anything (the first start: what was there before us). */
  markTaken(keys: readonly string[]): void {
    if (keys.length === 0) return;
    const hashes = [...new Set(keys.map(keyHash))].filter((h) => this.taken.flagsOf(h) === 0);
    this.done.append(hashes, this.seconds());
    for (const h of hashes) this.taken.update(h, DONE);
    this.doneLines += hashes.length;
  }

  /** Queues an event durably for `systemId`; false if it was taken before. */
  add(systemId: string, entry: Omit<QueueEntry, 'created'>): boolean {
    const hash = keyHash(entry.key);
    if (this.taken.flagsOf(hash) !== 0) return false;
    const lane = this.lane(systemId.toLowerCase());
    fs.mkdirSync(lane.dir, { recursive: true });
    const data = Buffer.from(JSON.stringify({ ...entry, created: new Date().toISOString() }));
    const tmp = writeTemp(lane.dir, data, true);
    const seq = this.seq + 1;
    const published = publishUnique(
      tmp,
      lane.dir,
      (j) => `${String(seq + j).padStart(16, '0')}-${hash}.json`,
      10,
    );
    if (!published) throw new Error(`cannot queue ${entry.key} in ${lane.dir}`);
    fsyncDir(lane.dir);
    this.seq = seq + published.index;
    this.taken.update(hash, QUEUED);
    lane.count++;
    // Newer than everything queued, so it belongs at the end of the page when the page holds all.
    if (lane.complete && lane.page.size < this.pageSize) {
      lane.page.add(published.name);
      lane.last = published.name;
    } else lane.complete = false;
    return true;
  }

  /** Entries queued for an ESME (on disk, not yet answered). */
  count(systemId: string): number {
    return this.lanes.get(systemId.toLowerCase())?.count ?? 0;
  }

  /**
   * The oldest queued names of an ESME, oldest first: a page of at least `atLeast` names when that
   * many are queued (the receivers' windows), read in from disk when it runs low. Removing an
   * entry takes it out of this set; the next call brings newer ones in.
   */
  page(systemId: string, atLeast = 0): ReadonlySet<string> {
    const lane = this.lanes.get(systemId.toLowerCase());
    if (!lane) return EMPTY;
    const size = Math.max(this.pageSize, 2 * atLeast);
    if (!lane.complete && lane.page.size < Math.max(size / 4, atLeast)) this.refill(lane, size);
    return lane.page;
  }

  /** One pass over the folder for the oldest names after the page (O(queued) each `size` × 3/4 entries). */
  private refill(lane: Lane, size: number): void {
    const want = size - lane.page.size;
    const names = oldestEntries(lane.dir, lane.last, want);
    for (const n of names) lane.page.add(n);
    lane.last = names[names.length - 1] ?? lane.last;
    if (names.length < want) {
      lane.complete = true;
      // Everything queued is in the page now: the count heals if files went behind our back.
      lane.count = lane.page.size;
    }
  }

  systemIds(): string[] {
    return [...this.lanes].filter(([, l]) => l.count > 0).map(([sid]) => sid);
  }

  read(systemId: string, name: string): QueueEntry {
    return JSON.parse(
      fs.readFileSync(path.join(this.queueDir, safeDirName(systemId), name), 'utf8'),
    ) as QueueEntry;
  }

  /** Drops an answered entry: its hash goes to done.log (fdatasync, batched) before the file is unlinked. */
  remove(systemId: string, name: string): void {
    const sid = systemId.toLowerCase();
    const lane = this.lanes.get(sid);
    if (lane?.page.delete(name)) lane.count--;
    const hash = hashOfEntry(name);
    this.taken.update(hash, DONE, QUEUED);
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
    this.done.append(
      batch.map((r) => r.hash),
      this.seconds(),
    );
    this.doneLines += batch.length;
    for (const r of batch) if (isEntryName(r.name)) fs.rmSync(path.join(r.dir, r.name), { force: true });
  }

  /** done.log has grown enough since the last compaction for another to pay off (amortised O(1) a line). */
  needsCompaction(): boolean {
    return this.doneLines - this.linesAtCompaction >= Math.max(this.compactAfter, this.linesAtCompaction);
  }

  /**
   * Rewrites done.log keeping only the events that can still come back, and shrinks the taken set
   * to those plus the queued ones.
   *
   * The rule: a done event is kept while `liveKeys` (the caller's listing of the spool folders it
   * reads again and again: reports/, error/, inbox/) still produces its key, or for `horizonMs`
   * (a day) after it was done whatever the spool says. An event whose source file is gone can
   * never be queued again, so forgetting it loses nothing and repeats nothing; the horizon covers
   * sources that are only ever seen once, through a watch event (ENROUTE from sent/, already best
   * effort across a restart), and late or doubled events. The trade-off: memory and done.log are
   * bounded by what the spool still holds plus a day of traffic, not by all history; a source file
   * kept forever (reports/, which smsd run never cleans; an inbox nobody empties) keeps its event
   * remembered, at 15 to 30 bytes in memory and 21 on disk.
   */
  compact(liveKeys: Iterable<string>): { kept: number; dropped: number } {
    this.flushRemovals();
    for (const key of liveKeys) {
      const hash = keyHash(key);
      if (this.taken.flagsOf(hash) !== 0) this.taken.update(hash, LIVE);
    }
    const cutoff = Math.floor((this.now() - this.horizonMs) / 1000);
    const before = this.doneLines;
    let kept: number;
    try {
      kept = this.done.rewrite((hash, seconds) => {
        const flags = this.taken.flagsOf(hash);
        if (flags & WRITTEN) return undefined; // a duplicate line
        const at = seconds ?? this.loadedAt;
        if (at < cutoff && !(flags & (LIVE | QUEUED))) return undefined;
        this.taken.update(hash, WRITTEN);
        return at;
      });
    } catch (err) {
      // The old done.log is still whole: forget the marks, or the next try would take kept lines for duplicates.
      this.taken = this.taken.rebuilt((f) => f & (QUEUED | DONE));
      throw err;
    }
    this.taken = this.taken.rebuilt((f) => (f & QUEUED) | (f & WRITTEN ? DONE : 0));
    this.doneLines = kept;
    this.linesAtCompaction = kept;
    return { kept, dropped: before - kept };
  }

  /** Bytes of the taken set (for the figures). */
  get takenBytes(): number {
    return this.taken.bytes;
  }

  close(): void {
    this.flushRemovals();
    this.done.close();
  }
}

import fs from 'node:fs';
import type { Logger } from '../../common/log.js';
import { describeFsError } from '../../spool/atomic.js';
import { encodeRecordInto, readSegment, recordLength, type JournalRecord } from '../../spool/journal.js';
import { AsyncJournalSegment } from './journal-writer.js';
import type { MaterializeBatch } from './materializer.js';

/**
 * Group commit into smppd's journal segments. Records taken while a write runs form the next one;
 * each write is one O_DSYNC write(2) in libuv's thread pool. A segment is closed after
 * SEGMENT_RECORDS records or SEGMENT_MS, and retired (`sync -f`, deleted) once every record of it
 * has its file (`materialized`, reported by the materializer) and the kernel had time to write
 * those files back by itself.
 */

export interface GroupCommitEvents<T extends JournalRecord> {
  /** The batch is durable: `files` is what the materializer needs to create its files. */
  committed(batch: T[], files: MaterializeBatch): void;
  /** The batch is not durable. */
  failed(batch: T[], err: Error): void;
  /** The segment is gone (its count file too). */
  retired(seg: AsyncJournalSegment): void;
  log: Logger;
}

/** A journal write and what it carries. */
interface CommitJob<T> {
  seg: AsyncJournalSegment;
  batch: T[];
  files: MaterializeBatch;
  buf: Buffer;
  outcome: 'ok' | Error | undefined;
}

/** Start a new journal segment after this many records or this long, retiring the old one. */
const SEGMENT_RECORDS = 50_000;
const SEGMENT_MS = 10_000;
/**
 * A segment whose files all exist is retired this long after the last one was created: by then the
 * kernel has written them back by itself (vm.dirty_expire_centisecs, 30 s by default, checked every
 * 5 s), so the `sync -f` before the deletion has little of ours left to flush. Measured: a `sync -f`
 * right after 50,000 files took up to 0.75 s and held up the journal's flushes behind it meanwhile.
 */
const WRITEBACK_WAIT_MS = 35_000;
/**
 * Journal writes under way at most. Measured with 3 at once on this machine: no more submits per
 * second (the disk ran the flushes one after the other, so batches only got smaller), so one; the
 * ordering in settle() holds for more.
 */
const COMMITS_AT_ONCE = 1;

export class GroupCommit<T extends JournalRecord> {
  private segment: AsyncJournalSegment | undefined;
  /** Segments not retired yet, the current one included. */
  private readonly segments = new Map<number, AsyncJournalSegment>();
  private pending: T[] = [];
  /** Writes under way, in the order of their place in their segment. */
  private readonly jobs: CommitJob<T>[] = [];
  private retiring: Promise<void> = Promise.resolve();
  private rotateTimer: NodeJS.Timeout | undefined;
  private readonly retireTimers = new Map<number, NodeJS.Timeout>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly outboxDir: string,
    private readonly events: GroupCommitEvents<T>,
  ) {}

  add(record: T): void {
    this.pending.push(record);
    this.start();
  }

  /** Starts writes: whatever was taken since the last one forms the next. */
  private start(): void {
    while (this.pending.length > 0 && this.jobs.length < COMMITS_AT_ONCE) {
      const batch = this.pending;
      this.pending = [];
      const seg = this.currentSegment(batch);
      if (!seg) continue;
      const { buf, files } = encodeBatch(batch, seg);
      const job: CommitJob<T> = { seg, batch, files, buf, outcome: undefined };
      this.jobs.push(job);
      seg
        .write(buf, batch.length)
        .then(
          () => (job.outcome = 'ok'),
          (err: Error) => (job.outcome = err),
        )
        .then(() => this.settle())
        .catch((err: Error) => this.events.log('error', `journal commit: ${err.stack ?? err.message}`));
    }
  }

  /**
   * Writes count in the order of their place in the segment: a record after one that may be torn
   * could never be read back, so a failed write also fails every later one of its segment.
   */
  private settle(): void {
    for (let job = this.jobs[0]; job && job.outcome !== undefined; job = this.jobs[0]) {
      this.jobs.shift();
      const { seg, batch, outcome } = job;
      seg.unsettled--;
      if (outcome !== 'ok' || seg.broken) {
        // Refused (the ESME resubmits); later records go to a new segment.
        seg.broken = true;
        if (this.segment === seg) this.rotate();
        const cause = outcome === 'ok' ? new Error('an earlier write to the journal failed') : outcome;
        this.events.failed(batch, describeFsError(cause, this.outboxDir, 'outbox'));
      } else {
        seg.records += batch.length;
        this.events.committed(batch, job.files);
      }
      this.maybeRetire(seg);
    }
    this.start();
    if (this.jobs.length === 0 && this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private currentSegment(batch: T[]): AsyncJournalSegment | undefined {
    const s = this.segment;
    if (s && (s.reserved >= SEGMENT_RECORDS || Date.now() - s.started > SEGMENT_MS)) this.rotate();
    if (this.segment) return this.segment;
    try {
      const seg = new AsyncJournalSegment(this.outboxDir);
      this.segment = seg;
      this.segments.set(seg.id, seg);
      // An idle server still closes (and then retires) its segment.
      this.rotateTimer = setTimeout(() => {
        if (this.segment === seg) this.rotate();
      }, SEGMENT_MS);
      this.rotateTimer.unref();
      return seg;
    } catch (err) {
      this.events.failed(batch, describeFsError(err, this.outboxDir, 'outbox'));
      return undefined;
    }
  }

  /** Records of segment `segId` that have their file. */
  materializedCount(segId: number): number {
    return this.segments.get(segId)?.materialized ?? 0;
  }

  /** The materializer created the files of segment `segId` up to record `upto`; false if stale. */
  materialized(segId: number, upto: number): boolean {
    const seg = this.segments.get(segId);
    if (!seg || upto <= seg.materialized) return false;
    seg.materialized = upto;
    seg.materializedAt = Date.now();
    this.maybeRetire(seg);
    return true;
  }

  /**
   * What the segments hold without a file, read back from them (for a new materializer thread after
   * the old one died).
   */
  unmaterialized(): MaterializeBatch[] {
    const out: MaterializeBatch[] = [];
    for (const seg of this.segments.values()) {
      if (seg.materialized >= seg.records) continue;
      const { records } = readSegment(fs.readFileSync(seg.file));
      const rest = records.slice(seg.materialized, seg.records);
      out.push(encodeBatch(rest, seg, seg.materialized).files);
    }
    return out;
  }

  private rotate(): void {
    const old = this.segment;
    this.segment = undefined;
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    if (!old) return;
    old.closed = true;
    this.maybeRetire(old);
  }

  /** Retires the segment once nothing more is to come to it and every record has its file. */
  private maybeRetire(seg: AsyncJournalSegment, now = false): void {
    if (!seg.closed || !seg.idle || seg.materialized < seg.records || !this.segments.has(seg.id)) return;
    // A segment with no committed record (its first write failed: a full disk) created no file: it
    // goes at once, so a disk that stays full does not pile up descriptors and segments.
    const wait = seg.records === 0 ? 0 : seg.materializedAt + WRITEBACK_WAIT_MS - Date.now();
    clearTimeout(this.retireTimers.get(seg.id));
    if (!now && wait > 0) {
      const t = setTimeout(() => this.maybeRetire(seg), wait);
      t.unref();
      this.retireTimers.set(seg.id, t);
      return;
    }
    this.retireTimers.delete(seg.id);
    this.segments.delete(seg.id);
    this.retiring = this.retiring
      .then(() => seg.retire())
      .then(() => this.events.retired(seg))
      .catch((err: Error) =>
        this.events.log('error', `retiring journal segment ${seg.file}: ${err.message}`),
      );
  }

  /** Resolves once every record taken so far is committed (or refused). */
  drain(): Promise<void> {
    if (this.jobs.length === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Shutdown (after drain): retires at once every segment whose records all have their files; the
   * others stay for the next start's recovery.
   */
  async close(): Promise<void> {
    this.rotate();
    for (const seg of [...this.segments.values()]) this.maybeRetire(seg, true);
    await this.retiring;
  }
}

/**
 * The records in one buffer of its own (not a slice of Buffer's shared pool: it is handed over to
 * the materializer thread), with the [offset, length] of each one's file content.
 */
function encodeBatch(
  records: readonly JournalRecord[],
  seg: AsyncJournalSegment,
  first = seg.reserved,
): { buf: Buffer; files: MaterializeBatch } {
  const lengths = records.map(recordLength);
  const buf = Buffer.allocUnsafeSlow(lengths.reduce((a, b) => a + b, 0));
  const spans = new Uint32Array(records.length * 2);
  let off = 0;
  records.forEach((r, i) => {
    spans[2 * i] = encodeRecordInto(r, buf, off);
    spans[2 * i + 1] = r.data.length;
    off += lengths[i] ?? 0;
  });
  return {
    buf,
    files: {
      seg: seg.id,
      countFile: seg.countFile,
      first,
      names: records.map((r) => r.name),
      // allocUnsafeSlow: a buffer that is its whole ArrayBuffer (offset 0, same length).
      buf: buf.buffer as ArrayBuffer,
      spans,
    },
  };
}

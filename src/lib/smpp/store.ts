import { execFile } from 'node:child_process';
import { formatBackup } from '../smsbackup/writer.js';
import { localStamp, outboxName } from '../spool/names.js';
import { describeFsError, publishUnique, writeTemp } from '../spool/atomic.js';
import { JournalSegment, recoverJournals, type JournalRecord } from '../spool/journal.js';
import type { SubmitRequest } from './mt.js';

/**
 * The default route: the spool outbox, with group commit.
 *
 * Each accepted submit becomes an ordinary `.smsbackup` outbox file (what `smsd inject` writes, so
 * `smsd run` and Gammu send it), published at once with link(2) under a name that carries the
 * message ID (`OUT<prio>..._<number>_smpp-<id>.smsbackup`: the durable ID ↔ file map). Files
 * published while a commit is running wait for the next one; each commit appends all of them to a
 * journal segment (`outbox/.smsgate-journal/`, the format `smsd inject --batch` uses) with ONE
 * fdatasync, and only then are their submit_sm_resp sent. After a machine crash `smsd run` (or
 * the next `smppd serve`) restores committed files that are missing.
 */

/** What smppd needs later to answer for the message (receipts), stored in the file's header comments. */
export interface SmppMeta {
  /** system_id of the submitting ESME, as configured. */
  sid: string;
  id: string;
  /** registered_delivery bits 0-1. */
  rd: number;
  src: { ton: number; npi: number; addr: string };
  at: string;
}

export const META_KEY = 'Smpp';
const NOTE_PREFIX = 'smpp-';

/** The message ID in an outbox file name written by smppd, if it is one. */
export function messageIdOfName(name: string): string | undefined {
  const m = /_smpp-([0-9A-Za-z]+)\.smsbackup$/.exec(name);
  return m?.[1];
}

interface Pending {
  record: JournalRecord;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Rotate the journal segment after this many records or this long, so it never grows without end. */
const SEGMENT_RECORDS = 50_000;
const SEGMENT_MS = 10_000;

export class OutboxStore {
  private segment: JournalSegment | undefined;
  private segmentRecords = 0;
  private segmentStarted = 0;
  private pending: Pending[] = [];
  private scheduled = false;
  private retiring: Promise<void> = Promise.resolve();

  constructor(
    readonly outboxDir: string,
    private readonly handledDirs: readonly string[],
  ) {}

  /** Settles journal segments left by a killed or crashed process (ours or an injector's). */
  recover(): string[] {
    return recoverJournals(this.outboxDir, this.handledDirs).restored;
  }

  /** Publishes the message; resolves with the file name once it is durable. */
  add(req: SubmitRequest, meta: SmppMeta, now: Date): Promise<string> {
    const data = formatBackup(req.entries, now, { [META_KEY]: JSON.stringify(meta) });
    const stamp = localStamp(now);
    const nameFor = (j: number): string =>
      outboxName({
        priority: req.priority,
        stamp,
        serial: j,
        number: req.destination,
        note: `${NOTE_PREFIX}${meta.id}`,
        ext: 'smsbackup',
      });
    let name: string;
    try {
      const tmp = writeTemp(this.outboxDir, data, false);
      const published = publishUnique(tmp, this.outboxDir, nameFor, 100);
      if (!published) throw new Error(`no free name for message ${meta.id}`);
      name = published.name;
    } catch (err) {
      return Promise.reject(describeFsError(err, this.outboxDir, 'outbox'));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ record: { name, data }, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate: every PDU already read from the sockets joins this commit.
        setImmediate(() => this.commit());
      }
    }).then(() => name);
  }

  private commit(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      const now = Date.now();
      if (this.segment && (this.segmentRecords >= SEGMENT_RECORDS || now - this.segmentStarted > SEGMENT_MS))
        this.rotate();
      if (!this.segment) {
        this.segment = new JournalSegment(this.outboxDir);
        this.segmentRecords = 0;
        this.segmentStarted = now;
      }
      this.segment.commit(batch.map((p) => p.record));
      this.segmentRecords += batch.length;
    } catch (err) {
      for (const p of batch) p.reject(describeFsError(err, this.outboxDir, 'outbox'));
      return;
    }
    for (const p of batch) p.resolve();
  }

  /**
   * A full segment is retired in the background: its files are flushed with `sync -f` off the
   * event loop first, so the synchronous flush inside retire() finds little left to do.
   */
  private rotate(): void {
    const old = this.segment;
    this.segment = undefined;
    if (!old) return;
    this.retiring = this.retiring.then(
      () =>
        new Promise<void>((resolve) => {
          execFile('sync', ['-f', this.outboxDir], () => {
            try {
              old.retire();
            } catch {
              // left for recoverJournals at the next start
            }
            resolve();
          });
        }),
    );
  }

  /** Commits what is pending and retires the segment (shutdown). */
  async close(): Promise<void> {
    this.commit();
    this.rotate();
    await this.retiring;
  }
}

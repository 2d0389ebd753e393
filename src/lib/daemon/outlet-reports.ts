import fs from 'node:fs';
import path from 'node:path';
import { replaceFileDurable } from '../spool/atomic.js';
import { withFileLockSync } from '../spool/lock.js';
import { receiptKeys, submitKeys } from '../outlets/message-id.js';
import { RECEIPT_DEFAULTS, type MessageIdFormat, type OutletReport } from '../outlets/types.js';
import type { ReportRecord } from '../spool/reports.js';
import { ForeignIndex, remember } from './outlet-foreign.js';
import { OutletJournal, syncFile } from './outlet-journal.js';
import { CATEGORY, TP_ST, pack, sentAtMs, unpack, type OutletSent } from './outlet-sent.js';

export { SQL_STATUS, type OutletSent } from './outlet-sent.js';

/** A receipt this long before its submit_sm_resp is recorded still finds its part. */
const EARLY_RECEIPT_MS = 10_000;
/** While a receipt waits for its part, the other daemons' journals are read this often. */
const FOREIGN_POLL_MS = 100;
const MAX_EARLY_WAITERS = 1_000;

/** The journal is rewritten with only what is live once it is this big and 4 times the live part. */
const COMPACT_MIN_BYTES = 64 * 1024 * 1024;
/** Parts of a message not moved for this long (and 2 x ReceiptTimeout) stop being kept to resume it. */
const RESUME_KEEP_MS = 7 * 24 * 3_600_000;
/** Bytes a live part takes in the journal, to tell when compaction pays. */
const LIVE_LINE_BYTES = 200;

export interface OutletReportsOptions {
  /** A part with no final receipt this long after it was sent is closed as "no receipt". */
  receiptTimeoutMs?: number;
  /** Most parts waiting for a receipt; beyond it the oldest is closed as "no receipt". */
  receiptLimit?: number;
  /** Journal size from which it is compacted while running (tests set it low). */
  compactMinBytes?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** A part closed without its receipt (timed out or pushed out at the limit). */
export interface ClosedPart {
  sent: OutletSent;
  why: 'timeout' | 'limit';
}

/**
 * The outlet's half of the delivery reports: each sent part with the network's message id in
 * `<reports>/.outlet-<daemon>.jsonl` (appended, fdatasync'd in groups before the message counts as
 * sent), and receipts matched to it whatever the SMSC's id style (message-id.ts), recorded as
 * `<reports>/<message ID>.<part>.json` exactly as a modem's status reports are, so smppd and users
 * read them the same way. A receipt that never matches goes to `<reports>/unmatched/`.
 */
export class OutletReports {
  /**
   * Receipt index: message-id key → the part's record packed into one tab-separated string (an
   * object with its strings, or its JSON line, cost 3 to 5 times as much: 35 MB for 50,000 parts).
   */
  private readonly byKey = new Map<string, string>();
  /** Parts recorded per outbox message until it is moved (a restart resumes without resending). */
  private readonly byJob = new Map<string, Map<number, OutletSent>>();
  private readonly file: string;
  private readonly journal: OutletJournal;
  /** Report files written (not fsync'd) since the last compaction: made durable before it. */
  private unsynced = new Set<string>();
  private compacting = false;
  private timeoutMs: number;
  private limit: number;
  private readonly compactMinBytes: number;
  private readonly log: NonNullable<OutletReportsOptions['log']>;
  /** Parts closed without a receipt since start (status file, metrics). */
  closedWithoutReceipt = 0;
  private limitLoggedAt = -Infinity;
  private limitClosed = 0;
  private waiters: { keys: string[]; wake(): void }[] = [];
  /** Parts the other daemons on this reports/ folder sent (their receipts may come to us). */
  readonly foreign: ForeignIndex;

  constructor(
    readonly dir: string,
    private readonly daemonName: string,
    private readonly format: MessageIdFormat,
    opts: OutletReportsOptions = {},
  ) {
    this.timeoutMs = opts.receiptTimeoutMs ?? RECEIPT_DEFAULTS.timeoutSeconds * 1000;
    this.limit = opts.receiptLimit ?? RECEIPT_DEFAULTS.limit;
    this.compactMinBytes = opts.compactMinBytes ?? COMPACT_MIN_BYTES;
    this.log = opts.log ?? (() => undefined);
    fs.mkdirSync(path.join(dir, 'unmatched'), { recursive: true });
    this.file = path.join(dir, `.outlet-${daemonName}.jsonl`);
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      // first start
    }
    const finals = new Set<string>();
    /** Report files journalled before a crash: written again (durably) before compaction drops them. */
    const reportFiles = new Map<string, string>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as
          OutletSent | { final: string } | { file: string; body: string } | { settled: string };
        if ('final' in r) {
          finals.add(r.final);
          continue;
        }
        if ('file' in r) {
          reportFiles.set(r.file, r.body);
          continue;
        }
        if ('settled' in r) {
          this.byJob.delete(r.settled);
          continue;
        }
        this.index(r);
      } catch {
        // a torn line after a crash (or a failed write, see startFlush)
      }
    }
    for (const key of finals) this.drop(key, false);
    for (const [name, body] of reportFiles) {
      const file = path.join(dir, name);
      withFileLockSync(file, () => {
        // Not over a later report another daemon wrote meanwhile (it holds ours in its history).
        if (!isOlderReport(file, body)) return;
        replaceFileDurable(file, Buffer.from(body));
      });
    }
    // Compact: only what can still get a receipt, and the parts of messages not yet moved.
    this.journal = new OutletJournal(this.file, this.liveLines());
    this.foreign = new ForeignIndex(
      dir,
      daemonName,
      (r) => submitKeys(r.messageId, format),
      (r: OutletSent) => pack(r),
      (key) => this.drop(key),
      () => Date.now() - this.timeoutMs,
      (id) => this.byJob.delete(id),
    );
    // Finals the others recorded for our parts while we were down; their pending parts.
    this.foreign.refresh();
  }

  /** The journal's live content: parts waiting for a receipt, parts of messages not yet moved. */
  private liveLines(): string {
    const seen = new Set<string>();
    const out: string[] = [];
    const add = (r: OutletSent) => {
      const line = JSON.stringify(r);
      const k = `${r.id}\t${r.part}\t${r.messageId}`;
      if (seen.has(k)) return;
      seen.add(k);
      out.push(line + '\n');
    };
    for (const packed of this.byKey.values()) add(unpack(packed));
    // Parts of messages still in the outbox (resumed after a crash, not sent again).
    for (const parts of this.byJob.values()) for (const r of parts.values()) add(r);
    return out.join('');
  }

  private index(r: OutletSent): void {
    if (!r.noReport) {
      const packed = pack(r);
      for (const k of submitKeys(r.messageId, this.format)) this.byKey.set(k, packed);
    }
    let parts = this.byJob.get(r.id);
    if (!parts) this.byJob.set(r.id, (parts = new Map()));
    parts.set(r.part, r);
  }

  /**
   * Parts of `id` already accepted by the network (1-based part → record): ours, and those of
   * another daemon on this reports/ folder that stopped holding the claim (`origin` set).
   */
  recorded(id: string): ReadonlyMap<number, OutletSent> | undefined {
    const own = this.byJob.get(id);
    const theirs = this.foreign.recorded(id);
    if (!theirs) return own;
    const all = new Map<number, OutletSent>();
    for (const [n, p] of theirs)
      all.set(n, {
        ...unpack(p.packed),
        origin: p.origin,
        ...(p.noReport ? { noReport: true as const } : {}),
      });
    for (const [n, r] of own ?? []) all.set(n, r);
    return all;
  }

  /**
   * The message left the outbox (moved by us, or by us after another daemon sent some parts): its
   * parts are no longer needed to resume. Journalled (with the next group commit) so that the
   * other daemons, and we after a restart, forget them too.
   */
  settled(id: string, journal = true): void {
    const had = this.byJob.delete(id);
    if (journal && (had || this.foreign.recorded(id)))
      this.journal.push(JSON.stringify({ settled: id }) + '\n');
    this.foreign.settled(id);
  }

  /** Drops a part from the index (its final receipt came, or it was closed); remembered a while. */
  private drop(textKeyOrId: string, remembered = true): void {
    const line = this.byKey.get(textKeyOrId);
    if (!line) return;
    const r = unpack(line);
    for (const k of submitKeys(r.messageId, this.format))
      if (this.byKey.get(k) === line) {
        this.byKey.delete(k);
        if (remembered) remember(this.recentFinals, k, line);
      }
  }

  /**
   * Closes the parts whose receipt did not come within ReceiptTimeout (oldest first, at most
   * `max` a call, so a start after a long stop does not stall the loop): each gets its report
   * file with category `unknown` ("no receipt"), unless another daemon already stored its final,
   * and leaves the index and (at the next compaction) the journal.
   */
  expire(now = Date.now(), max = 5_000): ClosedPart[] {
    const closed: ClosedPart[] = [];
    const cutoff = now - this.timeoutMs;
    for (const packed of this.byKey.values()) {
      if (closed.length >= max || sentAtMs(packed) > cutoff) break;
      closed.push(this.closeUnreceipted(packed, 'timeout', now));
    }
    const stale = now - Math.max(2 * this.timeoutMs, RESUME_KEEP_MS);
    this.foreign.expire(cutoff, stale);
    // Resume records of messages nobody moved for this long (deleted from the outbox by hand, or
    // journalled before `settled` lines existed): forgotten, so they do not stay forever.
    for (const [id, parts] of this.byJob) {
      const first = parts.values().next().value;
      if (first && Date.parse(first.sentAt) > stale) break;
      this.byJob.delete(id);
    }
    return closed;
  }

  private closeUnreceipted(packed: string, why: ClosedPart['why'], now: number): ClosedPart {
    const sent = unpack(packed);
    const description =
      why === 'timeout'
        ? `no receipt within ReceiptTimeout (${Math.round(this.timeoutMs / 1000)} s)`
        : `no receipt yet when the receipt index was full (ReceiptLimit ${this.limit})`;
    this.closedWithoutReceipt++;
    try {
      this.write(
        { messageId: sent.messageId, state: 'unknown', at: new Date(now) },
        sent,
        new Date(now),
        description,
      );
    } catch (err) {
      // The report file could not be written: the part still leaves the index (the bound holds).
      this.log(
        'error',
        `${sent.id} part ${sent.part}: no receipt, and its report file cannot be written: ${(err as Error).message}`,
      );
      this.drop(submitKeys(sent.messageId, this.format)[0] as string);
      this.journal.push(JSON.stringify({ final: submitKeys(sent.messageId, this.format)[0] }) + '\n');
    }
    return { sent, why };
  }

  /** At ReceiptLimit: the oldest part waiting for a receipt is closed (logged once a minute). */
  private enforceLimit(now = Date.now()): void {
    while (this.byKey.size > this.limit) {
      const oldest = this.byKey.values().next().value as string;
      this.closeUnreceipted(oldest, 'limit', now);
      this.limitClosed++;
    }
    if (this.limitClosed > 0 && now - this.limitLoggedAt >= 60_000) {
      this.log(
        'warn',
        `receipt index full (ReceiptLimit = ${this.limit} parts waiting for a receipt): closed the ${this.limitClosed} oldest without a receipt; the SMSC sends fewer receipts than asked for, or raise ReceiptLimit`,
      );
      this.limitLoggedAt = now;
      this.limitClosed = 0;
    }
  }

  /**
   * Parts whose final receipt came lately (bounded): an intermediate receipt handled after the final
   * one (bearerbox spreads one part's DLRs over its boxes) or a redelivered one still finds its part.
   */
  private readonly recentFinals = new Map<string, string>();

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Records sent parts; resolves once they are on disk (one fdatasync for all pending records).
   * On a failed write the record stays queued: `durable()` tries again (do not record twice).
   */
  record(r: OutletSent): Promise<void> {
    this.index(r);
    this.journal.push(JSON.stringify(r) + '\n');
    if (!r.noReport) this.enforceLimit();
    const keys = new Set(submitKeys(r.messageId, this.format));
    const woken = this.waiters.filter((w) => w.keys.some((k) => keys.has(k)));
    if (woken.length > 0) {
      this.waiters = this.waiters.filter((w) => !woken.includes(w));
      for (const w of woken) w.wake();
    }
    return this.journal.flush();
  }

  /**
   * Rewrites the journal with only what is live once it has grown big (finals, closed parts,
   * moved messages and report bodies are most of a busy journal). Report files written since the
   * last compaction are made durable first (their bodies leave the journal with it). Runs in the
   * journal's write chain; returns false when not due.
   */
  async maybeCompact(): Promise<boolean> {
    const live = (this.byKey.size + this.byJob.size) * LIVE_LINE_BYTES;
    if (this.compacting || this.journal.bytes < Math.max(this.compactMinBytes, 4 * live)) return false;
    this.compacting = true;
    // Report files written from here on keep their bodies in memory until the new journal has them.
    const files = [...this.unsynced];
    this.unsynced = new Set();
    const since = new Map<string, string>();
    this.sinceSnapshot = since;
    try {
      // Outside the write chain: receipts and sent records go on meanwhile.
      for (let i = 0; i < files.length; i += 16)
        await Promise.all(files.slice(i, i + 16).map((f) => syncFile(path.join(this.dir, f))));
      await this.journal.replace(
        () =>
          this.liveLines() + [...since].map(([file, body]) => JSON.stringify({ file, body }) + '\n').join(''),
      );
      return true;
    } catch (err) {
      for (const f of files) this.unsynced.add(f);
      for (const f of since.keys()) this.unsynced.add(f);
      this.log('error', `receipt journal ${this.file} not compacted: ${(err as Error).message}`);
      return false;
    } finally {
      this.sinceSnapshot = undefined;
      this.compacting = false;
    }
  }

  private sinceSnapshot: Map<string, string> | undefined;

  /** SIGHUP: new ReceiptTimeout and ReceiptLimit (a lower limit closes the oldest at the next record). */
  configure(r: { timeoutMs: number; limit: number }): void {
    this.timeoutMs = r.timeoutMs;
    this.limit = r.limit;
    this.enforceLimit();
  }

  /** Journal size in bytes (for tests and the status file). */
  get journalBytes(): number {
    return this.journal.bytes;
  }

  get waitingForJobs(): number {
    return this.byJob.size;
  }

  /**
   * Finds the sent part a receipt names: ours, else another daemon's (its journal, read again
   * while waiting), waiting a little for a resp still being recorded by either.
   */
  async match(report: OutletReport): Promise<OutletSent | undefined> {
    const keys = receiptKeys(report.messageId, this.format);
    const find = (): OutletSent | undefined => {
      const line = keys
        .map((k) => this.byKey.get(k) ?? this.recentFinals.get(k))
        .find((r) => r !== undefined);
      if (line !== undefined) return unpack(line);
      const f = keys.map((k) => this.foreign.get(k)).find((r) => r !== undefined);
      return f === undefined ? undefined : { ...unpack(f.packed), origin: f.origin };
    };
    let found = find();
    if (found) return found;
    this.foreign.refresh();
    found = find();
    if (found || this.waiters.length >= MAX_EARLY_WAITERS) return found;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        clearInterval(poll);
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve();
      };
      const w = { keys, wake: done };
      const t = setTimeout(done, EARLY_RECEIPT_MS);
      const poll = setInterval(() => {
        // A daemon started since the last listing: its journal found within a second.
        this.foreign.refresh(1000);
        if (find()) done();
      }, FOREIGN_POLL_MS);
      this.waiters.push(w);
    });
    return find();
  }

  /** Writes the report file of a matched receipt (or the unmatched one); returns the record. */
  write(
    report: OutletReport,
    sent: OutletSent | undefined,
    now = new Date(),
    /** Set when the part is closed without a receipt: says why; a final already there is kept. */
    noReceipt?: string,
  ): ReportRecord | undefined {
    const category = CATEGORY[report.state];
    const base = {
      status: TP_ST[report.state],
      category,
      description: noReceipt ?? `${report.state}${report.errorCode ? ` (err ${report.errorCode})` : ''}`,
      dischargedAt: report.at.toISOString(),
      receivedAt: now.toISOString(),
    };
    if (!sent) {
      const name = `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}_${report.messageId.replace(/[^\w.-]/g, '_')}.json`;
      replaceFileDurable(
        path.join(this.dir, 'unmatched', name),
        Buffer.from(
          JSON.stringify({ messageId: report.messageId, raw: report.raw, ...base }, null, 2) + '\n',
        ),
      );
      return undefined;
    }
    const file = path.join(this.dir, `${sent.id}.${String(sent.part).padStart(2, '0')}.json`);
    // Two daemons may handle receipts of one part at once (bearerbox spreads them over its boxes):
    // the read of the previous report and the write of the new one must not interleave, or an
    // intermediate receipt could overwrite the final one.
    const { record, kind } = withFileLockSync(file, () => {
      let history: ReportRecord['history'] = [];
      let prev: ReportRecord | undefined;
      try {
        prev = JSON.parse(fs.readFileSync(file, 'utf8')) as ReportRecord;
        history = [
          ...prev.history,
          { status: prev.status, category: prev.category, receivedAt: prev.receivedAt },
        ];
      } catch {
        // first report for this part
      }
      if (noReceipt !== undefined && prev && (prev.category === 'delivered' || prev.category === 'failed')) {
        // Its final receipt reached another daemon on this reports/ folder: nothing to close.
        return { record: prev, kind: 'closed elsewhere' as const };
      }
      if (prev && category === 'pending' && prev.category !== 'pending') {
        // An intermediate receipt handled after the final one (another daemon took the final
        // first): kept in the history, the final stays the part's state.
        const late: ReportRecord = {
          ...prev,
          history: [...prev.history, { status: base.status, category, receivedAt: base.receivedAt }],
        };
        this.writeReport(path.basename(file), JSON.stringify(late, null, 2) + '\n');
        return { record: late, kind: 'late' as const };
      }
      const record: ReportRecord = {
        id: sent.id,
        part: sent.part,
        parts: sent.parts,
        number: sent.number,
        mr: -1,
        phoneId: sent.phoneId,
        sentAt: sent.sentAt,
        submittedAt: sent.sentAt,
        ...base,
        history,
      };
      this.writeReport(path.basename(file), JSON.stringify(record, null, 2) + '\n');
      return { record, kind: 'written' as const };
    });
    if (kind === 'closed elsewhere') {
      this.drop(submitKeys(sent.messageId, this.format)[0] as string);
      this.journal.push(JSON.stringify({ final: submitKeys(sent.messageId, this.format)[0] }) + '\n');
      return record;
    }
    if (kind === 'late') return record;
    if (category !== 'pending') {
      const key = submitKeys(sent.messageId, this.format)[0] as string;
      if (sent.origin === undefined) {
        this.drop(key);
        this.journal.push(JSON.stringify({ final: key }) + '\n');
      } else {
        // The sender drops it from its index when it reads this line (ForeignIndex).
        for (const k of submitKeys(sent.messageId, this.format)) this.foreign.delete(k);
        this.journal.push(JSON.stringify({ final: key, origin: sent.origin }) + '\n');
      }
    }
    return record;
  }

  /**
   * A report file: its content goes into the journal (made durable with the next group commit,
   * see `durable`), the file itself is written and renamed without an fsync of its own, so
   * receipts are not one fsync each; a crash before the page cache reaches the disk is repaired
   * from the journal at the next start.
   */
  private writeReport(name: string, body: string): void {
    this.journal.push(JSON.stringify({ file: name, body }) + '\n');
    const file = path.join(this.dir, name);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, body);
    fs.renameSync(tmp, file);
    this.unsynced.add(name);
    this.sinceSnapshot?.set(name, body);
  }

  /** Resolves once everything written so far (records, report files) is on disk. */
  durable(): Promise<void> {
    return this.journal.durable();
  }

  close(): void {
    this.journal.close();
  }
}

/** True when the report in `file` is absent, unreadable or older than `body` (a crash lost it). */
function isOlderReport(file: string, body: string): boolean {
  try {
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8')) as ReportRecord;
    const ours = JSON.parse(body) as ReportRecord;
    return Date.parse(onDisk.receivedAt) < Date.parse(ours.receivedAt);
  } catch {
    return true;
  }
}

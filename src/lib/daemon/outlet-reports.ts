import fs from 'node:fs';
import path from 'node:path';
import { replaceFileDurable } from '../spool/atomic.js';
import { withFileLockSync } from '../spool/lock.js';
import { receiptKeys, submitKeys } from '../outlets/message-id.js';
import type { MessageIdFormat, OutletReport, ReportState } from '../outlets/types.js';
import type { ReportRecord } from '../spool/reports.js';
import { ForeignIndex, remember } from './outlet-foreign.js';

/** One part an outlet sent, as the index keeps it until its final receipt. */
export interface OutletSent {
  id: string;
  part: number;
  parts: number;
  number: string;
  messageId: string;
  sentAt: string;
  phoneId: string;
  /** The part asked for no delivery report: kept to resume, not for receipts. */
  noReport?: true;
  /** Another daemon on the same reports/ sent it (its name): matched through its journal. */
  origin?: string;
}

const CATEGORY: Record<ReportState, ReportRecord['category']> = {
  delivered: 'delivered',
  accepted: 'pending',
  enroute: 'pending',
  expired: 'failed',
  deleted: 'failed',
  undeliverable: 'failed',
  rejected: 'failed',
  unknown: 'unknown',
};

/** TP-ST values (23.040 9.2.3.15) closest to each receipt state, for readers of the report files. */
const TP_ST: Record<ReportState, number> = {
  delivered: 0x00,
  accepted: 0x20,
  enroute: 0x20,
  expired: 0x46,
  deleted: 0x48,
  undeliverable: 0x41,
  rejected: 0x43,
  unknown: 0x60,
};

export const SQL_STATUS: Record<ReportRecord['category'], string> = {
  delivered: 'DeliveryOK',
  failed: 'DeliveryFailed',
  pending: 'DeliveryPending',
  unknown: 'DeliveryUnknown',
};

/** A receipt this long before its submit_sm_resp is recorded still finds its part. */
const EARLY_RECEIPT_MS = 10_000;
/** While a receipt waits for its part, the other daemons' journals are read this often. */
const FOREIGN_POLL_MS = 100;
const MAX_EARLY_WAITERS = 1_000;

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
  private fd: number;
  private buffered: string[] = [];
  private flushing: Promise<void> | undefined;
  private waiters: { keys: string[]; wake(): void }[] = [];
  /** Parts the other daemons on this reports/ folder sent (their receipts may come to us). */
  readonly foreign: ForeignIndex;

  constructor(
    readonly dir: string,
    private readonly daemonName: string,
    private readonly format: MessageIdFormat,
    horizonMs = 7 * 24 * 3_600_000,
  ) {
    fs.mkdirSync(path.join(dir, 'unmatched'), { recursive: true });
    this.file = path.join(dir, `.outlet-${daemonName}.jsonl`);
    const keep: string[] = [];
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      // first start
    }
    const since = Date.now() - horizonMs;
    const finals = new Set<string>();
    /** Report files journalled before a crash: written again (durably) before compaction drops them. */
    const reportFiles = new Map<string, string>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as OutletSent | { final: string } | { file: string; body: string };
        if ('final' in r) {
          finals.add(r.final);
          continue;
        }
        if ('file' in r) {
          reportFiles.set(r.file, r.body);
          continue;
        }
        if (Date.parse(r.sentAt) >= since) this.index(r);
      } catch {
        // a torn last line after a crash
      }
    }
    for (const key of finals) this.drop(key);
    for (const [name, body] of reportFiles) {
      const file = path.join(dir, name);
      withFileLockSync(file, () => {
        // Not over a later report another daemon wrote meanwhile (it holds ours in its history).
        if (!isOlderReport(file, body)) return;
        replaceFileDurable(file, Buffer.from(body));
      });
    }
    for (const packed of new Set(this.byKey.values())) keep.push(JSON.stringify(unpack(packed)));
    // Parts of messages still in the outbox after a crash (resumed, not sent again).
    for (const parts of this.byJob.values())
      for (const r of parts.values()) if (r.noReport) keep.push(JSON.stringify(r));
    // Compact: only what can still get a receipt.
    replaceFileDurable(this.file, Buffer.from(keep.map((l) => l + '\n').join('')));
    this.fd = fs.openSync(this.file, 'a');
    this.foreign = new ForeignIndex(
      dir,
      daemonName,
      (r) => submitKeys(r.messageId, format),
      (r: OutletSent) => pack(r),
      (key) => this.drop(key),
      () => Date.now() - horizonMs,
    );
    // Finals the others recorded for our parts while we were down; their pending parts.
    this.foreign.refresh();
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

  /** Parts of `id` already accepted by the network (1-based part → message id). */
  recorded(id: string): ReadonlyMap<number, OutletSent> | undefined {
    return this.byJob.get(id);
  }

  /** The message left the outbox: its parts are no longer needed to resume. */
  settled(id: string): void {
    this.byJob.delete(id);
  }

  private drop(textKeyOrId: string): void {
    const line = this.byKey.get(textKeyOrId);
    if (!line) return;
    const r = unpack(line);
    for (const k of submitKeys(r.messageId, this.format))
      if (this.byKey.get(k) === line) {
        this.byKey.delete(k);
        remember(this.recentFinals, k, line);
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

  /** Records sent parts; resolves once they are on disk (one fdatasync for all pending records). */
  record(r: OutletSent): Promise<void> {
    this.index(r);
    this.buffered.push(JSON.stringify(r) + '\n');
    const keys = new Set(submitKeys(r.messageId, this.format));
    const woken = this.waiters.filter((w) => w.keys.some((k) => keys.has(k)));
    if (woken.length > 0) {
      this.waiters = this.waiters.filter((w) => !woken.includes(w));
      for (const w of woken) w.wake();
    }
    return this.flush();
  }

  /**
   * Group commit: one write and one fdatasync (on the thread pool, so the SMPP link keeps moving)
   * for every record made while the previous one was on its way to the disk.
   */
  private flush(): Promise<void> {
    if (this.flushing) {
      this.next ??= this.flushing.then(
        () => this.startFlush(),
        () => this.startFlush(),
      );
      return this.next;
    }
    return this.startFlush();
  }

  private next: Promise<void> | undefined;

  private startFlush(): Promise<void> {
    this.next = undefined;
    const data = Buffer.from(this.buffered.join(''));
    this.buffered = [];
    const p = new Promise<void>((resolve, reject) => {
      fs.write(this.fd, data, (err) => {
        if (err) return reject(err);
        fs.fdatasync(this.fd, (e) => (e ? reject(e) : resolve()));
      });
    }).finally(() => {
      if (this.flushing === p) this.flushing = undefined;
    });
    this.flushing = p;
    return p;
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
  write(report: OutletReport, sent: OutletSent | undefined, now = new Date()): ReportRecord | undefined {
    const category = CATEGORY[report.state];
    const base = {
      status: TP_ST[report.state],
      category,
      description: `${report.state}${report.errorCode ? ` (err ${report.errorCode})` : ''}`,
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
    const { record, late } = withFileLockSync(file, () => {
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
      if (prev && category === 'pending' && prev.category !== 'pending') {
        // An intermediate receipt handled after the final one (another daemon took the final
        // first): kept in the history, the final stays the part's state.
        const late: ReportRecord = {
          ...prev,
          history: [...prev.history, { status: base.status, category, receivedAt: base.receivedAt }],
        };
        this.writeReport(path.basename(file), JSON.stringify(late, null, 2) + '\n');
        return { record: late, late: true };
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
      return { record, late: false };
    });
    if (late) return record;
    if (category !== 'pending') {
      const key = submitKeys(sent.messageId, this.format)[0] as string;
      if (sent.origin === undefined) {
        this.drop(key);
        this.buffered.push(JSON.stringify({ final: key }) + '\n');
      } else {
        // The sender drops it from its index when it reads this line (ForeignIndex).
        for (const k of submitKeys(sent.messageId, this.format)) this.foreign.delete(k);
        this.buffered.push(JSON.stringify({ final: key, origin: sent.origin }) + '\n');
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
    this.buffered.push(JSON.stringify({ file: name, body }) + '\n');
    const file = path.join(this.dir, name);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, body);
    fs.renameSync(tmp, file);
  }

  /** Resolves once everything written so far (records, report files) is on disk. */
  durable(): Promise<void> {
    return this.buffered.length > 0 ? this.flush() : (this.flushing ?? Promise.resolve());
  }

  close(): void {
    try {
      if (this.buffered.length > 0) fs.writeSync(this.fd, this.buffered.join(''));
      fs.closeSync(this.fd);
    } catch {
      // closing at exit: nothing more to do
    }
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

/** One string per indexed part: sent time (ms), part, parts, message id, number, phone id, outbox id. */
function pack(r: OutletSent): string {
  return [Date.parse(r.sentAt), r.part, r.parts, r.messageId, r.number, r.phoneId, r.id].join('\t');
}

function unpack(s: string): OutletSent {
  const [at, part, parts, messageId, number, phoneId, ...id] = s.split('\t');
  return {
    id: id.join('\t'),
    part: Number(part),
    parts: Number(parts),
    number: number ?? '',
    messageId: messageId ?? '',
    sentAt: new Date(Number(at)).toISOString(),
    phoneId: phoneId ?? '',
  };
}

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { formatBackup } from '../smsbackup/writer.js';
import { localStamp, outboxName } from '../spool/names.js';
import { describeFsError, tempName } from '../spool/atomic.js';
import { recoverJournals } from '../spool/journal.js';
import type { SubmitRequest } from './mt.js';
import { AsyncJournalSegment } from './journal-writer.js';
import { isProcessAlive } from '../process-alive.js';
import { PHONE_ID_KEY } from '../spool/outbox-read.js';

/**
 * The default route: the spool outbox, with group commit.
 *
 * Each accepted submit becomes an ordinary `.smsbackup` outbox file (what `smsd inject` writes, so
 * `smsd run` and Gammu send it) whose name carries the message ID
 * (`OUT<prio>..._<number>_smpp-<id>.smsbackup`: the durable ID ↔ file map). The file is published
 * at once (hidden temporary file, then link(2), so readers never see a partial file); files
 * published while a commit runs wait for the next one; each commit appends all of them to a journal
 * segment with ONE fdatasync, and only then are their submit_sm_resp sent. After a machine crash
 * `smsd run` (or the next `smppd serve`) restores committed files that are missing.
 * File creation and fdatasync run in libuv's thread pool, so the main thread keeps decoding PDUs.
 */

/** What smppd needs later to answer for the message (receipts), stored in the file's header comments. */
export interface SmppMeta {
  /** system_id of the submitting ESME, as configured. */
  sid: string;
  id: string;
  /** registered_delivery bits 0-1. */
  rd: number;
  /** Intermediate notification requested (registered_delivery bit 4). */
  inter?: boolean;
  src: { ton: number; npi: number; addr: string };
  at: string;
  /** The PhoneID a route pinned it to (also written as the file's PhoneID, which `smsd run` honours). */
  phone?: string;
  /** What the account was charged (refunded if it fails for good). */
  cost?: number;
}

export const META_KEY = 'Smpp';
const NOTE_PREFIX = 'smpp-';

/** The message ID in an outbox file name written by smppd, if it is one. */
export function messageIdOfName(name: string): string | undefined {
  const m = /_smpp-([0-9A-Za-z]+)\.smsbackup$/.exec(name);
  return m?.[1];
}

interface Pending {
  name: string;
  data: Buffer;
  resolve: (name: string) => void;
  reject: (err: Error) => void;
}

/** Start a new journal segment after this many records or this long, retiring the old one. */
const SEGMENT_RECORDS = 50_000;
const SEGMENT_MS = 10_000;

export class OutboxStore {
  private segment: AsyncJournalSegment | undefined;
  private pending: Pending[] = [];
  private committing = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;
  private retiring: Promise<void> = Promise.resolve();
  /** add() calls not settled yet (publishing or waiting for their commit). */
  private inflight = 0;

  private readonly stagingDir: string;

  constructor(
    readonly outboxDir: string,
    private readonly handledDirs: readonly string[],
  ) {
    this.stagingDir = path.join(outboxDir, '.smppd-staging');
    fs.mkdirSync(this.stagingDir, { recursive: true });
    // Temporary files of a killed smppd (`.tmp-<pid>-...`) were never linked anywhere: drop them.
    for (const n of fs.readdirSync(this.stagingDir)) {
      const pid = Number(/^\.tmp-(\d+)-/.exec(n)?.[1]);
      if (pid && pid !== process.pid && !isProcessAlive(pid))
        fs.rmSync(path.join(this.stagingDir, n), { force: true });
    }
  }

  /** Settles journal segments left by a killed or crashed process (ours or an injector's). */
  recover(): string[] {
    return recoverJournals(this.outboxDir, this.handledDirs).restored;
  }

  /** Publishes the message file; resolves with its name once it is durable. */
  async add(req: SubmitRequest, meta: SmppMeta, now: Date): Promise<string> {
    this.inflight++;
    try {
      return await this.addNow(req, meta, now);
    } finally {
      this.inflight--;
    }
  }

  private async addNow(req: SubmitRequest, meta: SmppMeta, now: Date): Promise<string> {
    const ext: Record<string, string | number> = { [META_KEY]: JSON.stringify(meta) };
    if (req.validity !== undefined) ext.RelativeValidity = req.validity;
    if (meta.phone) ext[PHONE_ID_KEY] = meta.phone;
    const data = formatBackup(req.entries, now, ext);
    const stamp = localStamp(now);
    let name: string;
    try {
      name = await this.publish(data, (j) =>
        outboxName({
          priority: req.priority,
          stamp,
          serial: j,
          number: req.destination,
          note: `${NOTE_PREFIX}${meta.id}`,
          ext: 'smsbackup',
        }),
      );
    } catch (err) {
      throw describeFsError(err, this.outboxDir, 'outbox');
    }
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ name, data, resolve, reject });
      void this.commit();
    });
  }

  private async publish(data: Buffer, nameFor: (j: number) => string): Promise<string> {
    // The temporary file lives in its own (hidden) folder: the outbox folder's lock is then taken
    // once per message (the link) instead of three times, so the thread pool's writers overlap.
    const tmp = tempName(this.stagingDir);
    await fsp.writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
    try {
      for (let j = 0; j < 100; j++) {
        const name = nameFor(j);
        try {
          // link(2) never replaces an existing file (the O_EXCL semantics of smsd inject).
          await fsp.link(tmp, path.join(this.outboxDir, name));
          return name;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      throw new Error('no free outbox file name');
    } finally {
      await fsp.unlink(tmp).catch(() => undefined);
    }
  }

  /** One commit at a time; whatever was published meanwhile forms the next one. */
  private async commit(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    this.idle = new Promise((r) => (this.markIdle = r));
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        if (
          this.segment &&
          (this.segment.records >= SEGMENT_RECORDS || Date.now() - this.segment.started > SEGMENT_MS)
        )
          this.rotate();
        this.segment ??= new AsyncJournalSegment(this.outboxDir);
        await this.segment.commit(batch);
        for (const p of batch) p.resolve(p.name);
      } catch (err) {
        // Published but not durable: refused (the ESME resubmits; a duplicate beats a loss).
        const e = describeFsError(err, this.outboxDir, 'outbox');
        for (const p of batch) p.reject(e);
      }
    }
    this.committing = false;
    this.markIdle?.();
  }

  private rotate(): void {
    const old = this.segment;
    this.segment = undefined;
    if (old) this.retiring = this.retiring.then(() => old.retire()).catch(() => undefined);
  }

  /** Waits for every message in progress to be durable, then retires the segment (shutdown). */
  async close(): Promise<void> {
    while (this.inflight > 0 || this.committing || this.pending.length > 0) {
      if (this.committing) await this.idle;
      else await new Promise((r) => setTimeout(r, 2));
    }
    this.rotate();
    await this.retiring;
  }
}

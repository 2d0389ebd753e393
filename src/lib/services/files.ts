import fs from 'node:fs';
import path from 'node:path';
import type {
  InboxMessage,
  MoveOutcome,
  OutboxJob,
  PhoneIdentityInfo,
  PhoneStatusInfo,
  SmsdService,
} from './types.js';
import { renderInboxFiles, type InboxFormat } from './inbox-files.js';
import { readOutboxFile, type TransmitFormat } from '../spool/outbox-read.js';
import { isOutboxCandidate } from '../spool/names.js';
import { tryClaim, DEFAULT_STALE_MS, type Release } from '../spool/lock.js';
import {
  createSpoolFile,
  fsyncDir,
  replaceFileDurable,
  describeFsError,
  writeTemp,
  publishUnique,
  SpoolError,
  sweepDeadTemps,
} from '../spool/atomic.js';
import { recoverJournals } from '../spool/journal.js';
import { OUTBOX_STATE_DIR } from '../spool/layout.js';
import { isProcessAlive } from '../common/process-alive.js';
import { pruneReceivedRecords, writeReceivedRecord } from '../spool/received.js';
import { readIfExists } from '../common/absent.js';

export interface FilesServiceOptions {
  inboxDir: string;
  outboxDir: string;
  sentDir: string;
  errorDir: string;
  inboxFormat: InboxFormat;
  transmitFormat: TransmitFormat;
  claimStaleMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Per-message progress kept beside the outbox (hidden), so a restart resumes a multipart send. */
interface JobState {
  attempts: number;
  sentParts: Record<string, number>;
  /** Network message ids of the parts an outlet sent (SMPP message_id), by part index. */
  ids?: Record<string, string>;
  lastError?: string;
}

/**
 * Gammu stops at serial 99 ("No available file names") and a burst of more than 100 messages from
 * one sender in one second (the SMSC's time stamp) then wedges reception. Its printf `%02i` prints
 * 100 and on as `_100_`, `_101_`...: the same shape, which our readers and Gammu-style parsers
 * (split at `_`) read, so serials go on instead. The next free serial per name is remembered, so a
 * burst costs one link(2) per message, not one per taken name.
 */
const INBOX_SERIALS = 10_000_000;
/** Remembered next serials (one per sender and second): forgotten wholesale past this many. */
const SERIAL_CACHE = 4_096;

/** The FILES service: Gammu's spool layout (gammu-smsd-files(7)) with claims and resumable sends. */
/** A message pinned to another modem is read again after this long (its pin could be edited). */
const FOREIGN_RECHECK_MS = 60_000;

export class FilesService implements SmsdService {
  readonly name = 'files';
  private readonly claims = new Map<string, Release>();
  private readonly notBefore = new Map<string, number>();
  private watcher: { close(): Promise<void> } | undefined;
  private lastSweep = 0;
  /** While the watcher runs, a listing stays valid until it reports a change. */
  private watching = false;
  private readonly log: NonNullable<FilesServiceOptions['log']>;
  /** Our PhoneID: messages pinned to another one are not ours to send. */
  private phoneId: string | undefined;
  private ownNumber: string | undefined;
  private readonly nextSerial = new Map<string, number>();
  /** Non-regular outbox entries that could not be moved away, logged once each. */
  private readonly rejected = new Set<string>();

  constructor(private readonly o: FilesServiceOptions) {
    this.log = o.log ?? (() => undefined);
  }

  private get stateDir(): string {
    return path.join(this.o.outboxDir, OUTBOX_STATE_DIR);
  }

  async init(): Promise<void> {
    for (const [what, dir] of [
      ['InboxPath', this.o.inboxDir],
      ['OutboxPath', this.o.outboxDir],
      ['SentSMSPath', this.o.sentDir],
      ['ErrorSMSPath', this.o.errorDir],
    ] as const) {
      const st = fs.statSync(dir, { throwIfNoEntry: false });
      if (!st) throw new SpoolError(`${what} ${dir} does not exist`);
      if (!st.isDirectory()) throw new SpoolError(`${what} ${dir} is not a directory`);
    }
    fs.mkdirSync(this.stateDir, { recursive: true });
    const rec = recoverJournals(this.o.outboxDir, [this.o.sentDir, this.o.errorDir]);
    // Temporary files of a daemon killed mid-save (inbox) or mid-move across file systems.
    for (const dir of [this.o.inboxDir, this.o.sentDir, this.o.errorDir]) sweepDeadTemps(dir);
    if (rec.restored.length > 0)
      this.log('warn', `restored ${rec.restored.length} outbox files from an interrupted batch`);
  }

  async free(): Promise<void> {
    if (this.claimTimer) clearInterval(this.claimTimer);
    this.claimTimer = undefined;
    await this.watcher?.close();
    this.watcher = undefined;
    for (const release of this.claims.values()) await release().catch(() => undefined);
    this.claims.clear();
    if (this.claimDir) {
      fsyncDir(this.o.outboxDir);
      fs.rmSync(this.claimDir, { recursive: true, force: true });
      this.claimDir = undefined;
    }
  }

  async initAfterConnect(phone: PhoneIdentityInfo): Promise<void> {
    this.phoneId = phone.phoneId;
    this.ownNumber = phone.ownNumber;
    pruneReceivedRecords(this.o.inboxDir);
  }

  async refreshPhoneStatus(_status: PhoneStatusInfo): Promise<void> {}

  async refreshSendStatus(_job: OutboxJob): Promise<void> {
    // proper-lockfile refreshes the claim by itself while it is held.
  }

  /**
   * Wakes the daemon when a file lands in the outbox. This is fs.watch (inotify on Linux) and not
   * chokidar: chokidar re-reads and lstat()s the whole folder on every change, so a backlog of N
   * files cost O(N) per message sent (measured: 2,000 queued files fell to ~60 messages/s and
   * 110 MB). A missed event only delays a message until the CommTimeout rescan.
   */
  onOutboxChange(listener: () => void): void {
    try {
      const w = fs.watch(this.o.outboxDir, { persistent: false }, (_event, name) => {
        if (name !== null && (name.startsWith('.') || !isOutboxCandidate(name))) return;
        // A file leaving the outbox (sent, claimed) adds no work; only new files need a new listing.
        if (
          name !== null &&
          (this.selfMoved.delete(name) || !fs.existsSync(path.join(this.o.outboxDir, name)))
        )
          return;
        this.listingDirty = true;
        listener();
      });
      w.on('error', (err) => {
        this.log(
          'warn',
          `watching ${this.o.outboxDir} failed (${err.message}); relying on the CommTimeout rescan`,
        );
        this.watching = false;
        this.listingDirty = true;
      });
      this.watcher = { close: async () => w.close() };
      this.watching = true;
    } catch (err) {
      this.log(
        'warn',
        `cannot watch ${this.o.outboxDir} (${(err as Error).message}); relying on the CommTimeout rescan`,
      );
    }
  }

  /**
   * All parts under one serial free for every part. A failure removes what this call published, so
   * the daemon's retry (the parts are still on the SIM) stores the message once, not twice.
   */
  async saveInbox(message: InboxMessage): Promise<string[]> {
    const files = renderInboxFiles(message.parts, this.o.inboxFormat, new Date());
    const [first, ...rest] = files;
    if (!first) return [];
    const dir = this.o.inboxDir;
    const names: string[] = [];
    try {
      const key = first.nameFor(0);
      let from = this.nextSerial.get(key) ?? 0;
      let serial: number;
      for (;;) {
        const tmp = writeTemp(dir, first.data, true);
        const published = publishUnique(tmp, dir, first.nameFor, INBOX_SERIALS, from);
        if (!published) throw new SpoolError(`Cannot save ${key}. No available file names`);
        serial = published.index;
        from = serial + 1;
        names.push(published.name);
        const s = serial;
        if (!rest.some((f) => fs.existsSync(path.join(dir, f.nameFor(s))))) break;
        fs.rmSync(path.join(dir, names.pop() as string)); // a later part's name is taken: next serial
      }
      if (this.nextSerial.size >= SERIAL_CACHE) this.nextSerial.clear();
      this.nextSerial.set(key, from);
      for (const f of rest) names.push(createSpoolFile(dir, f.data, () => f.nameFor(serial), 1, 'inbox'));
      fsyncDir(dir);
      writeReceivedRecord(dir, names[0] as string, {
        phoneId: this.phoneId ?? '',
        ...(this.ownNumber ? { receiver: this.ownNumber } : {}),
      });
      return names;
    } catch (err) {
      for (const n of names)
        try {
          fs.rmSync(path.join(dir, n), { force: true });
        } catch {
          // a read-only inbox published nothing to take back
        }
      if (err instanceof SpoolError) throw err;
      throw describeFsError(err, dir, 'inbox');
    }
  }

  private statePath(id: string): string {
    return path.join(this.stateDir, `${id}.json`);
  }

  private readState(id: string): JobState {
    // Absent: nothing tried yet. Written whole (replaceFileDurable), so it parses when present.
    const text = readIfExists(this.statePath(id), 'utf8');
    return text === undefined ? { attempts: 0, sentParts: {} } : (JSON.parse(text) as JobState);
  }

  private writeState(id: string, state: JobState): void {
    replaceFileDurable(this.statePath(id), Buffer.from(JSON.stringify(state)));
  }

  /**
   * The sorted outbox listing is reused while nothing new arrived (the watcher says so), so a burst
   * of N queued files costs one directory scan, not N. A new file (maybe a higher priority) or an
   * exhausted list triggers a fresh scan, and every scan starts from the top, as Gammu's does.
   */
  private listing: string[] = [];
  private listingDirty = true;

  private nextNames(): string[] {
    if (this.listingDirty || this.listing.length === 0) {
      try {
        // Reversed, so taking the next name is pop() (O(1)) and not shift() on a long backlog.
        this.listing = fs.readdirSync(this.o.outboxDir).filter(isOutboxCandidate).sort().reverse();
      } catch (err) {
        throw describeFsError(err, this.o.outboxDir, 'outbox');
      }
      this.listingDirty = !this.watching;
    }
    return this.listing;
  }

  async findOutbox(): Promise<OutboxJob | undefined> {
    const names = this.nextNames();
    this.sweepOrphanClaims();
    while (names.length > 0) {
      const id = names.pop() as string;
      const file = path.join(this.o.outboxDir, id);
      const job = await this.take(id, async () => {
        const release = await tryClaim(file, {
          staleMs: this.o.claimStaleMs,
          onCompromised: (e) => this.log('error', `claim on ${id} lost: ${e.message}`),
        });
        return release;
      });
      if (job) return job;
    }
    return undefined;
  }

  /**
   * A symlink (or a folder, a FIFO...) named like an outbox file is never sent: a link could make
   * the daemon send any file it can read. It goes to the error folder (the link itself, not what it
   * points to) with `<name>.reason`; when even that fails it stays, logged once.
   */
  private rejectNonRegular(id: string, st: fs.Stats): void {
    const src = path.join(this.o.outboxDir, id);
    let kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : 'not a regular file';
    if (st.isSymbolicLink()) {
      let target = '?';
      try {
        target = fs.readlinkSync(src);
      } catch {
        // gone meanwhile
      }
      kind = `a symbolic link to ${target}`;
    }
    const reason = `${kind}: only regular files are sent (a link could send any file the daemon can read)`;
    const inPlace = path.resolve(this.o.errorDir) === path.resolve(this.o.outboxDir);
    const dest = inPlace ? `${src}.failed` : path.join(this.o.errorDir, id);
    try {
      fs.renameSync(src, dest);
      fs.writeFileSync(`${dest}.reason`, `${new Date().toISOString()} ${reason}\n`);
      this.log(
        'error',
        `cannot send ${id}: ${reason}; moved to ${inPlace ? `${id}.failed` : 'the error folder'}`,
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // taken care of by another daemon
      if (this.rejected.has(id)) return;
      if (this.rejected.size >= 10_000) this.rejected.clear();
      this.rejected.add(id);
      this.log('error', `cannot send ${id}: ${reason}; and cannot move it away: ${(err as Error).message}`);
    }
  }

  /**
   * Claims up to `max` messages at once: the outlets' path. A modem's claim (a `<file>.lock`
   * directory from proper-lockfile) costs a mkdir and an rmdir, measured at 1.1 and 1.7 ms each
   * here, which alone would cap an outlet near 350 messages/s. Here a claim is one rename(2)
   * (0.05 ms) of the file into this process's claim folder `.smsgate-state/claimed-<pid>/`: no
   * other daemon lists it there, and it moves on to sent/ or error/ from there, or back to the
   * outbox on a retry, at stop, or (by any daemon) once its owner is dead or its folder stale.
   */
  async findOutboxBatch(max: number): Promise<OutboxJob[]> {
    const names = this.nextNames();
    this.sweepOrphanClaims();
    this.recoverClaimFolders();
    const dir = this.claimFolder();
    if (this.selfMoved.size > 100_000) this.selfMoved.clear(); // events lost (watcher overflow)
    const jobs: OutboxJob[] = [];
    while (names.length > 0 && jobs.length < max) {
      const id = names.pop() as string;
      const job = await this.take(id, async () => {
        // A modem daemon sharing the outbox claims with `<file>.lock` (mkdir, then checks the file
        // is still there): its fresh lock before or right after our rename means it is its message.
        const lock = path.join(this.o.outboxDir, `${id}.lock`);
        if (this.lockHeld(lock)) return undefined;
        try {
          fs.renameSync(path.join(this.o.outboxDir, id), path.join(dir, id));
          if (this.watching) this.selfMoved.add(id);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // taken by another
          throw err;
        }
        if (this.lockHeld(lock)) {
          moveFile(path.join(dir, id), path.join(this.o.outboxDir, id));
          return undefined;
        }
        this.inClaimFolder.add(id);
        return async () => {
          this.inClaimFolder.delete(id);
          moveFile(path.join(dir, id), path.join(this.o.outboxDir, id));
        };
      });
      if (job) jobs.push(job);
    }
    return jobs;
  }

  /** A `<file>.lock` of a live modem daemon (a stale one, left by a dead daemon, is removed). */
  private lockHeld(lock: string): boolean {
    const st = fs.statSync(lock, { throwIfNoEntry: false });
    if (!st) return false;
    if (Date.now() - st.mtimeMs <= (this.o.claimStaleMs ?? DEFAULT_STALE_MS)) return true;
    fs.rmSync(lock, { recursive: true, force: true });
    return false;
  }

  /** Names we renamed out of the outbox whose watcher event has not come yet (bounded below). */
  private readonly selfMoved = new Set<string>();
  /** Names now in our claim folder rather than in the outbox. */
  private readonly inClaimFolder = new Set<string>();
  private claimDir: string | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private lastRecovery = 0;

  private claimFolder(): string {
    if (this.claimDir) return this.claimDir;
    const dir = path.join(this.stateDir, `claimed-${process.pid}`);
    fs.mkdirSync(dir, { recursive: true });
    this.claimDir = dir;
    // The folder's mtime is its heartbeat: a stale one belongs to a hung or dead daemon.
    const stale = this.o.claimStaleMs ?? DEFAULT_STALE_MS;
    this.claimTimer = setInterval(
      () => {
        const now = new Date();
        try {
          fs.utimesSync(dir, now, now);
        } catch {
          // recreated on the next claim
        }
      },
      Math.max(500, stale / 3),
    );
    this.claimTimer.unref();
    return dir;
  }

  /** Files in the claim folder of a dead (or silent) daemon go back to the outbox. */
  private recoverClaimFolders(): void {
    const now = Date.now();
    if (now - this.lastRecovery < 5_000) return;
    this.lastRecovery = now;
    const stale = this.o.claimStaleMs ?? DEFAULT_STALE_MS;
    for (const name of fs.readdirSync(this.stateDir)) {
      const m = /^claimed-(\d+)$/.exec(name);
      if (!m || Number(m[1]) === process.pid) continue;
      const dir = path.join(this.stateDir, name);
      const st = fs.statSync(dir, { throwIfNoEntry: false });
      if (!st) continue;
      if (isProcessAlive(Number(m[1])) && now - st.mtimeMs <= stale) continue;
      const files = fs.readdirSync(dir);
      for (const f of files)
        try {
          fs.renameSync(path.join(dir, f), path.join(this.o.outboxDir, f));
        } catch {
          // another daemon recovered it first
        }
      if (files.length > 0) {
        fsyncDir(this.o.outboxDir);
        this.log('warn', `${files.length} claimed messages of a stopped daemon (${name}) back in the outbox`);
        this.listingDirty = true;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Where an outbox message is now: our claim folder or the outbox. */
  private pathOf(id: string): string {
    return this.inClaimFolder.has(id) && this.claimDir
      ? path.join(this.claimDir, id)
      : path.join(this.o.outboxDir, id);
  }

  /** One outbox file: claimed with `claim`, read, checked; a job, or undefined to look further. */
  private async take(id: string, claim: () => Promise<Release | undefined>): Promise<OutboxJob | undefined> {
    const now = Date.now();
    if (this.claims.has(id) || (this.notBefore.get(id) ?? 0) > now) return undefined;
    const file = path.join(this.o.outboxDir, id);
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (!st) return undefined; // sent by another daemon meanwhile
    if (!st.isFile()) {
      this.rejectNonRegular(id, st);
      return undefined;
    }
    const release = await claim();
    if (!release) return undefined;
    this.claims.set(id, release);
    const content = readIfExists(this.pathOf(id));
    if (!content) {
      await this.release(id); // moved away by another daemon between listing and claiming
      return undefined;
    }
    const state = this.readState(id);
    const read = readOutboxFile(id, content, this.o.transmitFormat, refFromName(id));
    const job: OutboxJob = {
      id,
      message: read.ok ? read.message : { id, number: '', parts: [], ussd: false },
      sentParts: new Map(Object.entries(state.sentParts).map(([k, v]) => [Number(k), v])),
      attempts: state.attempts,
      queuedAt: st.mtime,
    };
    if (!read.ok) {
      this.log('error', `cannot send ${id}: ${read.reason}`);
      try {
        await this.moveSms(job, 'error', read.reason);
      } catch (err) {
        // Nothing was sent: let go of it and try the move again later, not hold it forever.
        this.notBefore.set(id, Date.now() + FOREIGN_RECHECK_MS);
        await this.release(id);
        throw err;
      }
      return undefined;
    }
    const pinned = read.message.phoneId;
    if (pinned !== undefined && pinned.toLowerCase() !== (this.phoneId ?? '').toLowerCase()) {
      // Another modem's message (Gammu's SenderID, for files): left for it, looked at again later.
      await this.release(id);
      this.notBefore.set(id, now + FOREIGN_RECHECK_MS);
      return undefined;
    }
    const after = read.message.sendAfter;
    if (after !== undefined && after > now) {
      // Deferred (Kannel's sendsms `deferred`): left in the outbox until its time.
      await this.release(id);
      this.notBefore.set(id, after);
      return undefined;
    }
    return job;
  }

  /**
   * Moves many sent messages with one fsync per folder (the outlets' group commit). Returns the
   * jobs that could not be moved, with why; their claims are kept for a retry.
   */
  async moveSentBatch(jobs: readonly OutboxJob[]): Promise<{ job: OutboxJob; error: Error }[]> {
    const failed: { job: OutboxJob; error: Error }[] = [];
    const moved: OutboxJob[] = [];
    const same = path.resolve(this.o.sentDir) === path.resolve(this.o.outboxDir);
    for (const job of jobs) {
      const src = this.pathOf(job.id);
      try {
        if (same) fs.rmSync(src, { force: true });
        else moveFile(src, path.join(this.o.sentDir, job.id));
        moved.push(job);
      } catch (err) {
        failed.push({ job, error: describeFsError(err, this.o.sentDir, 'sent') });
      }
    }
    if (moved.length > 0) {
      // On the thread pool, both at once: the outlet's link keeps moving meanwhile.
      await Promise.all([
        ...(same ? [] : [fsyncDirAsync(this.o.sentDir)]),
        fsyncDirAsync(this.claimDir ?? this.o.outboxDir),
      ]);
    }
    for (const job of moved) {
      fs.rmSync(this.statePath(job.id), { force: true });
      this.networkIds.delete(job.id);
      this.notBefore.delete(job.id);
      this.claims.delete(job.id);
      this.inClaimFolder.delete(job.id);
    }
    return failed;
  }

  /**
   * A daemon killed after moving a file but before releasing its claim leaves `<file>.lock` with no
   * file; once stale (nobody refreshes it) it is removed so the outbox does not fill with them.
   */
  private sweepOrphanClaims(): void {
    const now = Date.now();
    if (now - this.lastSweep < 5_000) return;
    this.lastSweep = now;
    const stale = this.o.claimStaleMs ?? DEFAULT_STALE_MS;
    for (const name of fs.readdirSync(this.o.outboxDir)) {
      if (!name.endsWith('.lock')) continue;
      const lock = path.join(this.o.outboxDir, name);
      if (fs.existsSync(lock.slice(0, -'.lock'.length))) continue;
      const st = fs.statSync(lock, { throwIfNoEntry: false });
      if (st && now - st.mtimeMs > stale) fs.rmSync(lock, { recursive: true, force: true });
    }
  }

  private readonly networkIds = new Map<string, Record<string, string>>();

  async addSentInfo(job: OutboxJob, part: number, mr: number, networkId?: string): Promise<void> {
    job.sentParts.set(part, mr);
    const ids = this.networkIds.get(job.id) ?? this.readState(job.id).ids ?? {};
    if (networkId !== undefined) {
      ids[String(part)] = networkId;
      this.networkIds.set(job.id, ids);
    }
    try {
      this.writeState(job.id, {
        attempts: job.attempts,
        sentParts: Object.fromEntries(job.sentParts),
        ...(Object.keys(ids).length > 0 ? { ids } : {}),
      });
    } catch (err) {
      throw describeFsError(err, this.stateDir, 'OutboxPath state folder');
    }
  }

  async updateRetries(
    job: OutboxJob,
    reason: string,
    maxRetries: number,
    retryTimeoutMs: number,
  ): Promise<'retry' | 'give-up'> {
    job.attempts++;
    if (job.attempts > maxRetries) return 'give-up';
    try {
      this.writeState(job.id, {
        attempts: job.attempts,
        sentParts: Object.fromEntries(job.sentParts),
        lastError: reason,
      });
    } catch (err) {
      throw describeFsError(err, this.stateDir, 'OutboxPath state folder');
    } finally {
      // Nothing of it went out: released for a later retry even when the count could not be kept.
      this.notBefore.set(job.id, Date.now() + retryTimeoutMs);
      await this.release(job.id);
    }
    return 'retry';
  }

  /**
   * The final move. When it fails (sent/ read-only, disk full) the claim and the resume state stay,
   * so the daemon can retry just this step and a restart does not send the message again; a retry
   * after a half-done move (file moved, reason or fsync failed) finishes the rest.
   */
  async moveSms(job: OutboxJob, outcome: MoveOutcome, reason?: string): Promise<void> {
    const src = this.pathOf(job.id);
    const destDir = outcome === 'sent' ? this.o.sentDir : this.o.errorDir;
    const what = outcome === 'sent' ? 'SentSMSPath' : 'ErrorSMSPath';
    try {
      if (path.resolve(destDir) === path.resolve(this.o.outboxDir)) {
        if (outcome === 'sent') fs.rmSync(src, { force: true });
        else {
          // Gammu deletes a failed file when the error folder is the outbox; we keep it, out of the queue.
          if (fs.existsSync(src)) fs.renameSync(src, `${src}.failed`);
          fs.writeFileSync(`${src}.failed.reason`, `${reason ?? 'failed'}\n`);
        }
      } else {
        const dest = path.join(destDir, job.id);
        if (fs.existsSync(src)) moveFile(src, dest);
        else if (!fs.existsSync(dest))
          this.log(
            'warn',
            `${job.id}: the outbox file vanished while it was handled; nothing moved to ${what}`,
          );
        if (outcome === 'error') {
          const why = `${new Date().toISOString()} ${reason ?? 'failed'}\n`;
          fs.writeFileSync(path.join(destDir, `${job.id}.reason`), why);
        }
        fsyncDir(destDir);
      }
      fsyncDir(this.inClaimFolder.has(job.id) && this.claimDir ? this.claimDir : this.o.outboxDir);
    } catch (err) {
      throw err instanceof SpoolError ? err : describeFsError(err, destDir, what);
    }
    try {
      fs.rmSync(this.statePath(job.id), { force: true });
    } catch {
      // the state of a message that left the outbox is never read again
    }
    this.networkIds.delete(job.id);
    this.notBefore.delete(job.id);
    if (this.inClaimFolder.has(job.id) && !fs.existsSync(src)) {
      // moved out of our claim folder: nothing to give back
      this.inClaimFolder.delete(job.id);
      this.claims.delete(job.id);
    }
    await this.release(job.id);
  }

  private async release(id: string): Promise<void> {
    const release = this.claims.get(id);
    this.claims.delete(id);
    await release?.().catch(() => undefined);
  }
}

async function fsyncDirAsync(dir: string): Promise<void> {
  const h = await fs.promises.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** rename(2), or copy + fsync + unlink across file systems (EXDEV), as Gammu does. */
function moveFile(src: string, dest: string): void {
  try {
    fs.renameSync(src, dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    replaceFileDurable(dest, fs.readFileSync(src));
    fs.rmSync(src);
  }
}

/** A stable concatenation reference for a long `.txt` message, so a resumed send reuses it. */
function refFromName(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) & 0xff;
  return h;
}

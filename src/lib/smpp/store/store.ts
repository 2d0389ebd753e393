import fs from 'node:fs';
import path from 'node:path';
import { formatBackup } from '../../smsbackup/writer.js';
import { localStamp, outboxName } from '../../spool/names.js';
import { recordLength, recoverJournals } from '../../spool/journal.js';
import type { Logger } from '../../common/log.js';
import type { SubmitRequest } from '../protocol/mt.js';
import { GroupCommit } from './group-commit.js';
import { Materializer, type Renamed } from './materializer.js';
import { isProcessAlive } from '../../common/process-alive.js';
import { PHONE_ID_KEY, SEND_AFTER_KEY } from '../../spool/outbox-read.js';
import type { AddCallback, MessageStore, SmppMeta } from './message-store.js';

/**
 * The default route: the spool outbox, with the journal as the point of durability.
 *
 * Each accepted submit becomes an ordinary `.smsbackup` outbox file (what `smsd inject` writes, so
 * `smsd run` and Gammu send it) whose name carries the message ID
 * (`OUT<prio>..._<number>_smpp-<id>.smsbackup`: the durable ID ↔ file map). Its content and name are
 * made up at once and its journal record is group-committed (group-commit.ts: submits that arrive
 * while a write runs form the next one, each write made durable by one flush); then their
 * submit_sm_resp go out. Only afterwards is each file created, by the materializer thread (see
 * materializer.ts), so the main thread only decodes, encodes and answers.
 *
 * Until its file exists a message is known here (`pendingMessage`, `whenMaterialized`), so query_sm
 * and cancel_sm find it. Messages acknowledged without a file are bounded (`full`: the server stops
 * reading until the materializer catches up). A segment is retired (flushed, deleted) once every one
 * of its records has its file. After a kill -9, the next `smppd serve` or `smsd run` restores the
 * records of a dead writer that never got their file; after a machine crash, every missing one.
 */

/** What smppd needs later to answer for the message (receipts), stored in the file's header comments. */
export type { SmppMeta } from './message-store.js';

export const META_KEY = 'Smpp';

/** The outbox file of a message: Gammu's SMS backup, with smppd's data in `; smsgate:` lines. */
export function messageFile(req: SubmitRequest, meta: SmppMeta, now: Date): Buffer {
  const ext: Record<string, string | number> = { [META_KEY]: JSON.stringify(meta) };
  if (req.validity !== undefined) ext.RelativeValidity = req.validity;
  if (meta.phone) ext[PHONE_ID_KEY] = meta.phone;
  if (meta.after) ext[SEND_AFTER_KEY] = meta.after;
  return formatBackup(req.entries, now, ext);
}
const NOTE_PREFIX = 'smpp-';

/** The message ID in an outbox file name written by smppd, if it is one. */
export function messageIdOfName(name: string): string | undefined {
  const m = /_smpp-([0-9A-Za-z]+)\.smsbackup$/.exec(name);
  return m?.[1];
}

/** A record on its way into the journal. */
interface Pending {
  /** Message ID; undefined for a record journaled again under the name the materializer chose. */
  id: string | undefined;
  name: string;
  data: Buffer;
  /** Its size in the journal. */
  bytes: number;
  done: AddCallback | undefined;
}

/** A committed record, until the materializer reports its file (in commit order). */
interface Committed {
  id: string | undefined;
  name: string;
  bytes: number;
}

/** A message acknowledged (or being committed) whose file does not exist yet. */
interface Unmaterialized {
  name: string;
  sid: string;
  waiters?: (() => void)[];
}

export interface OutboxStoreOptions {
  /** Messages taken but without a file at most (then `full`); resumes below half. */
  maxBacklog?: number;
  /** Bytes of their files at most. */
  maxBacklogBytes?: number;
  /** A file that cannot be created is tried again after this long. */
  retryMs?: number;
  log?: Logger;
  /** The materializer gave a message another serial (its name changed). */
  renamed?: (id: string, name: string) => void;
}

export class OutboxStore implements MessageStore {
  private readonly journal: GroupCommit<Pending>;
  private readonly committed: Committed[] = [];
  /** Index of the oldest entry of `committed` still waiting for its file. */
  private committedHead = 0;
  private readonly unmaterialized = new Map<string, Unmaterialized>();
  /** Names taken by messages without a file yet: a second message gets another serial. */
  private readonly reserved = new Set<string>();
  private backlog = 0;
  private backlogBytes = 0;
  private wasFull = false;
  private settledWaiters: (() => void)[] = [];
  private readonly materializer: Materializer;
  private readonly stagingDir: string;
  private readonly maxBacklog: number;
  private readonly maxBacklogBytes: number;
  private readonly log: Logger;
  /** Called when the backlog fell below half after being full. */
  onRoom: (() => void) | undefined;

  constructor(
    readonly outboxDir: string,
    private readonly handledDirs: readonly string[],
    private readonly options: OutboxStoreOptions = {},
  ) {
    this.maxBacklog = options.maxBacklog ?? 20_000;
    this.maxBacklogBytes = options.maxBacklogBytes ?? 32 * 1024 * 1024;
    this.log = options.log ?? (() => undefined);
    this.stagingDir = path.join(outboxDir, '.smppd-staging');
    fs.mkdirSync(this.stagingDir, { recursive: true });
    // Temporary files of a killed smppd (`.tmp-<pid>-...`) were never linked anywhere: drop them.
    for (const n of fs.readdirSync(this.stagingDir)) {
      const pid = Number(/^\.tmp-(\d+)-/.exec(n)?.[1]);
      if (pid && pid !== process.pid && !isProcessAlive(pid))
        fs.rmSync(path.join(this.stagingDir, n), { force: true });
    }
    this.materializer = new Materializer(
      { outboxDir, stagingDir: this.stagingDir, retryMs: options.retryMs ?? 1_000 },
      {
        done: (seg, upto, renamed) => this.onMaterialized(seg, upto, renamed),
        failing: (message) =>
          message === undefined
            ? this.log('info', `outbox ${outboxDir}: creating message files works again`)
            : this.log('error', `outbox ${outboxDir}: cannot create a message file (${message}); retrying`),
        exited: (err) => this.onMaterializerExit(err),
      },
    );
    this.journal = new GroupCommit<Pending>(outboxDir, {
      committed: (batch, files) => {
        for (const p of batch) this.committed.push({ id: p.id, name: p.name, bytes: p.bytes });
        this.materializer.post(files);
        for (const p of batch) p.done?.(undefined, p.name);
      },
      failed: (batch, err) => this.fail(batch, err),
      retired: (seg) => this.materializer.forget(seg.countFile),
      log: this.log,
    });
  }

  /** Settles journal segments left by a killed or crashed process (ours or an injector's). */
  recover(): string[] {
    return recoverJournals(this.outboxDir, this.handledDirs).restored;
  }

  /** Too many messages without their file: stop taking more (see onRoom). */
  get full(): boolean {
    return this.backlog >= this.maxBacklog || this.backlogBytes >= this.maxBacklogBytes;
  }

  /** Messages taken whose file does not exist yet. */
  get backlogSize(): number {
    return this.backlog;
  }

  /**
   * Takes a message; `done` is called once it is durable (its journal record is on disk) with the
   * name its file gets, or with the error that kept it from being stored.
   */
  add(req: SubmitRequest, meta: SmppMeta, now: Date, done: AddCallback): void {
    const data = messageFile(req, meta, now);
    const stamp = localStamp(now);
    let name = '';
    for (let j = 0; j < 100; j++) {
      name = outboxName({
        priority: req.priority,
        stamp,
        serial: j,
        number: req.destination,
        note: `${NOTE_PREFIX}${meta.id}`,
        ext: 'smsbackup',
      });
      if (!this.reserved.has(name)) break;
    }
    if (this.reserved.has(name)) {
      done(new Error(`no free outbox file name like ${name}`), name);
      return;
    }
    this.reserved.add(name);
    this.unmaterialized.set(meta.id, { name, sid: meta.sid });
    this.push({ id: meta.id, name, data, bytes: recordLength({ name, data }), done });
  }

  private push(p: Pending): void {
    this.backlog++;
    this.backlogBytes += p.bytes;
    if (this.full) this.wasFull = true;
    this.journal.add(p);
  }

  /** The message if it is taken but has no file yet. */
  pendingMessage(id: string): { name: string; sid: string } | undefined {
    return this.unmaterialized.get(id);
  }

  /** Resolves once the message's file exists; undefined when it already does (or is unknown). */
  whenMaterialized(id: string): Promise<void> | undefined {
    const u = this.unmaterialized.get(id);
    return u ? new Promise((resolve) => (u.waiters ??= []).push(resolve)) : undefined;
  }

  /** Resolves when every message taken so far has its file. */
  settled(): Promise<void> {
    return this.backlog === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private fail(batch: Pending[], err: Error): void {
    for (const p of batch) {
      this.reserved.delete(p.name);
      if (p.id !== undefined) this.unmaterialized.delete(p.id);
      this.shrink(p.bytes);
    }
    for (const p of batch) p.done?.(err, p.name);
  }

  private shrink(bytes: number): void {
    this.backlog--;
    this.backlogBytes -= bytes;
    if (this.wasFull && this.backlog < this.maxBacklog / 2 && this.backlogBytes < this.maxBacklogBytes / 2) {
      this.wasFull = false;
      this.onRoom?.();
    }
    if (this.backlog === 0) for (const w of this.settledWaiters.splice(0)) w();
  }

  private onMaterialized(segId: number, upto: number, renamed: Renamed[]): void {
    const before = this.journal.materializedCount(segId);
    if (!this.journal.materialized(segId, upto)) return;
    const n = upto - before;
    // First, so the backlog does not look empty in between (settled()).
    for (const r of renamed) this.onRenamed(r);
    for (let i = 0; i < n; i++) {
      const c = this.committed[this.committedHead++];
      if (!c) break;
      this.reserved.delete(c.name);
      const u = c.id === undefined ? undefined : this.unmaterialized.get(c.id);
      if (c.id !== undefined && u?.name === c.name) {
        this.unmaterialized.delete(c.id);
        for (const w of u.waiters ?? []) w();
      }
      this.shrink(c.bytes);
    }
    // Drop the settled head now and then rather than shifting one by one.
    if (this.committedHead > 4096 && this.committedHead * 2 > this.committed.length) {
      this.committed.splice(0, this.committedHead);
      this.committedHead = 0;
    }
  }

  /** The file got another serial: the new name is journaled (a machine crash must not lose it). */
  private onRenamed(r: Renamed): void {
    const id = messageIdOfName(r.from);
    this.log('warn', `outbox file ${r.from} existed already (not ours); the message is ${r.to}`);
    if (id) this.options.renamed?.(id, r.to);
    const data = Buffer.from(r.data);
    this.reserved.add(r.to);
    this.push({
      id: undefined,
      name: r.to,
      data,
      bytes: recordLength({ name: r.to, data }),
      done: undefined,
    });
  }

  /**
   * The thread died (a bug): a new one creates every committed file that has none yet, read back
   * from the segments, which hold them all.
   */
  private onMaterializerExit(err: Error): void {
    this.log('error', `outbox materializer: ${err.message}; restarting it`);
    this.materializer.restart();
    for (const files of this.journal.unmaterialized()) this.materializer.post(files);
  }

  /** Resolves once every message taken so far is committed and answered (or refused). */
  drain(): Promise<void> {
    return this.journal.drain();
  }

  /**
   * Shutdown: waits for every message taken to be committed and (within `materializeMs`) to have its
   * file, then retires the segments. What is left without a file stays in its segment, which the
   * next start restores.
   */
  async close(materializeMs = 30_000): Promise<void> {
    await this.journal.drain();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.settled(),
      new Promise<void>((r) => {
        timer = setTimeout(() => {
          this.log(
            'warn',
            `${this.backlog} acknowledged messages still without their outbox file; the next start restores them`,
          );
          r();
        }, materializeMs);
      }),
    ]);
    clearTimeout(timer);
    await this.journal.close();
    await this.materializer.close();
  }
}

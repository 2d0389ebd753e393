import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log.js';

/**
 * Idempotency keys of the JSON API (`Idempotency-Key`), kept durably in one append-only log
 * (`<StateDir>/idempotency.log`, JSON lines, group-committed with one fdatasync per batch):
 *
 * - `begin` (key, request hash, the message IDs chosen for each recipient) is durable BEFORE any
 *   message of the request is handed to the store. So a retry after a kill -9 anywhere later finds
 *   the key: the IDs whose message exists are answered as stored, only the others are stored (with
 *   the same IDs), never a message twice.
 * - `end` (the answer) is appended once the request is answered; `drop` when nothing was stored
 *   (every recipient refused): the key is free again, a retry may store.
 *
 * Bounded: a key lives `ttlMs` (from its begin); at most `maxKeys` keys, and `maxKeysPerAccount`
 * per account (one account cannot take every other's keys). At a cap a new key is refused (429,
 * the caller says when the oldest expires) rather than an old one forgotten: forgetting one would
 * silently break its promise. The log is rewritten (temp file, fsync, rename) when it holds more
 * than twice the live keys.
 */

export interface IdempotencyOptions {
  file: string;
  ttlMs: number;
  maxKeys: number;
  maxKeysPerAccount: number;
  log: Logger;
}

/** What a finished request answered. */
export interface StoredAnswer {
  status: number;
  body: unknown;
}

export interface KeyRecord {
  /** `<account, lower case>\n<key>` */
  k: string;
  /** sha256 of the canonical request. */
  h: string;
  at: number;
  /** The message ID chosen for each recipient, in request order. */
  ids: string[];
  answer?: StoredAnswer;
}

type Line =
  | { op: 'begin'; k: string; h: string; at: number; ids: string[] }
  | { op: 'end'; k: string; answer: StoredAnswer }
  | { op: 'drop'; k: string };

export type Claim =
  | { kind: 'new'; record: KeyRecord }
  /** Finished before: the same answer again. */
  | { kind: 'done'; record: KeyRecord }
  /** Begun by a previous run that stopped before answering: resolve against the store. */
  | { kind: 'unresolved'; record: KeyRecord }
  /** Begun in this run and still in progress: wait for it. */
  | { kind: 'running'; record: KeyRecord; result: Promise<StoredAnswer> }
  | { kind: 'mismatch' }
  | { kind: 'full'; retryAfterS: number; why: string };

export class IdempotencyKeys {
  private readonly records = new Map<string, KeyRecord>();
  private readonly perAccount = new Map<string, number>();
  private readonly running = new Map<
    string,
    { promise: Promise<StoredAnswer>; resolve: (a: StoredAnswer) => void }
  >();
  private fd: number | undefined;
  private lines = 0;
  private queue: { text: string; done?: (err?: Error) => void }[] = [];
  private writing = false;

  constructor(private readonly o: IdempotencyOptions) {}

  open(): void {
    fs.mkdirSync(path.dirname(this.o.file), { recursive: true });
    let text = '';
    try {
      text = fs.readFileSync(this.o.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      let l: Line;
      try {
        l = JSON.parse(raw) as Line;
      } catch {
        continue; // a line torn by a crash: its request was never answered
      }
      this.lines++;
      if (l.op === 'begin') this.insert({ k: l.k, h: l.h, at: l.at, ids: l.ids });
      else if (l.op === 'end') {
        const r = this.records.get(l.k);
        if (r) r.answer = l.answer;
      } else this.remove(l.k);
    }
    this.expire(Date.now());
    // Rewritten when mostly dead (expired, dropped): a start costs no fsync otherwise.
    if (this.lines > 2 * this.records.size + 1000) this.compact();
  }

  get size(): number {
    return this.records.size;
  }

  /** What a request with this key should do; a `new` claim is reserved (call begin next). */
  claim(account: string, key: string, hash: string, ids: () => string[]): Claim {
    const k = `${account.toLowerCase()}\n${key}`;
    const now = Date.now();
    this.expire(now);
    const r = this.records.get(k);
    if (r) {
      if (r.h !== hash) return { kind: 'mismatch' };
      const run = this.running.get(k);
      if (run) return { kind: 'running', record: r, result: run.promise };
      if (r.answer) return { kind: 'done', record: r };
      return { kind: 'unresolved', record: r };
    }
    const oldest = (sid?: string): number => {
      for (const x of this.records.values()) if (sid === undefined || x.k.startsWith(`${sid}\n`)) return x.at;
      return now;
    };
    const wait = (at: number): number => Math.max(1, Math.ceil((at + this.o.ttlMs - now) / 1000));
    const sid = account.toLowerCase();
    if ((this.perAccount.get(sid) ?? 0) >= this.o.maxKeysPerAccount)
      return {
        kind: 'full',
        retryAfterS: wait(oldest(sid)),
        why: `this account holds ${this.o.maxKeysPerAccount} idempotency keys (HttpIdempotencyKeysPerAccount)`,
      };
    if (this.records.size >= this.o.maxKeys)
      return {
        kind: 'full',
        retryAfterS: wait(oldest()),
        why: `the server holds ${this.o.maxKeys} idempotency keys (HttpIdempotencyKeys)`,
      };
    const record: KeyRecord = { k, h: hash, at: now, ids: ids() };
    this.insert(record);
    return { kind: 'new', record };
  }

  /** Marks the record as in progress in this run (a concurrent retry waits for it). */
  run(record: KeyRecord): void {
    let resolve: (a: StoredAnswer) => void = () => undefined;
    const promise = new Promise<StoredAnswer>((r) => (resolve = r));
    this.running.set(record.k, { promise, resolve });
  }

  /** Durable `begin` (or, for a resolved old record, nothing new to write): then the store may be used. */
  begin(record: KeyRecord): Promise<void> {
    const line: Line = { op: 'begin', k: record.k, h: record.h, at: record.at, ids: record.ids };
    return this.append(JSON.stringify(line), true);
  }

  /** The answer; waiters get it now, the log later (the `begin` already protects the messages). */
  end(record: KeyRecord, answer: StoredAnswer): void {
    record.answer = answer;
    this.finish(record.k, answer);
    void this.append(JSON.stringify({ op: 'end', k: record.k, answer } satisfies Line), false).catch(
      () => undefined,
    );
  }

  /** Nothing stored: the key is free again (and waiters get this answer). */
  drop(record: KeyRecord, answer: StoredAnswer, durable = true): void {
    this.finish(record.k, answer);
    this.remove(record.k);
    if (durable)
      void this.append(JSON.stringify({ op: 'drop', k: record.k } satisfies Line), false).catch(
        () => undefined,
      );
  }

  /** Not decided after all (the store could not be asked): waiters get `answer`, the key stays as it was. */
  release(record: KeyRecord, answer: StoredAnswer): void {
    this.finish(record.k, answer);
  }

  /** After the last answers' lines are written (bounded wait: what is not, a retry resolves). */
  async close(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.writing && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private finish(k: string, answer: StoredAnswer): void {
    this.running.get(k)?.resolve(answer);
    this.running.delete(k);
  }

  private insert(r: KeyRecord): void {
    if (this.records.has(r.k)) this.remove(r.k);
    this.records.set(r.k, r);
    const sid = r.k.slice(0, r.k.indexOf('\n'));
    this.perAccount.set(sid, (this.perAccount.get(sid) ?? 0) + 1);
  }

  private remove(k: string): void {
    if (!this.records.delete(k)) return;
    const sid = k.slice(0, k.indexOf('\n'));
    const n = (this.perAccount.get(sid) ?? 1) - 1;
    if (n <= 0) this.perAccount.delete(sid);
    else this.perAccount.set(sid, n);
  }

  /** Oldest first (the map keeps insertion order); a key in progress stays until it ends. */
  private expire(now: number): void {
    for (const r of this.records.values()) {
      if (r.at + this.o.ttlMs > now) break;
      if (this.running.has(r.k)) continue;
      this.remove(r.k);
    }
  }

  private append(text: string, durable: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ text, done: durable ? (err) => (err ? reject(err) : resolve()) : undefined });
      if (!durable) resolve();
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** One write and one fdatasync for everything queued meanwhile (group commit). */
  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) {
      this.writing = false;
      return;
    }
    const after = (err?: Error): void => {
      if (err) this.o.log('error', `idempotency keys ${this.o.file}: ${err.message}`);
      for (const b of batch) b.done?.(err);
      this.lines += batch.length;
      if (this.lines > 2 * this.records.size + 1000) this.compact();
      this.flush();
    };
    let fd: number;
    try {
      fd = this.fd ??= fs.openSync(this.o.file, 'a');
    } catch (err) {
      return after(err as Error);
    }
    const data = Buffer.from(batch.map((b) => `${b.text}\n`).join(''));
    // Only a begin needs the disk before its caller goes on; answers and drops ride along with the next.
    const sync = batch.some((b) => b.done !== undefined);
    fs.write(fd, data, (err) => {
      if (err) return after(err);
      if (!sync) return after();
      fs.fdatasync(fd, (e) => after(e ?? undefined));
    });
  }

  /** The live keys into a fresh log; on failure the old log stays (only bigger). */
  private compact(): void {
    const tmp = `${this.o.file}.tmp`;
    try {
      const out: string[] = [];
      for (const r of this.records.values()) {
        out.push(JSON.stringify({ op: 'begin', k: r.k, h: r.h, at: r.at, ids: r.ids } satisfies Line));
        if (r.answer) out.push(JSON.stringify({ op: 'end', k: r.k, answer: r.answer } satisfies Line));
      }
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, out.length > 0 ? `${out.join('\n')}\n` : '');
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      if (this.fd !== undefined) fs.closeSync(this.fd);
      this.fd = undefined;
      fs.renameSync(tmp, this.o.file);
      const dfd = fs.openSync(path.dirname(this.o.file), 'r');
      try {
        fs.fsyncSync(dfd);
      } finally {
        fs.closeSync(dfd);
      }
      this.lines = out.length;
    } catch (err) {
      this.o.log('error', `idempotency keys: rewriting ${this.o.file}: ${(err as Error).message}`);
    }
  }
}

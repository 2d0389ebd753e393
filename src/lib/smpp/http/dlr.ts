import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Logger } from '../../common/log.js';
import { isAbsent, readdirIfExists } from '../../common/absent.js';
import type { DlrReport } from '../store/spool-events.js';
import { SIGNATURE_HEADER, signWebhook } from './sign.js';
import { BatchSync } from './batch-sync.js';

/**
 * Kannel's delivery reports to `dlr-url`: the URL with its escapes expanded when the report
 * arrives, kept in a bounded on-disk queue (one file per call, fsynced before the report counts as
 * taken), called with back-off while the application is down, deleted once it answered 2xx,
 * dead-lettered (moved to `dlr-dead/`, a log line) after too many attempts or too long.
 *
 * Never called twice once it answered 2xx, except after a crash between the answer and the
 * deletion: each attempt is recorded before it is made, so such a repeat is counted at the next
 * start (`repeatedAfterCrash`) and logged.
 */

/** Kannel's dlr-mask bits / %d values. */
export const DLR = { DELIVERED: 1, FAILED: 2, BUFFERED: 4, SMSC_ACK: 8, SMSC_REJECT: 16 } as const;

export interface DlrEvent {
  type: number;
  /** %A: the report's text (the SMSC's receipt, ACK/ or NACK/). */
  text: string;
  at: Date;
  id: string;
  /** %p: the message's sender (Kannel's `from`). */
  from: string;
  /** %P: its receiver. */
  to: string;
  /** %n: the account that sent it. */
  user: string;
  /** %i: the PhoneID (Kannel's smsc-id), when known. */
  smsc?: string;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Kannel's escapes in a dlr-url, each value URL-encoded; an unknown escape stays as it is. */
export function expandDlrUrl(template: string, e: DlrEvent): string {
  const t = e.at;
  const local = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  const plus = (n: string): string => (n.startsWith('00') ? `+${n.slice(2)}` : n);
  const values: Record<string, string> = {
    d: String(e.type),
    A: e.text,
    a: e.text,
    b: e.text,
    p: e.from,
    P: e.to,
    q: plus(e.from),
    Q: plus(e.to),
    t: local,
    T: String(Math.floor(t.getTime() / 1000)),
    I: e.id,
    F: e.id,
    i: e.smsc ?? '',
    n: e.user,
    o: '',
    '%': '%',
  };
  return template.replace(/%(.)/g, (m, c: string) => {
    const v = values[c];
    if (v === undefined) return m;
    return c === '%' ? '%' : encodeURIComponent(v);
  });
}

/** The receipt text Kannel passes in %A for an SMPP SMSC's report. */
export function receiptText(
  id: string,
  delivered: boolean,
  error: number,
  submitted: Date,
  done: Date,
  text: string,
): string {
  const d = (x: Date): string =>
    `${pad(x.getFullYear() % 100)}${pad(x.getMonth() + 1)}${pad(x.getDate())}${pad(x.getHours())}${pad(x.getMinutes())}`;
  return `id:${id} sub:001 dlvrd:${delivered ? '001' : '000'} submit date:${d(submitted)} done date:${d(done)} stat:${delivered ? 'DELIVRD' : 'UNDELIV'} err:${String(error).padStart(3, '0')} text:${text.slice(0, 20)}`;
}

/** The call a message's news makes, if its dlr-mask asks for that kind: Kannel's type and the URL. */
export function dlrCall(r: DlrReport): { key: string; url: string } | undefined {
  const d = r.meta.dlr;
  if (!d) return undefined;
  const type =
    r.kind === 'delivered'
      ? DLR.DELIVERED
      : r.kind === 'sent'
        ? DLR.SMSC_ACK
        : r.kind === 'rejected' && d.mask & DLR.SMSC_REJECT
          ? DLR.SMSC_REJECT
          : DLR.FAILED;
  if ((d.mask & type) === 0) return undefined;
  const text =
    type === DLR.SMSC_ACK
      ? 'ACK/'
      : type === DLR.SMSC_REJECT
        ? `NACK/${r.error}/`
        : receiptText(r.id, type === DLR.DELIVERED, r.error, new Date(r.meta.at), r.done, r.text);
  const url = expandDlrUrl(d.url, {
    type,
    text,
    at: r.done,
    id: r.id,
    from: d.from,
    to: r.to,
    user: d.user,
    ...(r.meta.phone ? { smsc: r.meta.phone } : {}),
  });
  return { key: `dlr:${r.key}`, url };
}

export interface DlrQueueOptions {
  /** `<StateDir>/dlr`; dead letters go to `<StateDir>/dlr-dead`. */
  dir: string;
  /** Calls queued at most; beyond it a report is dead-lettered at once (logged). */
  max: number;
  maxAttempts: number;
  maxAgeMs: number;
  timeoutMs: number;
  /** Wait after the first failure, doubled each time up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Calls in flight at once. */
  concurrency?: number;
  /** The webhook secret of an account, for signed calls (JSON API webhooks); read at each attempt. */
  secret?: (systemId: string) => string | undefined;
  /**
   * At `max`: `dead-letter` (dlr-url: the report is dead-lettered at once, logged) or `refuse`
   * (`add` throws QueueFullError and stores nothing: the caller keeps the event where it is).
   */
  whenFull?: 'dead-letter' | 'refuse';
  /** What a call is called in log lines (`dlr-url`, `get-url`); the queue is `<what> queue`. */
  what?: string;
  log: Logger;
}

/** A request other than a plain GET (MO post-url, webhooks): body base64 in the queue file. */
export interface CallRequest {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer;
  /** The account whose webhook secret signs the body (sign.ts), at each attempt. */
  sign?: string;
}

/** `add` on a full queue with `whenFull: 'refuse'`: nothing was stored. */
export class QueueFullError extends Error {}

interface Entry {
  key: string;
  url: string;
  created: number;
  attempts: number;
  next: number;
  method?: 'POST';
  headers?: Record<string, string>;
  /** base64 */
  body?: string;
  /** Set (durably) before each attempt, cleared when its failure is recorded. */
  trying?: boolean;
  lastError?: string;
  /** The account whose webhook secret signs the body. */
  sign?: string;
}

interface Item {
  file: string;
  e: Entry;
}

export class DlrQueue {
  private readonly items = new Map<string, Item>();
  private readonly deadDir: string;
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private closed = false;
  private started = false;
  private readonly inFlight = new Set<string>();
  /** Keys called successfully in this run: a report seen twice is not called twice. */
  private readonly done = new Set<string>();
  private readonly agent = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  /** Calls written and waiting for the next group flush (addAsync). */
  private readonly syncing = new Map<string, Promise<void>>();
  private readonly batch: BatchSync;
  readonly stats = { delivered: 0, failedAttempts: 0, dead: 0, repeatedAfterCrash: 0, refusedFull: 0 };
  private readonly what: string;
  private readonly queueName: string;

  constructor(private readonly o: DlrQueueOptions) {
    this.deadDir = `${o.dir}-dead`;
    this.batch = new BatchSync(o.dir);
    this.what = o.what ?? 'dlr-url';
    this.queueName = o.what ? `${o.what} queue` : 'dlr queue';
  }

  /** Loads what a previous run left. */
  open(): void {
    fs.mkdirSync(this.o.dir, { recursive: true });
    for (const name of readdirIfExists(this.o.dir) ?? []) {
      if (!name.endsWith('.json')) {
        const marked = name.endsWith(TRYING) ? path.join(this.o.dir, name.slice(0, -TRYING.length)) : '';
        // A temp file, or the attempt marker of a call that is no longer queued.
        if (name.endsWith('.tmp') || (marked && !fs.existsSync(marked)))
          fs.rmSync(path.join(this.o.dir, name), { force: true });
        continue;
      }
      const file = path.join(this.o.dir, name);
      let e: Entry;
      try {
        e = JSON.parse(fs.readFileSync(file, 'utf8')) as Entry;
      } catch (err) {
        if (isAbsent(err)) continue;
        this.o.log(
          'error',
          `${this.queueName}: ${file} unreadable (${(err as Error).message}); moved to ${this.deadDir}`,
        );
        this.moveDead(file);
        continue;
      }
      if (fs.existsSync(file + TRYING)) {
        e.trying = true;
        fs.rmSync(file + TRYING, { force: true });
      }
      if (e.trying) {
        // The last run called it and died before recording the outcome: it may have answered 2xx.
        this.stats.repeatedAfterCrash++;
        this.o.log(
          'warn',
          `${this.what} of ${e.key} may be called a second time (the last run stopped during its call)`,
        );
        e.trying = false;
      }
      this.items.set(e.key, { file, e });
    }
    if (this.items.size > 0)
      this.o.log('info', `${this.queueName}: ${this.items.size} call(s) waiting from the last run`);
  }

  get size(): number {
    return this.items.size;
  }

  /** No room for another call (`add` would refuse or dead-letter it). */
  get full(): boolean {
    return this.items.size >= this.o.max;
  }

  /**
   * Queues a call of `url` for the report `key` (idempotent while queued), group-committed:
   * resolves once the call is durable (one file-system flush for every call added meanwhile); rejects when it cannot be stored (QueueFullError with `refuse`, disk),
   * and then nothing of it is kept. The call may start before it resolves (at least once, as a
   * crash in between makes the caller add it again).
   */
  addAsync(key: string, url: string, request?: CallRequest): Promise<void> {
    const pending = this.syncing.get(key);
    if (pending) return pending;
    if (this.items.has(key) || this.done.has(key)) return Promise.resolve();
    let made: Item | undefined;
    try {
      made = this.make(key, url, request);
      if (!made) return Promise.resolve();
      writeQuickly(made.file, made.e);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const item = made;
    this.items.set(key, item);
    const p = this.batch.sync(item.file).then(
      () => {
        this.syncing.delete(key);
      },
      (err: Error) => {
        this.syncing.delete(key);
        // Not durable: forgotten, so the caller's next add writes it again.
        if (this.items.get(key) === item && !this.inFlight.has(key)) {
          this.items.delete(key);
          fs.rmSync(item.file, { force: true });
        }
        throw err;
      },
    );
    this.syncing.set(key, p);
    this.kick();
    return p;
  }

  /** The entry of a new call, or undefined when the queue is full and it was dead-lettered. */
  private make(key: string, url: string, request?: CallRequest): Item | undefined {
    const now = Date.now();
    const e: Entry = { key, url, created: now, attempts: 0, next: now };
    if (request?.method === 'POST') e.method = 'POST';
    if (request?.headers) e.headers = request.headers;
    if (request?.body) e.body = request.body.toString('base64');
    if (request?.sign !== undefined) e.sign = request.sign;
    const name = `${crypto.createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`;
    if (this.items.size >= this.o.max) {
      if (this.o.whenFull === 'refuse') {
        this.stats.refusedFull++;
        throw new QueueFullError(`${this.queueName} full (${this.o.max} calls waiting)`);
      }
      this.stats.dead++;
      this.o.log(
        'error',
        `${this.queueName} full (${this.o.max} calls waiting): ${this.what} of ${key} dead-lettered unsent: ${url}`,
      );
      fs.mkdirSync(this.deadDir, { recursive: true });
      writeDurably(path.join(this.deadDir, name), { ...e, lastError: 'queue full' });
      return undefined;
    }
    return { file: path.join(this.o.dir, name), e };
  }

  start(): void {
    this.started = true;
    this.kick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + this.o.timeoutMs + 1000;
    while (this.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.agent.http.destroy();
    this.agent.https.destroy();
  }

  /** Starts what is due; sleeps until the next one. */
  private kick(): void {
    if (this.closed || !this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    let next = Infinity;
    const max = this.o.concurrency ?? 8;
    for (const item of this.items.values()) {
      if (this.inFlight.has(item.e.key)) continue;
      if (item.e.next > now) {
        next = Math.min(next, item.e.next);
        continue;
      }
      if (this.running >= max) break;
      this.attempt(item);
    }
    if (next !== Infinity && this.running < max)
      this.timer = setTimeout(() => this.kick(), Math.max(10, next - now));
  }

  private attempt(item: Item): void {
    const { e } = item;
    e.attempts++;
    try {
      // A marker, not fsynced: it only says "this call may have been answered" after a crash
      // (the call is made again either way); an fsync per call would cap the rate at the disk's.
      fs.writeFileSync(item.file + TRYING, '');
    } catch (err) {
      e.attempts--;
      e.next = Date.now() + 5000;
      this.o.log(
        'error',
        `${this.queueName}: cannot record an attempt for ${e.key}: ${(err as Error).message}`,
      );
      return;
    }
    this.running++;
    this.inFlight.add(e.key);
    this.call(e)
      .then(
        () => this.succeeded(item),
        (err: Error) => this.failed(item, err.message),
      )
      .finally(() => {
        this.running--;
        this.inFlight.delete(e.key);
        this.kick();
      });
  }

  private succeeded(item: Item): void {
    this.stats.delivered++;
    this.items.delete(item.e.key);
    this.done.add(item.e.key);
    if (this.done.size > 10_000) this.done.delete(this.done.values().next().value as string);
    fs.rmSync(item.file, { force: true });
    fs.rmSync(item.file + TRYING, { force: true });
    this.o.log('debug', `${this.what} of ${item.e.key} called (attempt ${item.e.attempts})`);
  }

  private failed(item: Item, why: string): void {
    const { e } = item;
    this.stats.failedAttempts++;
    e.trying = false;
    e.lastError = why;
    const age = Date.now() - e.created;
    if (e.attempts >= this.o.maxAttempts || age >= this.o.maxAgeMs) {
      this.stats.dead++;
      this.items.delete(e.key);
      try {
        writeDurably(item.file, e);
        this.moveDead(item.file);
      } catch (err) {
        this.o.log('error', `${this.queueName}: ${item.file}: ${(err as Error).message}`);
      }
      this.o.log(
        'error',
        `${this.what} of ${e.key} dead-lettered after ${e.attempts} attempt(s) over ${Math.round(age / 1000)} s (last: ${why}); kept in ${this.deadDir}`,
      );
      return;
    }
    const first = this.o.firstDelayMs ?? 5000;
    const delay = Math.min(this.o.maxDelayMs ?? 600_000, first * 2 ** (e.attempts - 1));
    // A little jitter, so a recovering application is not hit by every queued call at once.
    e.next = Date.now() + Math.round(delay * (0.9 + Math.random() * 0.2));
    if (e.attempts === 1 || e.attempts % 10 === 0)
      this.o.log(
        'warn',
        `${this.what} of ${e.key} failed (attempt ${e.attempts}): ${why}; again in ${Math.round(delay / 1000)} s`,
      );
    try {
      writeDurably(item.file, e);
      fs.rmSync(item.file + TRYING, { force: true });
    } catch (err) {
      this.o.log('error', `${this.queueName}: ${item.file}: ${(err as Error).message}`);
    }
  }

  private moveDead(file: string): void {
    fs.rmSync(file + TRYING, { force: true });
    fs.mkdirSync(this.deadDir, { recursive: true });
    fs.renameSync(file, path.join(this.deadDir, path.basename(file)));
  }

  /** GET (or the entry's POST); resolves on 2xx, rejects with the reason otherwise. */
  private call(e: Entry): Promise<void> {
    return new Promise((ok, fail) => {
      // The whole call within timeoutMs (`timeout` alone is per silence: an answer dribbled a byte
      // at a time would hold a place for ever).
      const deadline: { timer?: NodeJS.Timeout } = {};
      const resolve = (): void => {
        clearTimeout(deadline.timer);
        ok();
      };
      const reject = (err: Error): void => {
        clearTimeout(deadline.timer);
        fail(err);
      };
      let u: URL;
      try {
        u = new URL(e.url);
      } catch {
        return reject(new Error('not a URL'));
      }
      const body = e.body === undefined ? undefined : Buffer.from(e.body, 'base64');
      const headers: Record<string, string> = {};
      if (e.sign !== undefined) {
        // Signed now, not when queued: the signed time must be fresh for the receiver's replay check.
        const secret = this.o.secret?.(e.sign);
        if (!secret) return reject(new Error(`account ${e.sign} has no webhook secret`));
        headers[SIGNATURE_HEADER] = signWebhook(secret, body ?? '');
      }
      const mod = u.protocol === 'https:' ? https : http;
      const req = mod.request(
        u,
        {
          method: e.method ?? 'GET',
          agent: u.protocol === 'https:' ? this.agent.https : this.agent.http,
          timeout: this.o.timeoutMs,
          headers: { ...e.headers, ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const s = res.statusCode ?? 0;
            if (s >= 200 && s < 300) resolve();
            else reject(new Error(`HTTP ${s}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`)));
      req.on('error', reject);
      deadline.timer = setTimeout(
        () => req.destroy(new Error(`no complete answer within ${this.o.timeoutMs} ms`)),
        this.o.timeoutMs,
      );
      req.end(body);
    });
  }
}

/** Beside a queued call's file while it is being made. */
const TRYING = '.trying';

/** Temp file, rename, no fsync (BatchSync flushes it): a reader sees all of it or nothing. */
function writeQuickly(file: string, e: Entry): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(e));
  fs.renameSync(tmp, file);
}

/** Temp file, fsync, rename: a reader sees the old content or the new, never half. */
function writeDurably(file: string, e: Entry): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(e));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

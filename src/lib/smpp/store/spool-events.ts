import fs from 'node:fs';
import path from 'node:path';
import type { ReportRecord } from '../../spool/reports.js';
import type { Logger } from '../../common/log.js';
import { parseBackup, parseBackupExtensions } from '../../smsbackup/reader.js';
import { decodeOutboxText } from '../../spool/outbox-read.js';
import { INBOX_NAME_RE as INBOX_RE, unescapeNumber } from '../../spool/names.js';
import { readReceivedRecord } from '../../spool/received.js';
import { buildMo, buildReceipt, MESSAGE_STATE, type LongMoMode, type MoBody } from '../protocol/deliver.js';
import type { DeliveryQueue } from './queue.js';
import { META_KEY, messageIdOfName, type SmppMeta } from './store.js';
import { LatencyHistogram } from '../../common/histogram.js';
import { readdirIfExists, readIfExists, statIfExists } from '../../common/absent.js';
import type { EventSource } from './message-store.js';

/**
 * Turns what `smsd run` records in the spool into queued deliver_sm:
 * - `reports/<outbox file>.<part>.json` of a message smppd wrote → a delivery receipt once every
 *   part is delivered (DELIVRD) or one failed (UNDELIV);
 * - `error/<outbox file>` → UNDELIV (the modem never sent it);
 * - `inbox/IN...` → an MO message for the ESME that takes MO.
 * Folders are watched with fs.watch (inotify) and listed again now and then as a fallback.
 * Each event has a key (`receipt:<file>`, `mo:<inbox message>`) so it is queued once.
 */

export interface SpoolEventPaths {
  reports: string;
  inbox: string;
  outbox: string;
  sent: string;
  error: string;
}

export interface SpoolEventsOptions {
  paths: SpoolEventPaths;
  queue: DeliveryQueue;
  /**
   * The account that receives an MO (inbound routes, else the `mo = yes` account), and how it
   * wants long ones. A promise when an outside router decides (HTTP routing); its rejection means
   * "ask again later": the MO stays in the inbox and is tried at the next listing.
   */
  moTarget: (mo: {
    sender: string;
    receiver: string;
    phone: string | undefined;
    text: string;
  }) => MoTarget | undefined | Promise<MoTarget | undefined>;
  /**
   * An MO rule (MoRoutesFile) sends it to a URL: `taken` once the call is durably queued, `later`
   * when it cannot be queued now (queue full, disk): the MO stays in the inbox and is tried at the
   * next listing; `esme` routes it as below.
   */
  moUrl?: (mo: MoForUrl) => 'later' | 'esme' | Promise<'taken' | 'later'>;
  /** A charged message failed for good: give its cost back (prepaid billing). */
  refund?: (systemId: string, messageId: string, cost: number, why: string) => Promise<unknown>;
  /** The account exists (receipts for removed accounts are dropped). */
  knownSystemId: (sid: string) => string | undefined;
  queued: (systemId: string) => void;
  /**
   * A message taken over HTTP with a dlr-url has news (Kannel's delivery reports): queue the call,
   * durably, before the event counts as taken (a promise: once it resolves); a throw or rejection
   * leaves the event for the next listing.
   */
  dlr?: (report: DlrReport) => void | Promise<void>;
  log: Logger;
  rescanMs?: number;
  /**
   * destination_addr of an MO whose receiving number was not recorded (no OwnNumber, no number from
   * the SIM): ESMEs such as Kannel refuse an empty one (ESME_RINVDSTADR).
   */
  moDestination?: (mo: { receiver: string; phone: string | undefined }) => string;
}

/** An MO as the URL rules see it (http/mo-url.ts). */
export interface MoForUrl {
  key: string;
  sender: string;
  receiver: string;
  phone: string | undefined;
  body: MoBody;
  received: Date;
}

/** What a dlr-url call is made of. */
export interface DlrReport {
  key: string;
  id: string;
  to: string;
  meta: SmppMeta;
  /** delivered/failed: the network's report; rejected: the modem could not send it (error/); sent: the modem sent it. */
  kind: 'delivered' | 'failed' | 'rejected' | 'sent';
  error: number;
  done: Date;
  text: string;
}

export interface MoTarget {
  systemId: string;
  longMo: LongMoMode;
}

/** A final outcome of a spool message, on its way to the dlr-url call and the ESME's receipt. */
interface ReceiptEvent {
  name: string;
  key: string;
  id: string;
  meta: SmppMeta;
  text: string;
  state: number;
  error: number;
  done: Date;
  rejected: boolean;
}

/** How long a fresh inbox file waits for smsd run's record of its receiving modem and number. */
const RECORD_WAIT_MS = 3_000;

const REPORT_RE = /^(OUT.*_smpp-[0-9A-Za-z]+\.smsbackup)\.(\d+)\.json$/;

/** An inbox file's identity beside its name: inode and birth time (ns; else modification time). */
export function inboxFileIdentity(file: string): string | undefined {
  try {
    const st = fs.statSync(file, { bigint: true });
    // Birth time where the file system keeps one (a touch does not make it another MO).
    return `${st.ino}.${st.birthtimeNs > 0n ? st.birthtimeNs : st.mtimeNs}`;
  } catch {
    return undefined; // gone meanwhile
  }
}

/** The event key of an MO: its group (inbox name up to the part) and its first file's identity. */
export function moEventKey(group: string, identity: string): string {
  return `mo:${group}#${identity}`;
}

export class SpoolEvents implements EventSource {
  private readonly watchers: fs.FSWatcher[] = [];
  private rescanTimer: NodeJS.Timeout | undefined;
  private readonly moGroups = new Map<string, NodeJS.Timeout>();
  /** Names already dealt with: the periodic listing skips them without hashing keys. */
  private readonly settled = new Set<string>();
  /** MO groups whose target an outside router is deciding. */
  private readonly routing = new Set<string>();
  private closed = false;
  /** submit_sm accepted → delivered to the handset (the receipt's done date), for /metrics. */
  readonly deliveryLatency = new LatencyHistogram();

  constructor(private readonly o: SpoolEventsOptions) {}

  start(): void {
    const { paths, queue } = this.o;
    if (queue.fresh)
      // First start on this spool: what is already there happened before smppd and is not ours to send.
      queue.markTaken([...this.inboxGroups().values()]);
    else {
      // Keys of older versions named the group only (`mo:<group>`): an MO taken under such a key
      // is taken under its new one, so an upgrade sends nothing twice.
      const migrated = [...this.inboxGroups()]
        .filter(([group, key]) => !queue.has(key) && queue.has(`mo:${group}`))
        .map(([, key]) => key);
      if (migrated.length > 0) queue.markTaken(migrated);
    }
    this.compact();
    // sent/ only through events (it can be huge): intermediate notifications are best effort.
    for (const dir of [paths.reports, paths.error, paths.inbox, paths.sent]) {
      try {
        const w = fs.watch(dir, (_event, name) => {
          if (name) this.handle(dir, name.toString());
        });
        w.on('error', (err) => this.o.log('warn', `watching ${dir}: ${err.message}`));
        this.watchers.push(w);
      } catch (err) {
        this.o.log('warn', `cannot watch ${dir}: ${(err as Error).message}; listing it every few seconds`);
      }
    }
    this.rescan();
  }

  private list(dir: string): string[] {
    return (readdirIfExists(dir) ?? []).filter((n) => !n.startsWith('.'));
  }

  private rescan(): void {
    if (this.closed) return;
    const { paths } = this.o;
    const present = new Set<string>();
    for (const dir of [paths.reports, paths.error, paths.inbox])
      for (const n of this.list(dir)) {
        this.handle(dir, n);
        const k = dir === paths.inbox ? this.inboxKey(n) : n;
        if (k !== undefined && this.settled.has(k)) present.add(k);
      }
    // Forget names that left the folders: `settled` stays as big as the folders, not their history.
    for (const n of this.settled) if (!present.has(n)) this.settled.delete(n);
    if (this.o.queue.needsCompaction()) this.compact();
    this.rescanTimer = setTimeout(() => this.rescan(), this.o.rescanMs ?? 5_000);
    this.rescanTimer.unref();
  }

  /** Keys that the folders listed again and again can still produce (see DeliveryQueue.compact). */
  private *liveKeys(): Generator<string> {
    const { paths } = this.o;
    for (const n of this.list(paths.reports)) {
      const file = REPORT_RE.exec(n)?.[1];
      if (file) yield `receipt:${file}`;
    }
    for (const n of this.list(paths.error)) yield `receipt:${n}`;
    yield* this.inboxGroups().values();
  }

  private compact(): void {
    try {
      const { kept, dropped } = this.o.queue.compact(this.liveKeys());
      if (dropped > 0) this.o.log('debug', `done.log compacted: ${kept} events kept, ${dropped} forgotten`);
    } catch (err) {
      // The old done.log stays whole: nothing is lost, it is only bigger.
      this.o.log('error', `compacting done.log: ${(err as Error).message}`);
    }
  }

  private handle(dir: string, name: string): void {
    if (this.closed) return;
    try {
      const { paths } = this.o;
      if (this.settled.has(name)) return;
      if (dir === paths.reports) this.onReport(name);
      else if (dir === paths.error) this.onError(name);
      else if (dir === paths.sent) this.onSent(name);
      else if (dir === paths.inbox) this.onInbox(name);
    } catch (err) {
      // Logged once: the periodic listing would otherwise repeat it every few seconds.
      this.settled.add(name);
      this.o.log('error', `spool event ${path.join(dir, name)}: ${(err as Error).message}; skipped`);
    }
  }

  /** The message file, wherever `smsd run` has moved it, with smppd's metadata. */
  private messageFile(name: string): { meta: SmppMeta; text: string } | undefined {
    const { paths } = this.o;
    for (const d of [paths.sent, paths.error, paths.outbox]) {
      const content = readIfExists(path.join(d, name));
      if (!content) continue;
      const raw = parseBackupExtensions(content)[META_KEY];
      if (!raw) return undefined;
      const meta = JSON.parse(raw) as SmppMeta;
      let text = '';
      try {
        text = parseBackup(content)
          .map((e) => e.text)
          .join('');
      } catch {
        // unparsable (parsing only): the receipt goes out without its text excerpt
      }
      return { meta, text };
    }
    return undefined;
  }

  private queueReceipt(name: string, state: number, error: number, done: Date, rejected = false): void {
    const key = `receipt:${name}`;
    if (this.o.queue.has(key)) return;
    const id = messageIdOfName(name);
    const file = this.messageFile(name);
    if (!id || !file) {
      this.o.log('warn', `receipt for ${name}: the message file with smppd's data is gone; no receipt`);
      this.o.queue.markTaken([key]);
      return;
    }
    const { meta, text } = file;
    const event: ReceiptEvent = { name, key, id, meta, text, state, error, done, rejected };
    if (state === MESSAGE_STATE.UNDELIVERABLE && meta.cost && this.o.refund) {
      // The refund is durable before the event counts as taken: a crash in between refunds again
      // at most in memory (the ledger remembers refunded IDs), never loses the refund.
      this.o
        .refund(meta.sid, id, meta.cost, `${name} failed (error ${error})`)
        .catch((err: Error) => this.o.log('error', `refund of ${id}: ${err.message}`))
        .finally(() => this.takeReceipt(event));
      return;
    }
    this.takeReceipt(event);
  }

  private takeReceipt(event: ReceiptEvent): void {
    const { name, key, id, meta, text, state, error, done, rejected } = event;
    if (this.closed || this.o.queue.has(key)) return;
    if ((meta.dlr || meta.hook) && this.o.dlr) {
      const kind = state === MESSAGE_STATE.DELIVERED ? 'delivered' : rejected ? 'rejected' : 'failed';
      // Not taken when it fails: the next listing tries again (a full or read-only disk must not lose the report).
      const notQueued = (err: Error): void =>
        this.o.log('error', `dlr-url call for ${id} not queued: ${err.message}; trying again later`);
      let queued: void | Promise<void>;
      try {
        queued = this.o.dlr({
          key,
          id,
          to: unescapeNumber(name.split('_')[3] ?? ''),
          meta,
          kind,
          error,
          done,
          text,
        });
      } catch (err) {
        return notQueued(err as Error);
      }
      if (queued instanceof Promise) {
        queued.then(() => this.finishReceipt(event), notQueued);
        return;
      }
    }
    this.finishReceipt(event);
  }

  /** The receipt for the ESME, once the dlr-url call (if any) is durable. */
  private finishReceipt({ name, key, id, meta, text, state, error, done }: ReceiptEvent): void {
    if (this.closed || this.o.queue.has(key)) return;
    if (state === MESSAGE_STATE.DELIVERED)
      this.deliveryLatency.observe((done.getTime() - Date.parse(meta.at)) / 1000);
    const wanted = meta.rd === 1 || (meta.rd === 2 && state !== MESSAGE_STATE.DELIVERED);
    const sid = this.o.knownSystemId(meta.sid);
    if (!wanted || !sid) {
      this.o.queue.markTaken([key]);
      return;
    }
    const number = name.split('_')[3];
    const pdu = buildReceipt({
      messageId: id,
      recipient: unescapeNumber(number ?? ''),
      esmeAddress: meta.src,
      state,
      submitted: new Date(meta.at),
      done,
      error,
      text,
    });
    if (this.o.queue.add(sid, { key, kind: 'receipt', pdus: [pdu.toString('hex')] })) {
      this.o.log(
        'info',
        `Receipt for ${id} (${state === MESSAGE_STATE.DELIVERED ? 'DELIVRD' : 'UNDELIV'}) queued for ${sid}`,
      );
      this.o.queued(sid);
    }
  }

  private onReport(name: string): void {
    const m = REPORT_RE.exec(name);
    const file = m?.[1];
    if (!file || this.o.queue.has(`receipt:${file}`)) {
      this.settled.add(name);
      return;
    }
    const read = (part: number): ReportRecord | undefined => {
      const text = readIfExists(
        path.join(this.o.paths.reports, `${file}.${String(part).padStart(2, '0')}.json`),
        'utf8',
      );
      try {
        return text === undefined ? undefined : (JSON.parse(text) as ReportRecord);
      } catch {
        // not a report (parsing only; report files are replaced whole): as if not there yet
        return undefined;
      }
    };
    const first = read(Number(m[2]));
    if (!first) return;
    const parts = Array.from({ length: Math.max(1, first.parts || 1) }, (_, i) => read(i + 1));
    const failed = parts.find((p) => p?.category === 'failed');
    if (failed)
      return this.queueReceipt(
        file,
        MESSAGE_STATE.UNDELIVERABLE,
        failed.status,
        new Date(failed.dischargedAt),
      );
    if (parts.every((p) => p?.category === 'delivered')) {
      const last = parts.map((p) => Date.parse(p?.dischargedAt ?? '')).reduce((a, b) => Math.max(a, b), 0);
      this.queueReceipt(file, MESSAGE_STATE.DELIVERED, 0, new Date(last || Date.now()));
    }
  }

  /** The modem has sent it (smsd run moved it to sent/): ENROUTE, if the ESME asked for it. */
  private onSent(name: string): void {
    const id = messageIdOfName(name);
    const key = `enroute:${name}`;
    if (!id || this.o.queue.has(key) || this.o.queue.has(`receipt:${name}`)) return;
    const file = this.messageFile(name);
    if (file?.meta.dlr && this.o.dlr && (file.meta.dlr.mask & 8) !== 0) {
      const failed = (err: Error): void =>
        this.o.log('error', `dlr-url call (sent) for ${id} not queued: ${err.message}`);
      try {
        // Best effort, as the ENROUTE below: watched through events only.
        this.o
          .dlr({
            key: `sent:${name}`,
            id,
            to: unescapeNumber(name.split('_')[3] ?? ''),
            meta: file.meta,
            kind: 'sent',
            error: 0,
            done: new Date(),
            text: file.text,
          })
          ?.catch(failed);
      } catch (err) {
        failed(err as Error);
      }
    }
    const sid = file?.meta.inter ? this.o.knownSystemId(file.meta.sid) : undefined;
    if (!file || !sid) return;
    const pdu = buildReceipt(
      {
        messageId: id,
        recipient: unescapeNumber(name.split('_')[3] ?? ''),
        esmeAddress: file.meta.src,
        state: MESSAGE_STATE.ENROUTE,
        submitted: new Date(file.meta.at),
        done: new Date(),
        error: 0,
        text: file.text,
      },
      true,
    );
    if (this.o.queue.add(sid, { key, kind: 'receipt', pdus: [pdu.toString('hex')] })) {
      this.o.log('info', `Intermediate notification (ENROUTE) for ${id} queued for ${sid}`);
      this.o.queued(sid);
    }
  }

  private onError(name: string): void {
    if (!messageIdOfName(name) || this.o.queue.has(`receipt:${name}`)) {
      this.settled.add(name);
      return;
    }
    if (!fs.existsSync(path.join(this.o.paths.error, name))) return;
    this.queueReceipt(name, MESSAGE_STATE.UNDELIVERABLE, 0, new Date(), true);
  }

  /**
   * What an inbox file is: its name, inode and creation time (ns). Names come back (a file
   * removed once handled, another MO later under the same name), so a name alone is no identity.
   */
  private inboxKey(name: string): string | undefined {
    const id = inboxFileIdentity(path.join(this.o.paths.inbox, name));
    return id === undefined ? undefined : `${name}@${id}`;
  }

  private youngerThan(name: string, ms: number): boolean {
    const st = statIfExists(path.join(this.o.paths.inbox, name));
    return st !== undefined && Date.now() - st.mtimeMs < ms;
  }

  /** The inbox as listed in this turn of the event loop (a thousand MO at once list it once). */
  private inboxNames(): string[] {
    if (!this.inboxListing) {
      this.inboxListing = this.list(this.o.paths.inbox).sort();
      setImmediate(() => (this.inboxListing = undefined));
    }
    return this.inboxListing;
  }
  private inboxListing: string[] | undefined;

  /** The event key of each MO in the inbox: its group (name up to the part) and its first file's identity. */
  private inboxGroups(): Map<string, string> {
    const out = new Map<string, string>();
    for (const n of this.inboxNames()) {
      const group = INBOX_RE.exec(n)?.[1];
      if (!group || out.has(group)) continue;
      const k = this.inboxKey(n);
      if (k) out.set(group, moEventKey(group, k.slice(k.indexOf('@') + 1)));
    }
    return out;
  }

  /** Parts of one received message share the name up to `_<part>`: wait until they have all settled. */
  private onInbox(name: string): void {
    const group = INBOX_RE.exec(name)?.[1];
    if (!group) {
      this.settled.add(name);
      return;
    }
    const k = this.inboxKey(name);
    if (!k || this.settled.has(k)) return;
    if (this.moGroups.has(group) || this.routing.has(group)) return;
    this.queueMoLater(group);
  }

  private queueMoLater(group: string, ms = 300): void {
    const t = setTimeout(() => {
      this.moGroups.delete(group);
      try {
        this.queueMo(group);
      } catch (err) {
        this.o.log('error', `MO ${group}: ${(err as Error).message}`);
      }
    }, ms);
    this.moGroups.set(group, t);
  }

  private queueMo(group: string): void {
    const files = this.inboxNames().filter(
      (n) => n.startsWith(`${group}_`) && INBOX_RE.exec(n)?.[1] === group,
    );
    const firstKey = files[0] === undefined ? undefined : this.inboxKey(files[0]);
    if (!firstKey) return;
    const key = moEventKey(group, firstKey.slice(firstKey.indexOf('@') + 1));
    /** This MO's files are dealt with: listings skip them until they change or leave. */
    const settle = (): void => {
      for (const f of files) {
        const k = this.inboxKey(f);
        if (k) this.settled.add(k);
      }
    };
    if (this.o.queue.has(key)) return settle();
    let sender = unescapeNumber(INBOX_RE.exec(files[0] ?? '')?.[2] ?? '');
    const received = readReceivedRecord(this.o.paths.inbox, files[0] ?? '');
    // smsd run writes the record just after publishing the inbox file: a fresh file without one
    // waits for it (a file from another writer, e.g. Gammu, never gets one and goes after the wait).
    if (!received && this.youngerThan(files[0] ?? '', RECORD_WAIT_MS)) return this.queueMoLater(group, 200);
    const receiver = received?.receiver ?? '';
    let body: MoBody;
    const contents = files.map((f) => fs.readFileSync(path.join(this.o.paths.inbox, f)));
    const first = contents[0] ?? Buffer.alloc(0);
    if (first.subarray(0, 64).toString('latin1').startsWith('; This file format was designed for Gammu')) {
      // InboxFormat = detail: one SMS-backup file with every part.
      const entries = parseBackup(first);
      sender = entries[0]?.number ?? sender;
      body = entries.some((e) => e.coding === '8bit')
        ? { kind: 'data', data: Buffer.concat(entries.map((e) => e.data ?? Buffer.alloc(0))) }
        : { kind: 'text', text: entries.map((e) => e.text).join('') };
    } else if (files[0]?.endsWith('.bin')) {
      body = { kind: 'data', data: Buffer.concat(contents) };
    } else {
      body = { kind: 'text', text: contents.map((c) => decodeOutboxText(c)).join('') };
    }
    const mo = {
      sender,
      receiver,
      phone: received?.phoneId,
      text: body.kind === 'text' ? body.text : '',
    };
    const byUrl = this.o.moUrl?.({ key, sender, receiver, phone: mo.phone, body, received: new Date() });
    if (byUrl === 'later') return; // not settled: the next listing tries again
    if (byUrl instanceof Promise) {
      // Taken once the call is durable (group commit); `later`: the next listing tries again.
      this.routing.add(group);
      byUrl.then(
        (r) => {
          this.routing.delete(group);
          if (r === 'later' || this.closed) return;
          this.o.queue.markTaken([key]);
          settle();
        },
        () => this.routing.delete(group),
      );
      return;
    }
    const target = this.o.moTarget(mo);
    if (!(target instanceof Promise)) {
      this.queueMoFor(key, group, mo, body, target);
      return settle();
    }
    this.routing.add(group);
    target.then(
      (t) => {
        this.routing.delete(group);
        if (!this.closed && !this.o.queue.has(key)) this.queueMoFor(key, group, mo, body, t);
        settle();
      },
      (err: Error) => {
        this.routing.delete(group);
        this.o.log('debug', `MO ${group}: ${err.message}; tried again later`);
      },
    );
  }

  private queueMoFor(
    key: string,
    group: string,
    mo: { sender: string; receiver: string; phone: string | undefined },
    body: MoBody,
    target: MoTarget | undefined,
  ): void {
    const { sender, receiver } = mo;
    if (!target) {
      this.o.log(
        'info',
        `MO ${group} from ${sender} to ${receiver || '?'} (phone ${mo.phone || '?'}): no inbound route and no account with mo = yes; not delivered over SMPP`,
      );
      this.o.queue.markTaken([key]);
      return;
    }
    const pdus = buildMo(sender, receiver || this.o.moDestination?.(mo) || '', body, target.longMo);
    if (this.o.queue.add(target.systemId, { key, kind: 'mo', pdus: pdus.map((p) => p.toString('hex')) })) {
      this.o.log('info', `MO from ${sender} (${group}) queued for ${target.systemId}`);
      this.o.queued(target.systemId);
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.close();
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    for (const t of this.moGroups.values()) clearTimeout(t);
  }
}

import type { Logger } from '../../common/log.js';
import { num, str } from '../../services/sql/rows.js';
import { parseUdh } from '../../sms/udh.js';
import { buildMo, type MoBody } from '../protocol/deliver.js';
import type { DeliveryQueue } from '../store/queue.js';
import { SMPPD_TABLES, type SmppdDb } from './db.js';
import { insertIgnore } from './dialect.js';
import type { MoTarget, SpoolEventsOptions } from '../store/spool-events.js';

/**
 * MO from Gammu's SQL `inbox`: rows above this node's watermark (kept in smppd_state) are read by
 * primary key a page at a time, the parts of a long message joined (schema 18: MessageID,
 * SequencePosition, PartCount; schema 17: the concatenation header in UDH), routed like spool MO
 * (`moTarget` with the receiving PhoneID, RecipientID) and queued with key `mo:sql:<inbox ID>`.
 *
 * `smsd run` stores all parts of a message in one transaction, so a message is complete once any of
 * its rows is visible. IDs can become visible out of order (two daemons inserting at once), so the
 * watermark stops at a gap until the gap is GAP_MS old; rows beyond it are handled meanwhile (their
 * queue keys make the second reading a no-op). Several smppd on one database take each message once
 * through a row in smppd_mo.
 */

export interface SqlMoOptions {
  db: SmppdDb;
  queue: DeliveryQueue;
  /** As in spool-events.ts: a promise when an outside router decides; a rejection means "later". */
  moTarget: SpoolEventsOptions['moTarget'];
  queued: (systemId: string) => void;
  /** As in spool-events.ts: an MO rule sends it to a URL (`later`: the rows wait). */
  moUrl?: SpoolEventsOptions['moUrl'];
  log: Logger;
  /** destination_addr of an MO whose receiving number is unknown (see spool-events.ts). */
  moDestination?: SpoolEventsOptions['moDestination'];
}

const PAGE = 200;
/** A missing inbox ID this old is a rolled-back insert, not a transaction still running. */
const GAP_MS = 10_000;

interface InboxRow {
  id: number;
  sender: string;
  recipient: string;
  coding: string;
  textHex: string;
  text: string;
  udh: string;
  /** Schema 18 multipart metadata (0 / 1 / 1 for single messages or schema 17). */
  messageId: number;
  seq: number;
  count: number;
}

interface Group {
  /** The queue key's number: the first stored part's ID. */
  id: number;
  rows: InboxRow[];
  total: number;
  /** Schema 18 group: all its rows can be read by MessageID. */
  byMessageId: boolean;
}

function concatOf(udhHex: string): { ref: number; total: number; seq: number } | undefined {
  if (!udhHex) return undefined;
  try {
    const c = parseUdh(Buffer.from(udhHex, 'hex')).find((e) => e.kind === 'concat');
    return c && c.kind === 'concat' ? { ref: c.ref, total: c.total, seq: c.seq } : undefined;
  } catch {
    // a malformed UDH (parsing only, no I/O): the part is taken as a whole message
    return undefined;
  }
}

export class SqlMo {
  private watermark: number | undefined;
  /** First ID of a gap → when it was first seen. */
  private readonly gaps = new Map<number, number>();
  /** Groups another node took (not asked again while they stay above the watermark). */
  private readonly foreign = new Set<number>();

  constructor(private readonly o: SqlMoOptions) {}

  private get stateKey(): string {
    return `inbox:${this.o.db.node}`;
  }

  private get v18(): boolean {
    return this.o.db.svc.schemaVersion >= 18;
  }

  /** Reads the watermark; the first start takes what is already in the inbox as not ours to deliver. */
  private async init(): Promise<number> {
    const { db } = this.o;
    const f = (n: string): string => db.f(n);
    const r = await db.query(`SELECT ${f('value')} FROM ${SMPPD_TABLES.state} WHERE ${f('name')} = ?`, [
      this.stateKey,
    ]);
    if (r.rows[0]) return num(r.rows[0][0], 0);
    const max = Math.max(
      0,
      num((await db.query(`SELECT MAX(${f('ID')}) FROM ${db.tables.inbox}`)).rows[0]?.[0], 0),
    );
    await db.query(`INSERT INTO ${SMPPD_TABLES.state} (${f('name')}, ${f('value')}) VALUES (?, ?)`, [
      this.stateKey,
      max,
    ]);
    this.o.log('info', `SQL inbox: first start, MO from inbox ID ${max + 1} on go to the ESMEs`);
    return max;
  }

  private columns(): string {
    const cols = ['ID', 'SenderNumber', 'RecipientID', 'Coding', 'Text', 'TextDecoded', 'UDH'];
    if (this.v18) cols.push('MessageID', 'SequencePosition', 'PartCount');
    return cols.map((c) => this.o.db.f(c)).join(', ');
  }

  private row(r: readonly unknown[]): InboxRow {
    return {
      id: num(r[0]),
      sender: str(r[1]),
      recipient: str(r[2]),
      coding: str(r[3]),
      textHex: str(r[4]),
      text: str(r[5]),
      udh: str(r[6]),
      messageId: this.v18 ? num(r[7], 0) : 0,
      seq: this.v18 ? num(r[8], 1) : 1,
      count: this.v18 ? num(r[9], 1) : 1,
    };
  }

  /** One page of new inbox rows; true when it was full. */
  async poll(): Promise<boolean> {
    this.watermark ??= await this.init();
    const { db } = this.o;
    const r = await db.query(
      `SELECT ${this.columns()} FROM ${db.tables.inbox} WHERE ${db.f('ID')} > ? ORDER BY ${db.f('ID')} LIMIT ${PAGE}`,
      [this.watermark],
    );
    const rows = r.rows.map((x) => this.row(x));
    const full = rows.length === PAGE;
    const deferred = new Set<number>();
    for (const g of this.group(rows)) {
      if (new Set(g.rows.map((x) => x.seq)).size < g.total) {
        if (g.byMessageId) g.rows = await this.partsOf(g.id);
        // Its other parts may be on the next page: wait for them (the daemon commits them together).
        else if (full) {
          for (const x of g.rows) deferred.add(x.id);
          continue;
        }
      }
      // The router could not say (HTTP routing down): the rows wait, the watermark stops there.
      if (!(await this.deliver(g))) for (const x of g.rows) deferred.add(x.id);
    }
    await this.advance(
      rows.map((x) => x.id),
      deferred,
    );
    return full;
  }

  private group(rows: readonly InboxRow[]): Group[] {
    const groups = new Map<string, Group>();
    for (const row of rows) {
      let key: string;
      let g: Omit<Group, 'rows'>;
      const concat = row.count > 1 ? undefined : concatOf(row.udh);
      if (row.count > 1 && row.messageId > 0) {
        key = `m:${row.messageId}`;
        g = { id: row.messageId, total: row.count, byMessageId: true };
      } else if (concat && concat.total > 1) {
        // Schema 17: the parts of one message share sender, receiving modem, reference and count.
        key = `u:${row.sender}|${row.recipient}|${concat.ref}|${concat.total}`;
        row.seq = concat.seq;
        g = { id: row.id, total: concat.total, byMessageId: false };
      } else {
        key = `s:${row.id}`;
        g = { id: row.id, total: 1, byMessageId: false };
      }
      const have = groups.get(key);
      if (have) have.rows.push(row);
      else groups.set(key, { ...g, rows: [row] });
    }
    return [...groups.values()];
  }

  private async partsOf(messageId: number): Promise<InboxRow[]> {
    const { db } = this.o;
    const r = await db.query(
      `SELECT ${this.columns()} FROM ${db.tables.inbox} WHERE ${db.f('MessageID')} = ? ORDER BY ${db.f('SequencePosition')}`,
      [messageId],
    );
    return r.rows.map((x) => this.row(x));
  }

  /** True when this node takes the message (or took it before a crash). */
  private async claim(id: number): Promise<boolean> {
    const { db } = this.o;
    const f = (n: string): string => db.f(n);
    const insert = insertIgnore(db.dialect, SMPPD_TABLES.mo, `${f('inbox_id')}, ${f('node')}`, '(?, ?)');
    if ((await db.query(insert, [id, db.node])).affectedRows > 0) return true;
    const r = await db.query(`SELECT ${f('node')} FROM ${SMPPD_TABLES.mo} WHERE ${f('inbox_id')} = ?`, [id]);
    return str(r.rows[0]?.[0]) === db.node;
  }

  /** False when the MO must be tried again later (its router did not answer). */
  private async deliver(g: Group): Promise<boolean> {
    const key = `mo:sql:${g.id}`;
    const { queue } = this.o;
    if (queue.has(key) || this.foreign.has(g.id)) return true;
    if (!(await this.claim(g.id))) {
      this.foreign.add(g.id);
      return true;
    }
    const parts = [...g.rows].sort((a, b) => a.seq - b.seq || a.id - b.id);
    const first = parts[0];
    if (!first) return true;
    const body: MoBody =
      first.coding === '8bit'
        ? { kind: 'data', data: Buffer.concat(parts.map((p) => Buffer.from(p.textHex, 'hex'))) }
        : { kind: 'text', text: parts.map((p) => p.text).join('') };
    const sender = first.sender;
    const phone = first.recipient || undefined;
    const asked = this.o.moUrl?.({ key, sender, receiver: '', phone, body, received: new Date() });
    const byUrl = asked instanceof Promise ? await asked : asked;
    if (byUrl === 'later') return false;
    if (byUrl === 'taken') {
      queue.markTaken([key]);
      return true;
    }
    let target: MoTarget | undefined;
    try {
      target = await this.o.moTarget({
        sender,
        receiver: '',
        phone,
        text: body.kind === 'text' ? body.text : '',
      });
    } catch (err) {
      this.o.log(
        'warn',
        `MO inbox ${g.id} from ${sender}: routing failed (${(err as Error).message}); tried again later`,
      );
      return false;
    }
    if (!target) {
      this.o.log(
        'info',
        `MO inbox ${g.id} from ${sender} (phone ${phone ?? '?'}): no inbound route and no account with mo = yes; not delivered over SMPP`,
      );
      queue.markTaken([key]);
      return true;
    }
    // Gammu's inbox table has no receiving number: the documented default (never empty).
    const pdus = buildMo(sender, this.o.moDestination?.({ receiver: '', phone }) ?? '', body, target.longMo);
    if (queue.add(target.systemId, { key, kind: 'mo', pdus: pdus.map((p) => p.toString('hex')) })) {
      this.o.log(
        'info',
        `MO from ${sender} (inbox ${g.id}, ${parts.length} part(s)) queued for ${target.systemId}`,
      );
      this.o.queued(target.systemId);
    }
    return true;
  }

  /** Moves the watermark over the IDs handled, up to the first young gap or deferred row. */
  private async advance(ids: readonly number[], deferred: ReadonlySet<number>): Promise<void> {
    const start = this.watermark ?? 0;
    let w = start;
    const now = Date.now();
    for (const id of ids) {
      if (deferred.has(id)) break;
      if (id !== w + 1) {
        const seen = this.gaps.get(w + 1) ?? now;
        this.gaps.set(w + 1, seen);
        if (now - seen < GAP_MS) break;
      }
      w = id;
    }
    if (w === start) return;
    for (const k of this.gaps.keys()) if (k <= w) this.gaps.delete(k);
    for (const k of this.foreign) if (k <= w) this.foreign.delete(k);
    const { db } = this.o;
    await db.query(`UPDATE ${SMPPD_TABLES.state} SET ${db.f('value')} = ? WHERE ${db.f('name')} = ?`, [
      w,
      this.stateKey,
    ]);
    this.watermark = w;
  }
}

import fs from 'node:fs';
import path from 'node:path';
import type { DeliverPdu } from '../sms/deliver.js';
import type { Scts } from '../sms/scts.js';
import { concatInfo, parseUdh, type ConcatInfo } from '../sms/udh.js';
import { localBackupDate } from '../smsbackup/writer.js';
import { replaceFileDurable } from '../spool/atomic.js';
import type { OutletMo, OutletReport } from '../outlets/types.js';
import type { InboxMessage } from '../services/types.js';

/** An outlet's MO part in the shape the inbox writers take (what a modem's SMS-DELIVER decodes to). */
export function moAsDeliver(mo: OutletMo): DeliverPdu {
  const at = new Date(mo.receivedAt);
  const { utc: _utc, ...local } = localBackupDate(at);
  const scts: Scts = { date: at, tzMinutes: -at.getTimezoneOffset(), local };
  const intl = mo.from.startsWith('+');
  const alpha = !/^\+?\d*$/.test(mo.from);
  const ton = intl ? 1 : alpha ? 5 : 0;
  const npi = alpha ? 0 : 1;
  const udh = mo.udh ? Buffer.from(mo.udh) : undefined;
  const udhElements = udh && udh.length > 1 ? safeParseUdh(udh) : undefined;
  let concat: ConcatInfo | undefined = udhElements ? concatInfo(udhElements) : undefined;
  if (!concat && mo.sar)
    concat = { ref: mo.sar.reference, total: mo.sar.total, seq: mo.sar.sequence, ref16bit: true };
  const alphabet = mo.coding === 'gsm' ? 'gsm7' : mo.coding === 'ucs2' ? 'ucs2' : '8bit';
  const text = mo.text;
  const data = mo.data ? Buffer.from(mo.data) : undefined;
  return {
    type: 'deliver',
    tpduLength: 0,
    firstOctet: udh ? 0x40 : 0,
    flags: {
      mms: false,
      loopPrevention: false,
      statusReportIndication: false,
      udhi: !!udh,
      replyPath: false,
    },
    originator: { number: mo.from, toa: 0x80 | (ton << 4) | npi, ton, npi },
    pid: 0,
    dcs: {
      raw: alphabet === 'ucs2' ? 8 : alphabet === '8bit' ? 4 : 0,
      alphabet,
      messageClass: -1,
      compressed: false,
    },
    coding: alphabet,
    messageClass: -1,
    scts,
    udl: text !== undefined ? text.length : (data?.length ?? 0),
    ...(udh ? { udh } : {}),
    ...(udhElements ? { udhElements } : {}),
    ...(concat ? { concat } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(data ? { data } : {}),
  };
}

const STATUS_WORD: Record<OutletReport['state'], string> = {
  delivered: 'Delivered',
  accepted: 'Pending',
  enroute: 'Pending',
  expired: 'Failed',
  deleted: 'Failed',
  undeliverable: 'Failed',
  rejected: 'Failed',
  unknown: 'Unknown',
};

/**
 * A receipt as Gammu stores a status report with DeliveryReport = sms: a text message from the
 * recipient whose text is the status word (Delivered, Failed, Pending, Unknown), stamped with the
 * network's time of the report.
 */
export function reportAsInboxMessage(r: OutletReport, recipient: string): InboxMessage {
  const text = STATUS_WORD[r.state];
  const pdu = moAsDeliver({ from: recipient, to: '', coding: 'gsm', text, receivedAt: r.at });
  return { parts: [pdu], complete: true, text };
}

function safeParseUdh(b: Buffer) {
  try {
    return parseUdh(b);
  } catch {
    return undefined;
  }
}

interface StoredMo extends Omit<OutletMo, 'data' | 'udh' | 'receivedAt'> {
  data?: string;
  udh?: string;
  receivedAt: string;
}

/** Longest a partial message is kept apart from the inbox (then stored incomplete). */
const MAX_PENDING_GROUPS = 10_000;

/**
 * Parts of concatenated MO waiting for the rest. A modem leaves them on the SIM until the message
 * is whole; an SMSC forgets a part once we answer its deliver_sm, so each part is written here
 * (fsync) before that answer, and the whole message goes to the inbox when its last part comes,
 * or incomplete after MultipartTimeout. Bounded: beyond MAX_PENDING_GROUPS the oldest group is
 * stored incomplete at once.
 */
export class MoParts {
  private readonly groups = new Map<string, { first: number; parts: Map<number, OutletMo> }>();

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const s = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as StoredMo;
        this.put(revive(s), false);
      } catch {
        // a torn file from a crash before its rename: never acknowledged, the SMSC sends it again
      }
    }
  }

  static key(mo: OutletMo, c: ConcatInfo): string {
    return `${mo.from}|${c.ref16bit ? 16 : 8}|${c.ref}|${c.total}`;
  }

  /** Stores one part durably; returns the whole message's parts once every part is there. */
  put(mo: OutletMo, durable = true): { key: string; parts: OutletMo[] } | undefined {
    const c = moAsDeliver(mo).concat as ConcatInfo;
    const key = MoParts.key(mo, c);
    let g = this.groups.get(key);
    if (!g) {
      g = { first: Date.now(), parts: new Map() };
      this.groups.set(key, g);
    }
    if (durable) {
      const file = path.join(this.dir, `${fileSafe(key)}.${c.seq}.json`);
      replaceFileDurable(file, Buffer.from(JSON.stringify(store(mo))));
    }
    g.parts.set(c.seq, mo);
    if (g.parts.size >= c.total) return { key, parts: this.ordered(g.parts) };
    return undefined;
  }

  /** Groups past `timeoutMs` (or beyond the bound), to be stored incomplete. */
  due(timeoutMs: number, now = Date.now()): { key: string; parts: OutletMo[] }[] {
    const out: { key: string; parts: OutletMo[] }[] = [];
    let over = this.groups.size - MAX_PENDING_GROUPS;
    for (const [key, g] of this.groups)
      if (now - g.first >= timeoutMs || over-- > 0) out.push({ key, parts: this.ordered(g.parts) });
    return out;
  }

  /** After the inbox copy is durable. */
  forget(key: string): void {
    const g = this.groups.get(key);
    this.groups.delete(key);
    if (!g) return;
    for (const seq of g.parts.keys())
      fs.rmSync(path.join(this.dir, `${fileSafe(key)}.${seq}.json`), { force: true });
  }

  get size(): number {
    return this.groups.size;
  }

  private ordered(parts: Map<number, OutletMo>): OutletMo[] {
    return [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
  }
}

function fileSafe(key: string): string {
  return key.replace(/[^\w+-]/g, '_');
}

function store(mo: OutletMo): StoredMo {
  const { data: _d, udh: _u, ...rest } = mo;
  return {
    ...rest,
    receivedAt: new Date(mo.receivedAt).toISOString(),
    ...(mo.data ? { data: Buffer.from(mo.data).toString('hex') } : {}),
    ...(mo.udh ? { udh: Buffer.from(mo.udh).toString('hex') } : {}),
  };
}

function revive(s: StoredMo): OutletMo {
  const { data, udh, receivedAt, ...rest } = s;
  return {
    ...rest,
    receivedAt: new Date(receivedAt),
    ...(data !== undefined ? { data: Buffer.from(data, 'hex') } : {}),
    ...(udh !== undefined ? { udh: Buffer.from(udh, 'hex') } : {}),
  };
}

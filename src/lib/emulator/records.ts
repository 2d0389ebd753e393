import type { Alphabet, MessageClass, SubmitPdu } from '../sms/index.js';

/** One SMS-SUBMIT the host sent with AT+CMGS, decoded; JSON-safe (this is also a --sent-log line). */
export interface SentRecord {
  /** When the modem took it (ISO 8601). */
  time: string;
  /** Message reference the modem answered with (+CMGS: <mr>); null when the send was refused. */
  mr: number | null;
  /** Refusal code (+CMS ERROR: <error>) for sends the fault settings failed; null for sent ones. */
  error: number | null;
  /** The hex the host wrote before Ctrl-Z (SMSC field + TPDU). */
  pdu: string;
  /** The <length> of AT+CMGS=<length>. */
  announcedLength: number;
  /** SMSC the host put in the PDU; null for `00` (use the modem's). */
  smsc: string | null;
  number: string;
  text: string | null;
  /** 8-bit payload as hex. */
  data: string | null;
  coding: Alphabet;
  class: MessageClass;
  /** User Data Header as hex, UDHL included. */
  udh: string | null;
  concat: { ref: number; total: number; seq: number } | null;
  /** TP-SRR: a status report was requested. */
  srr: boolean;
  /** TP-VP in seconds when relative, else null. */
  validitySeconds: number | null;
}

export function sentRecord(
  pdu: SubmitPdu,
  hex: string,
  announcedLength: number,
  time: Date,
  mr: number | null,
  error: number | null,
): SentRecord {
  return {
    time: time.toISOString(),
    mr,
    error,
    pdu: hex,
    announcedLength,
    smsc: pdu.smsc?.number ?? null,
    number: pdu.recipient.number,
    text: pdu.text ?? null,
    data: pdu.data ? pdu.data.toString('hex').toUpperCase() : null,
    coding: pdu.coding,
    class: pdu.messageClass,
    udh: pdu.udh ? pdu.udh.toString('hex').toUpperCase() : null,
    concat: pdu.concat ? { ref: pdu.concat.ref, total: pdu.concat.total, seq: pdu.concat.seq } : null,
    srr: pdu.flags.statusReportRequest,
    validitySeconds: pdu.validity.format === 'relative' ? pdu.validity.seconds : null,
  };
}

/** A logical message: the parts of one concatenated SUBMIT joined (or a single-part one). */
export interface SentMessage {
  number: string;
  text: string | null;
  coding: Alphabet;
  /** Message references of the parts, in part order. */
  mrs: Array<number | null>;
  parts: number;
  complete: boolean;
}

/** Joins concatenated parts (same number, reference and total) so tests can compare whole texts. */
export function joinSent(records: readonly SentRecord[]): SentMessage[] {
  const out: SentMessage[] = [];
  const groups = new Map<string, { msg: SentMessage; parts: Array<SentRecord | undefined> }>();
  for (const r of records) {
    if (!r.concat) {
      out.push({ number: r.number, text: r.text, coding: r.coding, mrs: [r.mr], parts: 1, complete: true });
      continue;
    }
    const key = `${r.number}\u0000${r.concat.ref}\u0000${r.concat.total}`;
    let g = groups.get(key);
    if (!g || g.parts[r.concat.seq - 1] !== undefined) {
      // A repeated sequence number starts a new message (a retry, or a reused reference).
      const msg: SentMessage = {
        number: r.number,
        text: null,
        coding: r.coding,
        mrs: [],
        parts: r.concat.total,
        complete: false,
      };
      g = { msg, parts: new Array<SentRecord | undefined>(r.concat.total).fill(undefined) };
      groups.set(key, g);
      out.push(msg);
    }
    g.parts[r.concat.seq - 1] = r;
    const present = g.parts.filter((p): p is SentRecord => p !== undefined);
    g.msg.complete = present.length === r.concat.total;
    g.msg.mrs = g.parts.map((p) => p?.mr ?? null);
    g.msg.text = present.some((p) => p.text !== null) ? g.parts.map((p) => p?.text ?? '').join('') : null;
  }
  return out;
}

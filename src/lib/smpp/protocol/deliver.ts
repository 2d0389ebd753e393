import crypto from 'node:crypto';
import { encodeGsm7, isGsm7Text } from '../../sms/gsm7.js';
import { splitText, splitData } from '../../sms/split.js';
import { buildConcatUdh } from '../../sms/udh.js';
import { encodePdu } from './pdu.js';

/** deliver_sm PDUs smppd sends: delivery receipts (esm_class 0x04) and MO messages. */

/** message_state values (SMPP 3.4 §5.3.2.35) and the receipt's stat words. */
export const MESSAGE_STATE = {
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8,
} as const;
export const STAT_WORD: Record<number, string> = {
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
};

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** YYMMDDhhmm, local time: the date format of SMPP 3.4 Appendix B. */
export function receiptDate(d: Date): string {
  return `${pad(d.getFullYear() % 100)}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}`;
}

/** An SMPP address from a spool number: `+digits` international, digits unknown, else alphanumeric. */
export function smppAddress(number: string): { ton: number; npi: number; addr: string } {
  if (/^\+\d+$/.test(number)) return { ton: 1, npi: 1, addr: number.slice(1) };
  if (/^[\d*#]+$/.test(number)) return { ton: 0, npi: 1, addr: number };
  return { ton: 5, npi: 0, addr: number.slice(0, 20) };
}

export interface ReceiptInput {
  messageId: string;
  /** The handset the MT went to (the receipt's source). */
  recipient: string;
  /** The MT's source address (the receipt's destination). */
  esmeAddress: { ton: number; npi: number; addr: string };
  state: number;
  submitted: Date;
  done: Date;
  /** GSM error (TP-Status of the report) or 0. */
  error: number;
  text: string;
}

export function receiptText(r: ReceiptInput): string {
  const dlvrd = r.state === MESSAGE_STATE.DELIVERED ? '001' : '000';
  return `id:${r.messageId} sub:001 dlvrd:${dlvrd} submit date:${receiptDate(r.submitted)} done date:${receiptDate(r.done)} stat:${STAT_WORD[r.state] ?? 'UNKNOWN'} err:${pad(r.error % 1000, 3)} text:${r.text.slice(0, 20)}`;
}

/** GSM 03.38 unpacked, what data_coding 0 means on SMPP. */
function gsmBytes(text: string): Buffer {
  return Buffer.from(encodeGsm7(text));
}

/** A receipt (esm_class 0x04), or with `intermediate` an intermediate notification (0x20). */
export function buildReceipt(r: ReceiptInput, intermediate = false): Buffer {
  const src = smppAddress(r.recipient);
  return encodePdu('deliver_sm', {
    source_addr_ton: src.ton,
    source_addr_npi: src.npi,
    source_addr: src.addr,
    dest_addr_ton: r.esmeAddress.ton,
    dest_addr_npi: r.esmeAddress.npi,
    destination_addr: r.esmeAddress.addr,
    esm_class: intermediate ? 0x20 : 0x04,
    data_coding: 0,
    short_message: gsmBytes(receiptText(r)),
    receipted_message_id: r.messageId,
    message_state: r.state,
    // type 3 = GSM, then the 2-octet error code
    network_error_code: Buffer.from([3, (r.error >> 8) & 0xff, r.error & 0xff]),
  });
}

export type MoBody = { kind: 'text'; text: string } | { kind: 'data'; data: Buffer };

export type LongMoMode = 'udh' | 'sar' | 'payload';

/**
 * An MO message as deliver_sm: one per SMS part, with a concatenation UDH (esm_class UDHI) or the
 * SAR TLVs when it is long, or a single deliver_sm carrying it all in message_payload.
 */
export function buildMo(
  sender: string,
  destination: string,
  body: MoBody,
  mode: LongMoMode = 'udh',
): Buffer[] {
  const src = smppAddress(sender);
  const dst = destination ? smppAddress(destination) : { ton: 0, npi: 1, addr: '' };
  const ref = crypto.randomInt(0, mode === 'sar' ? 0x10000 : 0x100);
  let coding: number;
  let parts: Buffer[];
  let whole: Buffer;
  if (body.kind === 'data') {
    coding = 0x04;
    whole = body.data;
    parts = body.data.length <= 140 ? [body.data] : splitData(body.data, '8bit');
  } else if (isGsm7Text(body.text)) {
    coding = 0x00;
    whole = gsmBytes(body.text);
    parts = splitText(body.text, { coding: 'gsm7' }).parts.map(gsmBytes);
  } else {
    coding = 0x08;
    const ucs2 = (t: string): Buffer => Buffer.from(t, 'utf16le').swap16();
    whole = ucs2(body.text);
    parts = splitText(body.text, { coding: 'ucs2' }).parts.map(ucs2);
  }
  const base = {
    source_addr_ton: src.ton,
    source_addr_npi: src.npi,
    source_addr: src.addr,
    dest_addr_ton: dst.ton,
    dest_addr_npi: dst.npi,
    destination_addr: dst.addr,
    data_coding: coding,
  };
  if (parts.length > 1 && mode === 'payload')
    return [
      encodePdu('deliver_sm', {
        ...base,
        esm_class: 0,
        short_message: Buffer.alloc(0),
        message_payload: whole,
      }),
    ];
  return parts.map((p, i) => {
    if (parts.length > 1 && mode === 'sar')
      return encodePdu('deliver_sm', {
        ...base,
        esm_class: 0,
        short_message: p,
        sar_msg_ref_num: ref,
        sar_total_segments: parts.length,
        sar_segment_seqnum: i + 1,
      });
    const udh =
      parts.length > 1
        ? buildConcatUdh({ ref, total: parts.length, seq: i + 1, ref16bit: false })
        : undefined;
    return encodePdu('deliver_sm', {
      ...base,
      esm_class: udh ? 0x40 : 0,
      short_message: udh ? Buffer.concat([udh, p]) : p,
    });
  });
}

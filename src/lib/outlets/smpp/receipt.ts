import { decodeGsm7 } from '../../sms/gsm7.js';
import { decodeUcs2 } from '../../sms/ucs2.js';
import type { OutletMo, OutletReport, ReportState } from '../types.js';
import { TLV, type IncomingSm } from './codec.js';

/** esm_class message types that carry a receipt (SMSC receipt, SME ack, intermediate notification). */
export function isReceipt(esmClass: number): boolean {
  const type = esmClass & 0x3c;
  return type === 0x04 || type === 0x08 || type === 0x10 || type === 0x20;
}

const STAT: Record<string, ReportState> = {
  DELIVRD: 'delivered',
  EXPIRED: 'expired',
  DELETED: 'deleted',
  UNDELIV: 'undeliverable',
  ACCEPTD: 'accepted',
  ACKED: 'accepted',
  BUFFRED: 'enroute',
  BUFFERD: 'enroute',
  ENROUTE: 'enroute',
  UNKNOWN: 'unknown',
  REJECTD: 'rejected',
  FAILED: 'undeliverable',
};

/** message_state TLV (SMPP 3.4 5.2.28). */
const STATE: Record<number, ReportState> = {
  1: 'enroute',
  2: 'delivered',
  3: 'expired',
  4: 'deleted',
  5: 'undeliverable',
  6: 'accepted',
  7: 'unknown',
  8: 'rejected',
};

/** `YYMMDDhhmm[ss]` of a receipt, read as UTC (SMSCs rarely say which zone they mean). */
function receiptDate(s: string | undefined): Date | undefined {
  if (!s || !/^\d{10}(\d{2})?$/.test(s)) return undefined;
  const n = (i: number) => Number(s.slice(i, i + 2));
  const d = new Date(Date.UTC(2000 + n(0), n(2) - 1, n(4), n(6), n(8), s.length >= 12 ? n(10) : 0));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * A receipt in the usual text form (`id:X sub:... stat:DELIVRD err:000 ...`, fields found anywhere,
 * as Kannel's fallback does) with `receipted_message_id` / `message_state` TLVs overriding it.
 * Undefined when it names no message id at all.
 */
export function parseReceipt(sm: IncomingSm, now = new Date()): OutletReport | undefined {
  const raw = sm.message.toString('latin1');
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S*)`, 'i').exec(raw)?.[1];
  let messageId = field('id');
  const tlvId = sm.tlvs.get(TLV.receipted_message_id);
  if (tlvId && tlvId.length > 0) {
    const end = tlvId.indexOf(0);
    messageId = tlvId.toString('latin1', 0, end < 0 ? tlvId.length : end);
  }
  if (!messageId) return undefined;
  let state: ReportState = STAT[(field('stat') ?? '').toUpperCase()] ?? 'unknown';
  const tlvState = sm.tlvs.get(TLV.message_state);
  if (tlvState && tlvState.length === 1) state = STATE[tlvState[0] as number] ?? state;
  const doneDate = /done date:(\d{10,12})/i.exec(raw)?.[1];
  let errorCode = field('err');
  const nec = sm.tlvs.get(TLV.network_error_code);
  if (nec && nec.length === 3) errorCode = `${nec[0]}:${nec.readUInt16BE(1)}`;
  return {
    messageId,
    state,
    at: receiptDate(doneDate) ?? now,
    ...(errorCode !== undefined ? { errorCode } : {}),
    raw,
  };
}

/** A deliver_sm / data_sm that is not a receipt: one part of a handset's message. */
export function parseMo(sm: IncomingSm, via: string, now = new Date()): OutletMo {
  let body = sm.message;
  let udh: Uint8Array | undefined;
  if (sm.esmClass & 0x40 && body.length > 0) {
    const udhl = body[0] as number;
    udh = body.subarray(0, Math.min(body.length, udhl + 1));
    body = body.subarray(udh.length);
  }
  const dc = sm.dataCoding;
  // General data coding group (00xx): bits 3-2 alphabet; 0xF0 group: bit 2 = 8-bit.
  let coding: OutletMo['coding'];
  if ((dc & 0xf0) === 0xf0) coding = dc & 0x04 ? 'binary' : 'gsm';
  else if (dc === 8 || (dc & 0xcc) === 0x08) coding = 'ucs2';
  else if (dc === 0 || dc === 1 || dc === 3 || (dc & 0xcc) === 0x00) coding = 'gsm';
  else coding = 'binary';
  const mo: OutletMo = { from: sm.src, to: sm.dst, coding, receivedAt: now, via };
  if (coding === 'ucs2') mo.text = decodeUcs2(body.subarray(0, body.length & ~1));
  else if (coding === 'gsm')
    mo.text = dc === 3 ? body.toString('latin1') : decodeGsm7([...body].map((b) => b & 0x7f));
  else mo.data = Uint8Array.from(body);
  if (udh) mo.udh = Uint8Array.from(udh);
  const ref = sm.tlvs.get(TLV.sar_msg_ref_num);
  const total = sm.tlvs.get(TLV.sar_total_segments);
  const seq = sm.tlvs.get(TLV.sar_segment_seqnum);
  if (ref && ref.length === 2 && total?.length === 1 && seq?.length === 1)
    mo.sar = { reference: ref.readUInt16BE(0), total: total[0] as number, sequence: seq[0] as number };
  if (sm.srcTon === 1 && /^\d+$/.test(mo.from)) mo.from = `+${mo.from}`;
  return mo;
}

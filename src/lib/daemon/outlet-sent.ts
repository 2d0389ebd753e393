import type { ReportState } from '../outlets/types.js';
import type { ReportRecord } from '../spool/reports.js';

/** What an outlet's receipt index keeps of a sent part, and how receipt states map to report files. */

/** One part an outlet sent, as the index keeps it until its final receipt. */
export interface OutletSent {
  id: string;
  part: number;
  parts: number;
  number: string;
  messageId: string;
  sentAt: string;
  phoneId: string;
  /** The part asked for no delivery report: kept to resume, not for receipts. */
  noReport?: true;
  /** Another daemon on the same reports/ sent it (its name): matched through its journal. */
  origin?: string;
}

export const CATEGORY: Record<ReportState, ReportRecord['category']> = {
  delivered: 'delivered',
  accepted: 'pending',
  enroute: 'pending',
  expired: 'failed',
  deleted: 'failed',
  undeliverable: 'failed',
  rejected: 'failed',
  unknown: 'unknown',
};

/** TP-ST values (23.040 9.2.3.15) closest to each receipt state, for readers of the report files. */
export const TP_ST: Record<ReportState, number> = {
  delivered: 0x00,
  accepted: 0x20,
  enroute: 0x20,
  expired: 0x46,
  deleted: 0x48,
  undeliverable: 0x41,
  rejected: 0x43,
  unknown: 0x60,
};

export const SQL_STATUS: Record<ReportRecord['category'], string> = {
  delivered: 'DeliveryOK',
  failed: 'DeliveryFailed',
  pending: 'DeliveryPending',
  unknown: 'DeliveryUnknown',
};

/** One string per indexed part: sent time (ms), part, parts, message id, number, phone id, outbox id. */
export function pack(r: OutletSent): string {
  return [Date.parse(r.sentAt), r.part, r.parts, r.messageId, r.number, r.phoneId, r.id].join('\t');
}

/** The sent time of a packed part (its first field), without unpacking it. */
export function sentAtMs(packed: string): number {
  return Number(packed.slice(0, packed.indexOf('\t')));
}

export function unpack(s: string): OutletSent {
  const [at, part, parts, messageId, number, phoneId, ...id] = s.split('\t');
  return {
    id: id.join('\t'),
    part: Number(part),
    parts: Number(parts),
    number: number ?? '',
    messageId: messageId ?? '',
    sentAt: new Date(Number(at)).toISOString(),
    phoneId: phoneId ?? '',
  };
}

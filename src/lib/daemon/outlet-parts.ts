import type { OutboxJob } from '../services/types.js';
import type { SubmitOptions } from '../sms/submit.js';
import type { OutletPart } from '../outlets/types.js';

/** An outbox message's parts as an outlet takes them (the codec's SubmitOptions → OutletPart). */

/** TP-VP relative octet (23.040 9.2.3.12.1) in minutes; 255 (Gammu's default, "maximum") = SMSC default. */
export function validityMinutes(vp: number | null | undefined): number | undefined {
  if (vp === undefined || vp === null || vp >= 255) return undefined;
  if (vp <= 143) return (vp + 1) * 5;
  if (vp <= 167) return 720 + (vp - 143) * 30;
  if (vp <= 196) return (vp - 166) * 1440;
  return (vp - 192) * 10080;
}

export function toOutletPart(job: OutboxJob, p: SubmitOptions, i: number, report: boolean): OutletPart {
  const concat = p.udh && p.udh.length > 5 ? readConcat(p.udh) : undefined;
  const validity = validityMinutes(p.validity);
  return {
    key: `${job.id}#${i + 1}`,
    destination: p.number,
    coding: p.coding === 'gsm7' ? 'gsm' : p.coding === 'ucs2' ? 'ucs2' : 'binary',
    ...(p.text !== undefined ? { text: p.text } : {}),
    ...(p.data !== undefined ? { data: p.data } : {}),
    ...(p.udh && p.udh.length > 0 ? { udh: p.udh } : {}),
    report,
    ...(validity !== undefined ? { validityMinutes: validity } : {}),
    ...(p.messageClass === 0 ? { flash: true } : {}),
    partNumber: concat?.seq ?? i + 1,
    partCount: concat?.total ?? job.message.parts.length,
    reference: concat?.ref ?? 0,
  };
}

/** The 8- or 16-bit concatenation element of a UDH (with its length octet), if any. */
function readConcat(udh: Uint8Array): { ref: number; total: number; seq: number } | undefined {
  let i = 1;
  while (i + 1 < udh.length) {
    const iei = udh[i] as number;
    const len = udh[i + 1] as number;
    if (iei === 0x00 && len === 3)
      return { ref: udh[i + 2] as number, total: udh[i + 3] as number, seq: udh[i + 4] as number };
    if (iei === 0x08 && len === 4)
      return {
        ref: ((udh[i + 2] as number) << 8) | (udh[i + 3] as number),
        total: udh[i + 4] as number,
        seq: udh[i + 5] as number,
      };
    i += 2 + len;
  }
  return undefined;
}

/** Gammu's TPMR column holds an int: the id's decimal value when it is one and fits, else -1. */
export function numericId(id: string): number {
  if (/^\d{1,9}$/.test(id)) return Number(id);
  return -1;
}

/**
 * Between the outlet's parts/MO/reports and Kannel's sms message (Kannel 1.4.5 semantics, checked
 * against Debian's bearerbox): an MT carries text as UTF-8 with coding 0 (bearerbox's SMPP driver
 * turns it into GSM 03.38), UCS-2 as UTF-16BE with coding 2, binary with coding 1; a DLR comes
 * back as sms_type 3 with our dlr_url echoed, the event in dlr_mask and the receipt in msgdata.
 */
import type { OutletMo, OutletPart, OutletReport, ReportState } from '../types.js';
import { CODING_7BIT, CODING_8BIT, CODING_UCS2, SMS_MT_PUSH, emptySms, type Sms, type Str } from './codec.js';
import type { KannelSettings } from './config.js';

/** Kannel gw/dlr.h event bits. */
export const DLR_SUCCESS = 1;
export const DLR_FAIL = 2;
export const DLR_BUFFERED = 4;
export const DLR_SMSC_SUCCESS = 8;
export const DLR_SMSC_FAIL = 16;

export class PartError extends Error {
  override name = 'PartError';
}

function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

function fromUtf16be(b: Buffer): string {
  // swap16 needs an even length; a stray last byte is dropped rather than misread.
  const even = Buffer.from(b.subarray(0, b.length & ~1));
  return even.swap16().toString('utf16le');
}

/** The sms message of one MT part; `id` is its UUID, also its dlr_url (echoed in its DLRs). */
export function mtFromPart(part: OutletPart, id: string, s: KannelSettings, nowMs: number): Sms {
  const sms = emptySms();
  const sender = part.sender ?? s.sender;
  sms.sender = sender === undefined ? null : Buffer.from(sender, 'utf8');
  if (part.destination === '') throw new PartError('no destination');
  sms.receiver = Buffer.from(part.destination, 'utf8');
  switch (part.coding) {
    case 'gsm':
      if (part.text === undefined) throw new PartError('a gsm part without text');
      sms.coding = CODING_7BIT;
      sms.charset = Buffer.from('UTF-8');
      sms.msgdata = Buffer.from(part.text, 'utf8');
      break;
    case 'ucs2':
      if (part.text === undefined) throw new PartError('a ucs2 part without text');
      sms.coding = CODING_UCS2;
      sms.charset = Buffer.from('UTF-16BE');
      sms.msgdata = utf16be(part.text);
      break;
    case 'binary':
      if (part.data === undefined) throw new PartError('a binary part without data');
      sms.coding = CODING_8BIT;
      sms.msgdata = Buffer.from(part.data);
      break;
  }
  if (part.udh && part.udh.length > 0) sms.udhdata = Buffer.from(part.udh);
  const now = Math.floor(nowMs / 1000);
  sms.time = now;
  sms.id = id;
  sms.sms_type = SMS_MT_PUSH;
  sms.boxc_id = Buffer.from(s.boxId, 'utf8');
  const mask = part.report ? s.dlrMask : s.dlrMaskNoReport;
  if (mask > 0) {
    sms.dlr_mask = mask;
    sms.dlr_url = Buffer.from(id, 'latin1');
  }
  // Kannel 1.4.5 keeps validity as an absolute time (smsbox stores now + minutes * 60).
  if (part.validityMinutes !== undefined && part.validityMinutes > 0)
    sms.validity = now + Math.round(part.validityMinutes * 60);
  if (part.priority !== undefined) sms.priority = Math.max(0, Math.min(3, Math.trunc(part.priority)));
  if (part.flash) sms.mclass = 0;
  if (s.smscId !== undefined) sms.smsc_id = Buffer.from(s.smscId, 'utf8');
  return sms;
}

const str = (b: Str): string | undefined => (b === null ? undefined : b.toString('utf8'));

/** Decodes coding-0 text in the charset bearerbox names (UTF-8 unless told otherwise). */
function text7(b: Buffer, charset: Str): string {
  const cs = (charset?.toString('latin1') ?? 'UTF-8').toUpperCase().replace(/_/g, '-');
  if (cs === 'UTF-16BE' || cs === 'UCS-2' || cs === 'UCS-2BE') return fromUtf16be(b);
  if (cs === 'ISO-8859-1' || cs === 'LATIN1' || cs === 'WINDOWS-1252' || cs === 'CP1252')
    return b.toString('latin1');
  return b.toString('utf8');
}

export function moFromSms(sms: Sms, via: string, nowMs: number): OutletMo {
  const data = sms.msgdata ?? Buffer.alloc(0);
  const mo: OutletMo = {
    from: str(sms.sender) ?? '',
    to: str(sms.receiver) ?? '',
    coding: 'gsm',
    receivedAt: new Date(sms.time > 0 ? sms.time * 1000 : nowMs),
    via: str(sms.smsc_id) ?? via,
  };
  if (sms.udhdata && sms.udhdata.length > 0) mo.udh = Buffer.from(sms.udhdata);
  if (sms.coding === CODING_UCS2) {
    mo.coding = 'ucs2';
    mo.text = fromUtf16be(data);
  } else if (sms.coding === CODING_8BIT) {
    mo.coding = 'binary';
    mo.data = Buffer.from(data);
  } else {
    mo.text = text7(data, sms.charset);
  }
  return mo;
}

/** The report state of a DLR event mask (34 = expired, 66 = unknown as Kannel's SMPP driver sends). */
export function stateOfMask(mask: number): ReportState {
  if (mask < 0) return 'unknown';
  if (mask & DLR_SUCCESS) return 'delivered';
  if (mask & 32) return 'expired';
  if (mask & 64) return 'unknown';
  if (mask & DLR_SMSC_FAIL) return 'rejected';
  if (mask & DLR_FAIL) return 'undeliverable';
  if (mask & DLR_SMSC_SUCCESS) return 'accepted';
  if (mask & DLR_BUFFERED) return 'enroute';
  return 'unknown';
}

/** The network error a DLR names: receipt `err:`, a NACK's status, or meta-data dlr_err. */
function errorOf(text: string, meta: string | undefined): string | undefined {
  const err = /\berr:([0-9A-Za-z]+)/.exec(text);
  if (err) return err[1];
  const nack = /^NACK\/([^/]+)/.exec(text);
  if (nack) return nack[1];
  const m = meta && /[?&]dlr_err=([^&]*)/.exec(meta);
  if (m) {
    let bytes: Buffer;
    try {
      bytes = Buffer.from(decodeURIComponent(m[1] as string), 'latin1');
    } catch {
      return undefined;
    }
    // GSM network error: 1 byte network type, 2 bytes error code.
    if (bytes.length === 3) return String(bytes.readUInt16BE(1)).padStart(3, '0');
  }
  return undefined;
}

/** The report of a DLR, or undefined when it names no part of ours (no dlr_url). */
export function reportFromSms(sms: Sms, nowMs: number): OutletReport | undefined {
  const messageId = sms.dlr_url?.toString('utf8');
  if (!messageId) return undefined;
  const raw = sms.msgdata?.toString('utf8') ?? '';
  const report: OutletReport = {
    messageId,
    state: stateOfMask(sms.dlr_mask),
    at: new Date(sms.time > 0 ? sms.time * 1000 : nowMs),
    raw,
  };
  const errorCode = errorOf(raw, str(sms.meta_data));
  if (errorCode !== undefined) report.errorCode = errorCode;
  return report;
}

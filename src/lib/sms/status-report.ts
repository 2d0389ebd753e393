import { type SmsAddress, encodeAddress, readAddress } from './address.js';
import { type Alphabet, type DcsInfo, decodeDcs, encodeDcs } from './dcs.js';
import {
  type DecodeOptions,
  type EncodedPdu,
  type PduFrame,
  assemble,
  octet,
  decodeOfType,
  MTI_STATUS_REPORT,
} from './frame.js';
import type { ByteReader } from './reader.js';
import { type Scts, encodeScts, readScts } from './scts.js';
import { type UserDataFields, encodeUserData, readUserData } from './userdata.js';

export type DeliveryCategory = 'delivered' | 'pending' | 'failed' | 'unknown';

export interface DeliveryStatus {
  category: DeliveryCategory;
  /** For 'failed': true for 0x40.. (permanent), false for 0x60.. (temporary, SC gave up). */
  permanent?: boolean;
  description: string;
}

const DESCRIPTIONS: Readonly<Record<number, string>> = {
  0x00: 'Short message received by the SME',
  0x01: 'Short message forwarded by the SC to the SME but the SC is unable to confirm delivery',
  0x02: 'Short message replaced by the SC',
  0x20: 'Congestion',
  0x21: 'SME busy',
  0x22: 'No response from SME',
  0x23: 'Service rejected',
  0x24: 'Quality of service not available',
  0x25: 'Error in SME',
  0x40: 'Remote procedure error',
  0x41: 'Incompatible destination',
  0x42: 'Connection rejected by SME',
  0x43: 'Not obtainable',
  0x44: 'Quality of service not available',
  0x45: 'No interworking available',
  0x46: 'SM validity period expired',
  0x47: 'SM deleted by originating SME',
  0x48: 'SM deleted by SC administration',
  0x49: 'SM does not exist',
  0x60: 'Congestion',
  0x61: 'SME busy',
  0x62: 'No response from SME',
  0x63: 'Service rejected',
  0x64: 'Quality of service not available',
  0x65: 'Error in SME',
};

/** Meaning of TP-Status (23.040 9.2.3.15), by its high bits. */
export function deliveryStatus(status: number): DeliveryStatus {
  const known = DESCRIPTIONS[status];
  if (status < 0x20) {
    return {
      category: 'delivered',
      description: known ?? 'Transaction completed (reserved / SC specific value)',
    };
  }
  if (status < 0x40) {
    return {
      category: 'pending',
      description: known ?? 'Temporary error, SC still trying (reserved / SC specific value)',
    };
  }
  if (status < 0x80) {
    const permanent = status < 0x60;
    const fallback = permanent
      ? 'Permanent error'
      : 'Temporary error, SC not making any more transfer attempts';
    return {
      category: 'failed',
      permanent,
      description: known ?? `${fallback} (reserved / SC specific value)`,
    };
  }
  return { category: 'unknown', description: 'Reserved status value' };
}

export interface StatusReportFlags {
  /** TP-MMS as transmitted (set = no more messages waiting). */
  mms: boolean;
  loopPrevention: boolean;
  /** TP-SRQ: set when the report is the result of an SMS-COMMAND, clear for an SMS-SUBMIT. */
  statusReportQualifier: boolean;
  udhi: boolean;
}

export interface StatusReportPdu extends PduFrame, Partial<UserDataFields> {
  type: 'status-report';
  flags: StatusReportFlags;
  /** TP-MR of the SMS-SUBMIT this reports on. */
  mr: number;
  recipient: SmsAddress;
  /** When the SC received the original message. */
  scts: Scts;
  /** TP-DT: delivery time, or time of the last attempt / failure. */
  discharge: Scts;
  status: number;
  statusInfo: DeliveryStatus;
  /** TP-PI and the optional fields it announces. */
  pi?: number;
  pid?: number;
  dcs?: DcsInfo;
  coding?: Alphabet;
}

/** @internal */
export function readStatusReport(r: ByteReader, frame: PduFrame): StatusReportPdu {
  const first = r.u8('first octet');
  const mr = r.u8('TP-MR');
  const recipient = readAddress(r, 'TP-RA');
  const scts = readScts(r, 'TP-SCTS');
  const discharge = readScts(r, 'TP-DT');
  const status = r.u8('TP-ST');
  const pdu: StatusReportPdu = {
    type: 'status-report',
    ...frame,
    flags: {
      mms: (first & 0x04) !== 0,
      loopPrevention: (first & 0x08) !== 0,
      statusReportQualifier: (first & 0x20) !== 0,
      udhi: (first & 0x40) !== 0,
    },
    mr,
    recipient,
    scts,
    discharge,
    status,
    statusInfo: deliveryStatus(status),
  };
  if (r.remaining === 0) return pdu;
  const pi = r.u8('TP-PI');
  pdu.pi = pi;
  // Bit 7 announces another TP-PI octet; those carry nothing defined yet.
  for (let ext = pi; ext & 0x80;) ext = r.u8('TP-PI extension');
  if (pi & 0x01) pdu.pid = r.u8('TP-PID');
  const dcs = decodeDcs(pi & 0x02 ? r.u8('TP-DCS') : 0x00);
  if (pi & 0x02) {
    pdu.dcs = dcs;
    pdu.coding = dcs.alphabet;
  }
  if (pi & 0x04) Object.assign(pdu, readUserData(r, (first & 0x40) !== 0, dcs));
  return pdu;
}

/** Decodes an SMS-STATUS-REPORT (+CDS, or a report read from memory). */
export function decodeStatusReport(input: string | Uint8Array, opts: DecodeOptions = {}): StatusReportPdu {
  return decodeOfType(input, opts, MTI_STATUS_REPORT, 'SMS-STATUS-REPORT', readStatusReport);
}

export interface StatusReportOptions {
  smsc?: string;
  mr: number;
  recipient: string;
  scts: Date;
  discharge: Date;
  /** Zone both time stamps are written in, minutes east of UTC. Default 0. */
  tzMinutes?: number;
  /** TP-ST, e.g. 0x00 delivered, 0x30 pending, 0x46 expired. */
  status: number;
  statusReportQualifier?: boolean;
  moreMessagesToSend?: boolean;
  /** Optional fields; any of them adds a TP-PI octet. */
  pid?: number;
  coding?: Alphabet;
  text?: string;
  data?: Uint8Array;
  udh?: Uint8Array;
}

/** Builds an SMS-STATUS-REPORT, for the modem emulator's delivery reports. */
export function encodeStatusReport(o: StatusReportOptions): EncodedPdu {
  const hasUd = o.text !== undefined || o.data !== undefined || (o.udh !== undefined && o.udh.length > 0);
  const hasDcs = hasUd || o.coding !== undefined;
  const first =
    MTI_STATUS_REPORT |
    (o.moreMessagesToSend ? 0 : 0x04) |
    (o.statusReportQualifier ? 0x20 : 0) |
    (o.udh !== undefined && o.udh.length > 0 ? 0x40 : 0);
  const tz = o.tzMinutes ?? 0;
  const parts = [
    Buffer.from([first, octet(o.mr, 0, 'mr')]),
    encodeAddress(o.recipient),
    encodeScts(o.scts, tz),
    encodeScts(o.discharge, tz),
    Buffer.from([octet(o.status, 0, 'status')]),
  ];
  if (o.pid !== undefined || hasDcs) {
    const pi = (o.pid !== undefined ? 0x01 : 0) | (hasDcs ? 0x02 : 0) | (hasUd ? 0x04 : 0);
    parts.push(Buffer.from([pi]));
    if (o.pid !== undefined) parts.push(Buffer.from([octet(o.pid, 0, 'pid')]));
    const coding = o.coding ?? (o.data !== undefined ? '8bit' : 'gsm7');
    if (hasDcs) parts.push(Buffer.from([encodeDcs({ alphabet: coding })]));
    if (hasUd) {
      const { udl, ud } = encodeUserData({ coding, text: o.text, data: o.data, udh: o.udh });
      parts.push(Buffer.from([udl]), ud);
    }
  }
  return assemble(o.smsc, parts);
}

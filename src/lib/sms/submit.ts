import { type SmsAddress, encodeAddress, readAddress } from './address.js';
import { type Alphabet, type DcsInfo, type MessageClass, decodeDcs, encodeDcs } from './dcs.js';
import {
  type DecodeOptions,
  type EncodedPdu,
  type PduFrame,
  assemble,
  octet,
  decodeOfType,
  MTI_SUBMIT,
} from './frame.js';
import type { ByteReader } from './reader.js';
import { type Scts, readScts } from './scts.js';
import { type UserDataFields, encodeUserData, readUserData } from './userdata.js';

export interface SubmitOptions {
  /** SMSC number; omitted or '' writes `00` (use the phone's SMSC). */
  smsc?: string;
  number: string;
  text?: string;
  data?: Uint8Array;
  coding: Alphabet;
  messageClass?: MessageClass;
  /** User Data Header including the UDHL octet. */
  udh?: Uint8Array;
  statusReport?: boolean;
  /** Relative TP-VP octet; default 0xFF (maximum) like Gammu; null = no VP field (VPF 00). */
  validity?: number | null;
  mr?: number;
  rejectDuplicates?: boolean;
  replyPath?: boolean;
  pid?: number;
}

/**
 * SMS-SUBMIT exactly as Gammu's ATGEN_MakeSMSFrame lays it out: first octet
 * 0x01 | RD 0x04 | VPF 0x10 | SRR 0x20 | UDHI 0x40 | RP 0x80, MR, DA, PID, DCS, VP, UDL, UD.
 */
export function encodeSubmit(o: SubmitOptions): EncodedPdu {
  const validity = o.validity === undefined ? 0xff : o.validity;
  const hasUdh = o.udh !== undefined && o.udh.length > 0;
  const first =
    MTI_SUBMIT |
    (o.rejectDuplicates ? 0x04 : 0) |
    (validity !== null ? 0x10 : 0) |
    (o.statusReport ? 0x20 : 0) |
    (hasUdh ? 0x40 : 0) |
    (o.replyPath ? 0x80 : 0);
  const { udl, ud } = encodeUserData(o);
  const dcs = encodeDcs({ alphabet: o.coding, messageClass: o.messageClass ?? -1 });
  const vp = validity === null ? [] : [octet(validity, 0xff, 'validity')];
  return assemble(o.smsc, [
    Buffer.from([first, octet(o.mr, 0, 'mr')]),
    encodeAddress(o.number),
    Buffer.from([octet(o.pid, 0, 'pid'), dcs, ...vp, udl]),
    ud,
  ]);
}

export type Validity =
  | { format: 'none' }
  | { format: 'relative'; value: number; seconds: number }
  | { format: 'absolute'; scts: Scts }
  | { format: 'enhanced'; raw: Buffer };

/** Seconds a relative TP-VP octet stands for (23.040 9.2.3.12.1). */
export function relativeValiditySeconds(vp: number): number {
  if (vp <= 143) return (vp + 1) * 5 * 60;
  if (vp <= 167) return 12 * 3600 + (vp - 143) * 30 * 60;
  if (vp <= 196) return (vp - 166) * 86400;
  return (vp - 192) * 7 * 86400;
}

export interface SubmitPdu extends PduFrame, UserDataFields {
  type: 'submit';
  flags: { rejectDuplicates: boolean; statusReportRequest: boolean; udhi: boolean; replyPath: boolean };
  mr: number;
  recipient: SmsAddress;
  pid: number;
  dcs: DcsInfo;
  coding: Alphabet;
  messageClass: MessageClass;
  validity: Validity;
}

/** @internal */
export function readSubmit(r: ByteReader, frame: PduFrame): SubmitPdu {
  const first = r.u8('first octet');
  const mr = r.u8('TP-MR');
  const recipient = readAddress(r, 'TP-DA');
  const pid = r.u8('TP-PID');
  const dcs = decodeDcs(r.u8('TP-DCS'));
  let validity: Validity;
  switch ((first >> 3) & 0x03) {
    case 0:
      validity = { format: 'none' };
      break;
    case 2: {
      const value = r.u8('TP-VP');
      validity = { format: 'relative', value, seconds: relativeValiditySeconds(value) };
      break;
    }
    case 3:
      validity = { format: 'absolute', scts: readScts(r, 'TP-VP') };
      break;
    default:
      validity = { format: 'enhanced', raw: Buffer.from(r.bytes(7, 'TP-VP')) };
  }
  const ud = readUserData(r, (first & 0x40) !== 0, dcs);
  return {
    type: 'submit',
    ...frame,
    flags: {
      rejectDuplicates: (first & 0x04) !== 0,
      statusReportRequest: (first & 0x20) !== 0,
      udhi: (first & 0x40) !== 0,
      replyPath: (first & 0x80) !== 0,
    },
    mr,
    recipient,
    pid,
    dcs,
    coding: dcs.alphabet,
    messageClass: dcs.messageClass,
    validity,
    ...ud,
  };
}

/** Decodes an SMS-SUBMIT (what the modem emulator receives after AT+CMGS). */
export function decodeSubmit(input: string | Uint8Array, opts: DecodeOptions = {}): SubmitPdu {
  return decodeOfType(input, opts, MTI_SUBMIT, 'SMS-SUBMIT', readSubmit);
}

import { type SmsAddress, encodeAddress, readAddress } from './address.js';
import { type Alphabet, type DcsInfo, type MessageClass, decodeDcs, encodeDcs } from './dcs.js';
import {
  type DecodeOptions,
  type EncodedPdu,
  type PduFrame,
  assemble,
  octet,
  decodeOfType,
  MTI_DELIVER,
} from './frame.js';
import type { ByteReader } from './reader.js';
import { type Scts, encodeScts, readScts } from './scts.js';
import { type UserDataFields, encodeUserData, readUserData } from './userdata.js';

export interface DeliverFlags {
  /** TP-MMS bit as transmitted: set means "no more messages are waiting" (23.040 9.2.3.2). */
  mms: boolean;
  /** TP-LP loop prevention. */
  loopPrevention: boolean;
  /** TP-SRI: the sender asked for a status report. */
  statusReportIndication: boolean;
  udhi: boolean;
  replyPath: boolean;
}

export interface DeliverPdu extends PduFrame, UserDataFields {
  type: 'deliver';
  flags: DeliverFlags;
  originator: SmsAddress;
  pid: number;
  dcs: DcsInfo;
  coding: Alphabet;
  messageClass: MessageClass;
  scts: Scts;
}

/** @internal */
export function readDeliver(r: ByteReader, frame: PduFrame): DeliverPdu {
  const first = r.u8('first octet');
  const originator = readAddress(r, 'TP-OA');
  const pid = r.u8('TP-PID');
  const dcs = decodeDcs(r.u8('TP-DCS'));
  const scts = readScts(r, 'TP-SCTS');
  const ud = readUserData(r, (first & 0x40) !== 0, dcs);
  return {
    type: 'deliver',
    ...frame,
    flags: {
      mms: (first & 0x04) !== 0,
      loopPrevention: (first & 0x08) !== 0,
      statusReportIndication: (first & 0x20) !== 0,
      udhi: (first & 0x40) !== 0,
      replyPath: (first & 0x80) !== 0,
    },
    originator,
    pid,
    dcs,
    coding: dcs.alphabet,
    messageClass: dcs.messageClass,
    scts,
    ...ud,
  };
}

/** Decodes an SMS-DELIVER (a received message). */
export function decodeDeliver(input: string | Uint8Array, opts: DecodeOptions = {}): DeliverPdu {
  return decodeOfType(input, opts, MTI_DELIVER, 'SMS-DELIVER', readDeliver);
}

export interface DeliverOptions {
  smsc?: string;
  /** Phone number or alphanumeric sender. */
  originator: string;
  text?: string;
  data?: Uint8Array;
  coding: Alphabet;
  messageClass?: MessageClass;
  udh?: Uint8Array;
  pid?: number;
  /** Service-centre time stamp. */
  scts: Date;
  /** Zone the time stamp is written in, minutes east of UTC. Default 0. */
  tzMinutes?: number;
  /** Default false, i.e. the TP-MMS bit is set ("no more messages"). */
  moreMessagesToSend?: boolean;
  statusReportIndication?: boolean;
  replyPath?: boolean;
}

/** Builds an SMS-DELIVER, for the modem emulator's incoming messages. */
export function encodeDeliver(o: DeliverOptions): EncodedPdu {
  const hasUdh = o.udh !== undefined && o.udh.length > 0;
  const first =
    MTI_DELIVER |
    (o.moreMessagesToSend ? 0 : 0x04) |
    (o.statusReportIndication ? 0x20 : 0) |
    (hasUdh ? 0x40 : 0) |
    (o.replyPath ? 0x80 : 0);
  const { udl, ud } = encodeUserData(o);
  const dcs = encodeDcs({ alphabet: o.coding, messageClass: o.messageClass ?? -1 });
  return assemble(o.smsc, [
    Buffer.from([first]),
    encodeAddress(o.originator),
    Buffer.from([octet(o.pid, 0, 'pid'), dcs]),
    encodeScts(o.scts, o.tzMinutes ?? 0),
    Buffer.from([udl]),
    ud,
  ]);
}

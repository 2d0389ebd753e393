import type { Alphabet, DcsInfo } from './dcs.js';
import { PduError } from './errors.js';
import { decodeGsm7, encodeGsm7, packSeptets, unpackSeptets } from './gsm7.js';
import type { ByteReader } from './reader.js';
import { decodeUcs2, encodeUcs2 } from './ucs2.js';
import { type ConcatInfo, type UdhElement, concatInfo, parseUdh, udhFillBits } from './udh.js';

export interface UserDataInput {
  coding: Alphabet;
  /** Text for gsm7 / ucs2. */
  text?: string;
  /** Payload for 8bit. */
  data?: Uint8Array;
  /** User Data Header including its UDHL octet. */
  udh?: Uint8Array;
}

/** TP-UD as decoded, shared by DELIVER, SUBMIT and STATUS-REPORT results. */
export interface UserDataFields {
  /** TP-UDL: septets for uncompressed GSM-7 (header included), octets otherwise. */
  udl: number;
  /** Raw User Data Header including the UDHL octet. */
  udh?: Buffer;
  udhElements?: UdhElement[];
  concat?: ConcatInfo;
  /** Decoded text (gsm7 / ucs2). Absent for 8-bit and compressed data. */
  text?: string;
  /** The payload after the header for 8-bit data, or the raw compressed payload. */
  data?: Buffer;
}

const MAX_UD_OCTETS = 140;
const MAX_SEPTETS = 160;

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Builds TP-UDL and TP-UD. Overlong content is BAD_LENGTH: split the text first. */
export function encodeUserData(input: UserDataInput): { udl: number; ud: Buffer } {
  const udh = input.udh ? asBuffer(input.udh) : Buffer.alloc(0);
  if (udh.length > 0) parseUdh(udh);
  let udl: number;
  let ud: Buffer;
  if (input.coding === '8bit') {
    if (input.text !== undefined) throw new PduError('BAD_ARGUMENT', '8bit messages take `data`, not `text`');
    ud = Buffer.concat([udh, asBuffer(input.data ?? new Uint8Array(0))]);
    udl = ud.length;
  } else {
    if (input.data !== undefined) {
      throw new PduError('BAD_ARGUMENT', `${input.coding} messages take \`text\`, not \`data\``);
    }
    const text = input.text ?? '';
    if (input.coding === 'ucs2') {
      ud = Buffer.concat([udh, encodeUcs2(text)]);
      udl = ud.length;
    } else {
      const septets = encodeGsm7(text);
      const fill = udh.length > 0 ? udhFillBits(udh.length) : 0;
      ud = Buffer.concat([udh, packSeptets(septets, fill)]);
      udl = (udh.length * 8 + fill) / 7 + septets.length;
      if (udl > MAX_SEPTETS) throw new PduError('BAD_LENGTH', `user data of ${udl} septets exceeds 160`);
    }
  }
  if (ud.length > MAX_UD_OCTETS) {
    throw new PduError('BAD_LENGTH', `user data of ${ud.length} octets exceeds 140`);
  }
  return { udl, ud };
}

/** @internal Reads TP-UDL and TP-UD, decoding text per the DCS. */
export function readUserData(r: ByteReader, udhi: boolean, dcs: DcsInfo): UserDataFields {
  const udlPos = r.pos;
  const udl = r.u8('TP-UDL');
  const septets = dcs.alphabet === 'gsm7' && !dcs.compressed;
  if (udl > (septets ? MAX_SEPTETS : MAX_UD_OCTETS)) {
    throw new PduError('BAD_LENGTH', `TP-UDL ${udl} exceeds the maximum for this coding`, udlPos);
  }
  const udStart = r.pos;
  const ud = r.bytes(septets ? Math.ceil((udl * 7) / 8) : udl, 'user data');
  const out: UserDataFields = { udl };

  let headerOctets = 0;
  if (udhi) {
    const udhl = ud[0];
    if (udhl === undefined) throw new PduError('BAD_UDH', 'UDHI set but the user data is empty', udStart);
    headerOctets = udhl + 1;
    if (headerOctets > ud.length) {
      throw new PduError('BAD_UDH', `UDHL ${udhl} runs past the user data`, udStart);
    }
    const udh = Buffer.from(ud.subarray(0, headerOctets));
    try {
      out.udhElements = parseUdh(udh);
    } catch (e) {
      if (e instanceof PduError) throw new PduError(e.code, e.message, udStart + (e.offset ?? 0));
      throw e;
    }
    out.udh = udh;
    const concat = concatInfo(out.udhElements);
    if (concat) out.concat = concat;
  }

  if (septets) {
    const headerSeptets = Math.ceil((headerOctets * 8) / 7);
    if (udl < headerSeptets) {
      throw new PduError(
        'BAD_LENGTH',
        `TP-UDL ${udl} septets is shorter than the ${headerOctets}-octet UDH`,
        udlPos,
      );
    }
    const fill = headerSeptets * 7 - headerOctets * 8;
    out.text = decodeGsm7(unpackSeptets(ud.subarray(headerOctets), udl - headerSeptets, fill));
    return out;
  }
  const payload = Buffer.from(ud.subarray(headerOctets));
  if (dcs.compressed || dcs.alphabet === '8bit') {
    out.data = payload;
  } else {
    if (payload.length % 2 !== 0) {
      throw new PduError(
        'BAD_LENGTH',
        `UCS2 user data has an odd number of octets (${payload.length})`,
        udStart,
      );
    }
    out.text = decodeUcs2(payload);
  }
  return out;
}

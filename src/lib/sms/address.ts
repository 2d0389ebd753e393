import { PduError } from './errors.js';
import { decodeGsm7, encodeGsm7, gsm7Septets, isGsm7Text, packSeptets, unpackSeptets } from './gsm7.js';
import { ByteReader } from './reader.js';

/** Type-of-address octets used when encoding (23.040 9.1.2.5). */
export const TOA_INTERNATIONAL = 0x91;
export const TOA_UNKNOWN = 0x81;
export const TOA_ALPHANUMERIC = 0xd0;

const TON_INTERNATIONAL = 1;
const TON_ALPHANUMERIC = 5;

/** Semi-octet digit values 0..14 (23.040 9.1.2.3); 0xF is the filler. */
const SEMI_OCTET_DIGITS = '0123456789*#abc';

/** An address field value (23.040 9.1.2.5) as decoded. */
export interface SmsAddress {
  /** Digits with a leading '+' for TON international, or the alphanumeric text. */
  number: string;
  /** The raw type-of-address octet. */
  toa: number;
  /** Type of number (bits 6..4). */
  ton: number;
  /** Numbering plan (bits 3..0). */
  npi: number;
}

export type AddressKind = 'international' | 'national' | 'alphanumeric' | 'invalid';

const MAX_DIGITS = 20;
const MAX_ALPHANUMERIC_SEPTETS = 11;

/**
 * How an address would be encoded. Phone numbers: optional '+', then 1..20 of 0-9 * #.
 * Alphanumeric: GSM-7 text of at most 11 septets containing at least one letter; the letter rule
 * rejects mistyped numbers such as "+420 123 456" instead of silently sending them as a sender name.
 */
export function classifyAddress(s: string): AddressKind {
  if (/^\+[0-9*#]{1,20}$/.test(s)) return 'international';
  if (/^[0-9*#]{1,20}$/.test(s)) return 'national';
  if (s.length > 0 && isGsm7Text(s) && gsm7Septets(s) <= MAX_ALPHANUMERIC_SEPTETS && /\p{L}/u.test(s)) {
    return 'alphanumeric';
  }
  return 'invalid';
}

function packDigits(digits: string): Buffer {
  const out = Buffer.alloc(Math.ceil(digits.length / 2), 0xff);
  for (let i = 0; i < digits.length; i++) {
    const nibble = SEMI_OCTET_DIGITS.indexOf(digits.charAt(i));
    const idx = i >> 1;
    const cur = out[idx] ?? 0xff;
    out[idx] = i % 2 === 0 ? (cur & 0xf0) | nibble : (cur & 0x0f) | (nibble << 4);
  }
  return out;
}

function unpackDigits(value: Uint8Array, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    const b = value[i >> 1] ?? 0xff;
    const nibble = i % 2 === 0 ? b & 0x0f : b >> 4;
    // A filler inside the counted digits is malformed but harmless; skipping it keeps the rest.
    if (nibble !== 0x0f) out += SEMI_OCTET_DIGITS.charAt(nibble);
  }
  return out;
}

function toAddress(number: string, toa: number): SmsAddress {
  return { number, toa, ton: (toa >> 4) & 0x07, npi: toa & 0x0f };
}

/**
 * TP-DA / TP-OA field: length in semi-octets (digits, or for alphanumeric the useful semi-octets of
 * the packed GSM-7 text), type-of-address, value.
 */
export function encodeAddress(number: string): Buffer {
  switch (classifyAddress(number)) {
    case 'international': {
      const digits = number.slice(1);
      return Buffer.concat([Buffer.from([digits.length, TOA_INTERNATIONAL]), packDigits(digits)]);
    }
    case 'national':
      return Buffer.concat([Buffer.from([number.length, TOA_UNKNOWN]), packDigits(number)]);
    case 'alphanumeric': {
      const septets = encodeGsm7(number);
      const semiOctets = Math.ceil((septets.length * 7) / 4);
      return Buffer.concat([Buffer.from([semiOctets, TOA_ALPHANUMERIC]), packSeptets(septets)]);
    }
    case 'invalid':
      throw new PduError(
        'BAD_ADDRESS',
        `not a phone number or alphanumeric address: ${JSON.stringify(number)}`,
      );
  }
}

/**
 * SMSC address field as written before the TPDU for AT+CMGS: length in octets including the type
 * octet, or a single 00 meaning "use the SMSC stored in the phone".
 */
export function encodeSmscAddress(smsc?: string): Buffer {
  if (smsc === undefined || smsc === '') return Buffer.from([0]);
  const kind = classifyAddress(smsc);
  if (kind !== 'international' && kind !== 'national') {
    throw new PduError('BAD_ADDRESS', `SMSC must be a phone number: ${JSON.stringify(smsc)}`);
  }
  const digits = kind === 'international' ? smsc.slice(1) : smsc;
  const value = packDigits(digits);
  return Buffer.concat([
    Buffer.from([value.length + 1, kind === 'international' ? TOA_INTERNATIONAL : TOA_UNKNOWN]),
    value,
  ]);
}

/** @internal Reads TP-OA / TP-DA / TP-RA at the reader's position. */
export function readAddress(r: ByteReader, what: string): SmsAddress {
  const start = r.pos;
  const len = r.u8(`${what} length`);
  if (len > MAX_DIGITS) {
    throw new PduError('BAD_ADDRESS', `${what} length ${len} exceeds 20 semi-octets`, start);
  }
  const toa = r.u8(`${what} type`);
  const value = r.bytes(Math.ceil(len / 2), what);
  if (((toa >> 4) & 0x07) === TON_ALPHANUMERIC) {
    return toAddress(decodeGsm7(unpackSeptets(value, Math.floor((len * 4) / 7))), toa);
  }
  const digits = unpackDigits(value, len);
  const prefix = ((toa >> 4) & 0x07) === TON_INTERNATIONAL && digits !== '' ? '+' : '';
  return toAddress(prefix + digits, toa);
}

/** @internal Reads the SMSC address field; undefined when its length is 0. */
export function readSmscAddress(r: ByteReader): SmsAddress | undefined {
  const start = r.pos;
  const len = r.u8('SMSC length');
  if (len === 0) return undefined;
  if (len > 12) throw new PduError('BAD_ADDRESS', `SMSC length ${len} exceeds 12 octets`, start);
  const toa = r.u8('SMSC type');
  const value = r.bytes(len - 1, 'SMSC address');
  if (((toa >> 4) & 0x07) === TON_ALPHANUMERIC) {
    return toAddress(decodeGsm7(unpackSeptets(value, Math.floor((value.length * 8) / 7))), toa);
  }
  const digits = unpackDigits(value, value.length * 2);
  const prefix = ((toa >> 4) & 0x07) === TON_INTERNATIONAL && digits !== '' ? '+' : '';
  return toAddress(prefix + digits, toa);
}

/** Decodes a TP-DA / TP-OA / TP-RA field; `length` is the octets it occupies. */
export function decodeAddress(buf: Uint8Array, offset = 0): { address: SmsAddress; length: number } {
  const r = new ByteReader(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), offset);
  const address = readAddress(r, 'address');
  return { address, length: r.pos - offset };
}

/** Decodes an SMSC address field; `address` is undefined for the `00` "no SMSC" form. */
export function decodeSmscAddress(
  buf: Uint8Array,
  offset = 0,
): { address: SmsAddress | undefined; length: number } {
  const r = new ByteReader(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), offset);
  const address = readSmscAddress(r);
  return { address, length: r.pos - offset };
}

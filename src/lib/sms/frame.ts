import { type SmsAddress, encodeSmscAddress, readSmscAddress } from './address.js';
import { PduError } from './errors.js';
import { bufferToHex, toBuffer } from './hex.js';
import { ByteReader } from './reader.js';

/** TP-MTI values (23.040 9.2.3.1), SC->MS sense except SUBMIT. */
export const MTI_DELIVER = 0x00;
export const MTI_SUBMIT = 0x01;
export const MTI_STATUS_REPORT = 0x02;

export interface DecodeOptions {
  /** The PDU starts with the SMSC address field (true for AT+CMGR/+CMGL/+CMT/+CDS output). Default true. */
  withSmsc?: boolean;
  /** The <length> the modem announced (TPDU octets, SMSC field excluded); checked when given. */
  tpduLength?: number;
  /** Tolerate octets after the last field instead of failing with BAD_LENGTH. Default false. */
  allowTrailing?: boolean;
}

/** Fields every decoded PDU carries. */
export interface PduFrame {
  /** undefined when the SMSC field is `00` or absent (withSmsc: false). */
  smsc?: SmsAddress;
  /** TPDU octets (what AT+CMGS / +CMGR count). */
  tpduLength: number;
  /** TP-MTI and flag bits. */
  firstOctet: number;
}

export interface EncodedPdu {
  /** Uppercase hex: SMSC field + TPDU, as written after AT+CMGS. */
  hex: string;
  /** TPDU octets, the number given to AT+CMGS. */
  tpduLength: number;
}

/** @internal */
export interface OpenedPdu {
  r: ByteReader;
  frame: PduFrame;
  tpduStart: number;
}

/** @internal Parses the SMSC field and checks the announced TPDU length before any TPDU field. */
export function openPdu(input: string | Uint8Array, opts: DecodeOptions = {}): OpenedPdu {
  const buf = toBuffer(input);
  if (buf.length === 0) throw new PduError('TRUNCATED', 'empty PDU', 0);
  const r = new ByteReader(buf);
  const smsc = opts.withSmsc === false ? undefined : readSmscAddress(r);
  const tpduStart = r.pos;
  const tpduLength = buf.length - tpduStart;
  if (opts.tpduLength !== undefined && opts.tpduLength !== tpduLength) {
    throw new PduError(
      'BAD_LENGTH',
      `modem announced ${opts.tpduLength} TPDU octets, PDU has ${tpduLength}`,
      tpduStart,
    );
  }
  const firstOctet = r.peek('first octet');
  const frame: PduFrame = { tpduLength, firstOctet };
  if (smsc) frame.smsc = smsc;
  return { r, frame, tpduStart };
}

/** @internal Rejects octets after the last field: they mean a length field is wrong. */
/** @internal Decodes a PDU that must be of one TP-MTI type, with that type's field reader. */
export function decodeOfType<T>(
  input: string | Uint8Array,
  opts: DecodeOptions,
  mti: number,
  name: string,
  read: (r: ByteReader, frame: PduFrame) => T,
): T {
  const { r, frame } = openPdu(input, opts);
  if ((frame.firstOctet & 0x03) !== mti) {
    throw new PduError('UNSUPPORTED_TYPE', `TP-MTI ${frame.firstOctet & 0x03} is not ${name}`, r.pos);
  }
  const pdu = read(r, frame);
  finishPdu(r, opts);
  return pdu;
}

export function finishPdu(r: ByteReader, opts: DecodeOptions = {}): void {
  if (r.remaining > 0 && !opts.allowTrailing) {
    throw new PduError('BAD_LENGTH', `${r.remaining} unexpected octet(s) after the last field`, r.pos);
  }
}

/** @internal */
export function assemble(smsc: string | undefined, tpdu: Buffer[]): EncodedPdu {
  const body = Buffer.concat(tpdu);
  return { hex: bufferToHex(Buffer.concat([encodeSmscAddress(smsc), body])), tpduLength: body.length };
}

/** @internal Validates an optional octet-valued option. */
export function octet(v: number | undefined, fallback: number, what: string): number {
  const x = v ?? fallback;
  if (!Number.isInteger(x) || x < 0 || x > 0xff) {
    throw new PduError('BAD_ARGUMENT', `${what} must be 0..255, got ${x}`);
  }
  return x;
}

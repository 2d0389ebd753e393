import smpp, { type PduValue } from 'smpp';
import { STATUS } from './status.js';

/**
 * SMPP framing and field access over the `smpp` package's command and TLV tables.
 *
 * The package's own Session frames the stream itself and stalls for good on a short or absurd
 * command_length (and cannot tell us the sequence number to nack), and its decode filters turn
 * short_message into lossy text (`data_coding & 0x0F`, GSM for IA5). So we frame the TCP stream
 * here, read the mandatory fields raw with the package's type readers, keep TLVs as raw Buffers by
 * tag, and encode our PDUs with the package's PDU class.
 */

// In their own file so that readers of the accounts file (esme, via simulation.ts) do not load the
// `smpp` package at start.
export { STATUS } from './status.js';

export const CMD = {
  generic_nack: 0x80000000,
  bind_receiver: 0x01,
  bind_transmitter: 0x02,
  query_sm: 0x03,
  submit_sm: 0x04,
  deliver_sm: 0x05,
  unbind: 0x06,
  replace_sm: 0x07,
  cancel_sm: 0x08,
  bind_transceiver: 0x09,
  outbind: 0x0b,
  enquire_link: 0x15,
  submit_multi: 0x21,
  alert_notification: 0x102,
  data_sm: 0x103,
} as const;

export const TLV = {
  receipted_message_id: 0x001e,
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  sc_interface_version: 0x0210,
  network_error_code: 0x0423,
  message_payload: 0x0424,
  message_state: 0x0427,
} as const;

export const HEADER_LENGTH = 16;
export const RESPONSE_BIT = 0x80000000;

/** A request or response read off the wire: header, mandatory fields by name, TLVs by tag. */
export interface RawPdu {
  length: number;
  id: number;
  status: number;
  seq: number;
  /** Name from the package's table, or undefined for a command_id it does not know. */
  command: string | undefined;
  fields: Record<string, PduValue>;
  tlvs: ReadonlyMap<number, Buffer>;
  /** Offset where the TLVs begin (the end of the mandatory fields). */
  tlvStart: number;
}

export class PduDecodeError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The request is framed well and only one field is wrong: answer it with its own response. */
    readonly answer = false,
  ) {
    super(message);
    this.name = 'PduDecodeError';
  }
}

/** Header-only PDUs (enquire_link, unbind...) share one empty map: a flood of them makes less garbage. */
const NO_TLVS: ReadonlyMap<number, Buffer> = new Map();

/** Decodes one complete PDU (exactly command_length bytes). Throws PduDecodeError for a bad body. */
export function decodePdu(buf: Buffer): RawPdu {
  const pdu: RawPdu = {
    length: buf.readUInt32BE(0),
    id: buf.readUInt32BE(4),
    status: buf.readUInt32BE(8),
    seq: buf.readUInt32BE(12),
    command: undefined,
    fields: {},
    tlvs: NO_TLVS,
    tlvStart: buf.length,
  };
  const def = smpp.commandsById[pdu.id];
  if (!def) return pdu;
  pdu.command = def.command;
  // A response with an error status carries no body (3.4 §3.3; the package writes none either).
  if (pdu.id & RESPONSE_BIT && pdu.status !== 0 && buf.length === HEADER_LENGTH) return pdu;
  let off = HEADER_LENGTH;
  const request = (pdu.id & RESPONSE_BIT) === 0;
  try {
    for (const [name, p] of Object.entries(def.params ?? {})) {
      if (off >= buf.length) {
        if (!request) break; // optional trailing fields (e.g. an empty bind_resp body)
        throw new PduDecodeError(`${def.command} ends before its field ${name}`, STATUS.RINVCMDLEN);
      }
      const v = p.type.read(buf, off);
      // A length-prefixed field (short_message) must have the bytes its length announces.
      if (Buffer.isBuffer(v) && (buf[off] ?? 0) !== v.length)
        throw new PduDecodeError(
          `${name === 'short_message' ? 'sm_length' : `length of ${name}`} ${buf[off] ?? 0} but only ${v.length} bytes follow`,
          name === 'short_message' ? STATUS.RINVMSGLEN : STATUS.RINVCMDLEN,
          request,
        );
      off += p.type.size(v);
      pdu.fields[name] = v;
    }
    if (off > buf.length)
      throw new PduDecodeError('a mandatory field runs past command_length', STATUS.RINVCMDLEN);
    pdu.tlvStart = off;
    while (off + 4 <= buf.length) {
      const tag = buf.readUInt16BE(off);
      const len = buf.readUInt16BE(off + 2);
      off += 4;
      if (off + len > buf.length)
        throw new PduDecodeError(`TLV 0x${tag.toString(16)} runs past command_length`, STATUS.RINVTLVLEN);
      if (pdu.tlvs === NO_TLVS) pdu.tlvs = new Map();
      (pdu.tlvs as Map<number, Buffer>).set(tag, buf.subarray(off, off + len));
      off += len;
    }
    if (off !== buf.length) throw new PduDecodeError('trailing bytes after the last TLV', STATUS.RINVCMDLEN);
  } catch (err) {
    if (err instanceof PduDecodeError) throw err;
    throw new PduDecodeError(`malformed ${def.command}: ${(err as Error).message}`, STATUS.RINVCMDLEN);
  }
  return pdu;
}

export function fieldString(pdu: RawPdu, name: string): string {
  const v = pdu.fields[name];
  return typeof v === 'string' ? v : '';
}

export function fieldInt(pdu: RawPdu, name: string): number {
  const v = pdu.fields[name];
  return typeof v === 'number' ? v : 0;
}

export function fieldBuffer(pdu: RawPdu, name: string): Buffer {
  const v = pdu.fields[name];
  return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
}

/** The PDU without its TLVs, for an SMPP 3.3 peer (TLVs came with 3.4). */
export function withoutTlvs(buf: Buffer): Buffer {
  const end = decodePdu(buf).tlvStart;
  if (end >= buf.length) return buf;
  const out = Buffer.from(buf.subarray(0, end));
  out.writeUInt32BE(end, 0);
  return out;
}

/** A header-only PDU: generic_nack, error responses, enquire_link(_resp), unbind(_resp). */
export function headerOnly(id: number, status: number, seq: number): Buffer {
  // From the shared pool: a flood of small answers costs no allocation each (every byte is written).
  const b = Buffer.allocUnsafe(HEADER_LENGTH);
  b.writeUInt32BE(HEADER_LENGTH, 0);
  b.writeUInt32BE(id >>> 0, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(seq, 12);
  return b;
}

/** submit_sm_resp / data_sm_resp with a message_id: the hot path, encoded by hand. */
export function messageIdResp(id: number, seq: number, messageId: string): Buffer {
  const idBytes = Buffer.from(messageId, 'latin1');
  const b = Buffer.allocUnsafe(HEADER_LENGTH + idBytes.length + 1);
  b[b.length - 1] = 0;
  b.writeUInt32BE(b.length, 0);
  b.writeUInt32BE(id >>> 0, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(seq, 12);
  idBytes.copy(b, HEADER_LENGTH);
  return b;
}

/** Any PDU through the package's encoder (bind responses, deliver_sm...). */
export function encodePdu(command: string, options: Record<string, PduValue>): Buffer {
  return new smpp.PDU(command, options).toBuffer();
}

export type FrameEvent =
  | { kind: 'pdu'; buf: Buffer }
  /** command_length below 16 or above the maximum: the stream cannot be framed any more. */
  | { kind: 'bad-length'; length: number; seq: number };

/**
 * Cuts a TCP byte stream into PDUs. After a bad length it yields nothing more: the session
 * answers with generic_nack and closes, because nothing after that point can be trusted.
 */
export class Framer {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private broken = false;
  /** command_length of the PDU still arriving: its chunks are joined once, when it is complete. */
  private awaiting = 0;

  constructor(private readonly maxLength: number) {}

  push(chunk: Buffer): FrameEvent[] {
    if (this.broken) return [];
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    // Joining on every chunk would copy a large PDU sent in small pieces over and over (quadratic).
    if (this.pendingLength < this.awaiting) return [];
    this.awaiting = 0;
    const out: FrameEvent[] = [];
    let buf = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingLength);
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (len < HEADER_LENGTH || len > this.maxLength) {
        // The sequence number sits at bytes 12..15 of the header, if they have arrived.
        const seq = buf.length - off >= HEADER_LENGTH ? buf.readUInt32BE(off + 12) : 0;
        out.push({ kind: 'bad-length', length: len, seq });
        this.broken = true;
        this.pending = [];
        this.pendingLength = 0;
        return out;
      }
      if (buf.length - off < len) {
        this.awaiting = len;
        break;
      }
      out.push({ kind: 'pdu', buf: buf.subarray(off, off + len) });
      off += len;
    }
    buf = buf.subarray(off);
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingLength = buf.length;
    return out;
  }
}

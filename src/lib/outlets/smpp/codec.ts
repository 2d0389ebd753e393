/**
 * SMPP 3.4 framing for the outlet's ESME client, by hand. The `smpp` package decodes
 * short_message through its own charset guesses (data_coding 0 as its ASCII table, binary parts
 * and receipts as text) and stalls on a malformed PDU; the outlet needs the raw octets (GSM
 * unpacked, UDH, receipts), batched writes and exactly the few PDUs an ESME uses, so this is the
 * smaller and faster path.
 */

export const CMD = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_transmitter: 0x00000002,
  submit_sm: 0x00000004,
  deliver_sm: 0x00000005,
  unbind: 0x00000006,
  bind_transceiver: 0x00000009,
  enquire_link: 0x00000015,
  data_sm: 0x00000103,
} as const;

export const RESP = 0x80000000;

export const TLV = {
  receipted_message_id: 0x001e,
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  message_payload: 0x0424,
  network_error_code: 0x0423,
  message_state: 0x0427,
} as const;

/** Status names for logs and error/ reasons (SMPP 3.4 section 5.1.3). */
const STATUS: Record<number, string> = {
  0x00: 'ESME_ROK',
  0x01: 'ESME_RINVMSGLEN',
  0x02: 'ESME_RINVCMDLEN',
  0x03: 'ESME_RINVCMDID',
  0x04: 'ESME_RINVBNDSTS',
  0x05: 'ESME_RALYBND',
  0x06: 'ESME_RINVPRTFLG',
  0x07: 'ESME_RINVREGDLVFLG',
  0x08: 'ESME_RSYSERR',
  0x0a: 'ESME_RINVSRCADR',
  0x0b: 'ESME_RINVDSTADR',
  0x0c: 'ESME_RINVMSGID',
  0x0d: 'ESME_RBINDFAIL',
  0x0e: 'ESME_RINVPASWD',
  0x0f: 'ESME_RINVSYSID',
  0x11: 'ESME_RCANCELFAIL',
  0x13: 'ESME_RREPLACEFAIL',
  0x14: 'ESME_RMSGQFUL',
  0x15: 'ESME_RINVSERTYP',
  0x33: 'ESME_RINVNUMDESTS',
  0x34: 'ESME_RINVDLNAME',
  0x40: 'ESME_RINVDESTFLAG',
  0x42: 'ESME_RINVSUBREP',
  0x43: 'ESME_RINVESMCLASS',
  0x44: 'ESME_RCNTSUBDL',
  0x45: 'ESME_RSUBMITFAIL',
  0x48: 'ESME_RINVSRCTON',
  0x49: 'ESME_RINVSRCNPI',
  0x50: 'ESME_RINVDSTTON',
  0x51: 'ESME_RINVDSTNPI',
  0x53: 'ESME_RINVSYSTYP',
  0x54: 'ESME_RINVREPFLAG',
  0x55: 'ESME_RINVNUMMSGS',
  0x58: 'ESME_RTHROTTLED',
  0x61: 'ESME_RINVSCHED',
  0x62: 'ESME_RINVEXPIRY',
  0x63: 'ESME_RINVDFTMSGID',
  0x64: 'ESME_RX_T_APPN',
  0x65: 'ESME_RX_P_APPN',
  0x66: 'ESME_RX_R_APPN',
  0x67: 'ESME_RQUERYFAIL',
  0xc0: 'ESME_RINVOPTPARSTREAM',
  0xc1: 'ESME_ROPTPARNOTALLWD',
  0xc2: 'ESME_RINVPARLEN',
  0xc3: 'ESME_RMISSINGOPTPARAM',
  0xc4: 'ESME_RINVOPTPARAMVAL',
  0xfe: 'ESME_RDELIVERYFAILURE',
  0xff: 'ESME_RUNKNOWNERR',
};

export function statusName(status: number): string {
  return STATUS[status] ?? `0x${status.toString(16).padStart(8, '0').toUpperCase()}`;
}

export interface Pdu {
  command: number;
  status: number;
  seq: number;
  body: Buffer;
}

/** Largest PDU accepted from the SMSC (a 64 KiB message_payload plus headers). */
export const MAX_PDU = 70_000;

export class FrameError extends Error {}

/** Cuts a TCP byte stream into PDUs; a length outside 16..MAX_PDU is a broken stream. */
export class PduReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Pdu[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Pdu[] = [];
    let off = 0;
    while (this.buf.length - off >= 16) {
      const len = this.buf.readUInt32BE(off);
      if (len < 16 || len > MAX_PDU) throw new FrameError(`PDU length ${len} out of range`);
      if (this.buf.length - off < len) break;
      out.push({
        command: this.buf.readUInt32BE(off + 4),
        status: this.buf.readUInt32BE(off + 8),
        seq: this.buf.readUInt32BE(off + 12),
        body: this.buf.subarray(off + 16, off + len),
      });
      off += len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }
}

export function encodePdu(command: number, status: number, seq: number, body: Buffer = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(16 + body.length);
  out.writeUInt32BE(16 + body.length, 0);
  out.writeUInt32BE(command >>> 0, 4);
  out.writeUInt32BE(status >>> 0, 8);
  out.writeUInt32BE(seq >>> 0, 12);
  body.copy(out, 16);
  return out;
}

const EMPTY = Buffer.alloc(0);

/** Body builder: C-octet strings, integers, octet strings, TLVs. */
class Body {
  private readonly parts: Buffer[] = [];
  cstr(s: string, max: number): this {
    const b = Buffer.from(s, 'latin1');
    if (b.length >= max) throw new RangeError(`"${s}" is longer than ${max - 1} characters`);
    this.parts.push(b, ZERO);
    return this;
  }
  u8(...v: number[]): this {
    this.parts.push(Buffer.from(v.map((x) => x & 0xff)));
    return this;
  }
  octets(b: Uint8Array): this {
    this.parts.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }
  tlv(tag: number, value: Buffer): this {
    const h = Buffer.allocUnsafe(4);
    h.writeUInt16BE(tag, 0);
    h.writeUInt16BE(value.length, 2);
    this.parts.push(h, value);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}
const ZERO = Buffer.from([0]);

export function encodeBind(o: {
  systemId: string;
  password: string;
  systemType: string;
  ton: number;
  npi: number;
  addressRange: string;
}): Buffer {
  return new Body()
    .cstr(o.systemId, 16)
    .cstr(o.password, 9)
    .cstr(o.systemType, 13)
    .u8(0x34, o.ton, o.npi)
    .cstr(o.addressRange, 41)
    .done();
}

export interface SubmitFields {
  serviceType: string;
  srcTon: number;
  srcNpi: number;
  src: string;
  dstTon: number;
  dstNpi: number;
  dst: string;
  esmClass: number;
  protocolId: number;
  priority: number;
  validity: string;
  registeredDelivery: number;
  dataCoding: number;
  /** short_message octets (UDH included); empty when `payload` carries the message. */
  shortMessage: Buffer;
  payload?: Buffer;
  sar?: { ref: number; total: number; seq: number };
}

export function encodeSubmit(f: SubmitFields): Buffer {
  const b = new Body()
    .cstr(f.serviceType, 6)
    .u8(f.srcTon, f.srcNpi)
    .cstr(f.src, 21)
    .u8(f.dstTon, f.dstNpi)
    .cstr(f.dst, 21)
    .u8(f.esmClass, f.protocolId, f.priority)
    .cstr('', 17)
    .cstr(f.validity, 17)
    .u8(f.registeredDelivery, 0, f.dataCoding, 0, f.shortMessage.length)
    .octets(f.shortMessage);
  if (f.sar) {
    const ref = Buffer.allocUnsafe(2);
    ref.writeUInt16BE(f.sar.ref & 0xffff, 0);
    b.tlv(TLV.sar_msg_ref_num, ref)
      .tlv(TLV.sar_total_segments, Buffer.from([f.sar.total]))
      .tlv(TLV.sar_segment_seqnum, Buffer.from([f.sar.seq]));
  }
  if (f.payload) b.tlv(TLV.message_payload, f.payload);
  return b.done();
}

/** Reads C-octet strings and integers; a field running past the body is a malformed PDU. */
class Cursor {
  off = 0;
  constructor(private readonly b: Buffer) {}
  cstr(): string {
    const end = this.b.indexOf(0, this.off);
    if (end < 0) throw new FrameError('unterminated C-octet string');
    const s = this.b.toString('latin1', this.off, end);
    this.off = end + 1;
    return s;
  }
  u8(): number {
    if (this.off >= this.b.length) throw new FrameError('PDU body too short');
    return this.b[this.off++] as number;
  }
  octets(n: number): Buffer {
    if (this.off + n > this.b.length) throw new FrameError('short_message runs past the PDU');
    const s = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return s;
  }
  tlvs(): Map<number, Buffer> {
    const m = new Map<number, Buffer>();
    while (this.off + 4 <= this.b.length) {
      const tag = this.b.readUInt16BE(this.off);
      const len = this.b.readUInt16BE(this.off + 2);
      this.off += 4;
      m.set(tag, this.octets(len));
    }
    return m;
  }
}

/** deliver_sm or data_sm from the SMSC (MO or receipt), raw. */
export interface IncomingSm {
  src: string;
  srcTon: number;
  dst: string;
  esmClass: number;
  dataCoding: number;
  /** short_message, else message_payload (UDH included when esm_class has 0x40). */
  message: Buffer;
  tlvs: Map<number, Buffer>;
}

export function decodeDeliverSm(body: Buffer): IncomingSm {
  const c = new Cursor(body);
  c.cstr(); // service_type
  const srcTon = c.u8();
  c.u8();
  const src = c.cstr();
  c.u8();
  c.u8();
  const dst = c.cstr();
  const esmClass = c.u8();
  c.u8(); // protocol_id
  c.u8(); // priority
  c.cstr(); // schedule
  c.cstr(); // validity
  c.u8(); // registered_delivery
  c.u8(); // replace_if_present
  const dataCoding = c.u8();
  c.u8(); // sm_default_msg_id
  const sm = c.octets(c.u8());
  const tlvs = c.tlvs();
  const message = sm.length > 0 ? sm : (tlvs.get(TLV.message_payload) ?? sm);
  return { src, srcTon, dst, esmClass, dataCoding, message, tlvs };
}

export function decodeDataSm(body: Buffer): IncomingSm {
  const c = new Cursor(body);
  c.cstr();
  const srcTon = c.u8();
  c.u8();
  const src = c.cstr();
  c.u8();
  c.u8();
  const dst = c.cstr();
  const esmClass = c.u8();
  c.u8(); // registered_delivery
  const dataCoding = c.u8();
  const tlvs = c.tlvs();
  return { src, srcTon, dst, esmClass, dataCoding, message: tlvs.get(TLV.message_payload) ?? EMPTY, tlvs };
}

/** message_id of a submit_sm_resp / data_sm_resp (may be absent on an error answer). */
export function decodeMessageId(body: Buffer): string {
  const end = body.indexOf(0);
  return body.toString('latin1', 0, end < 0 ? body.length : end);
}

export function cstrBody(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'latin1'), ZERO]);
}

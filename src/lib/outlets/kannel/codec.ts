/**
 * Kannel's box protocol (bearerbox smsbox-port), Kannel 1.4.5 layout: a frame is a uint32 BE
 * payload length, then the payload: an int32 type tag and every field of that type in
 * gw/msg-decl.h order. INTEGER = int32 BE (-1: undefined); OCTSTR = int32 BE length + bytes
 * (-1: NULL); UUID = OCTSTR of the 36-character text form.
 *
 * Strict on input: an unknown type, a short payload, bytes left over, or a string length past the
 * payload is an error (the link must close: the stream is out of step). The decoder never
 * allocates from a length it has not checked against the bytes actually present.
 */

export const MSG_HEARTBEAT = 0;
export const MSG_ADMIN = 1;
export const MSG_SMS = 2;
export const MSG_ACK = 3;
export const MSG_WDP = 4;

/** admin.command */
export const ADMIN_SHUTDOWN = 0;
export const ADMIN_SUSPEND = 1;
export const ADMIN_RESUME = 2;
export const ADMIN_IDENTIFY = 3;
export const ADMIN_RESTART = 4;

/** sms.sms_type */
export const SMS_MO = 0;
export const SMS_MT_REPLY = 1;
export const SMS_MT_PUSH = 2;
export const SMS_REPORT_MO = 3;
export const SMS_REPORT_MT = 4;

/** ack.nack */
export const ACK_SUCCESS = 0;
export const ACK_FAILED = 1;
export const ACK_FAILED_TMP = 2;
export const ACK_BUFFERED = 3;

/** sms.coding */
export const CODING_7BIT = 0;
export const CODING_8BIT = 1;
export const CODING_UCS2 = 2;

export type Str = Buffer | null;

/** The sms fields, wire order of Kannel 1.4.5 (31 fields; `split_parts` is VOID, never sent). */
export const SMS_FIELDS = [
  ['sender', 's'],
  ['receiver', 's'],
  ['udhdata', 's'],
  ['msgdata', 's'],
  ['time', 'i'],
  ['smsc_id', 's'],
  ['smsc_number', 's'],
  ['foreign_id', 's'],
  ['service', 's'],
  ['account', 's'],
  ['id', 'u'],
  ['sms_type', 'i'],
  ['mclass', 'i'],
  ['mwi', 'i'],
  ['coding', 'i'],
  ['compress', 'i'],
  ['validity', 'i'],
  ['deferred', 'i'],
  ['dlr_mask', 'i'],
  ['dlr_url', 's'],
  ['pid', 'i'],
  ['alt_dcs', 'i'],
  ['rpi', 'i'],
  ['charset', 's'],
  ['boxc_id', 's'],
  ['binfo', 's'],
  ['msg_left', 'i'],
  ['priority', 'i'],
  ['resend_try', 'i'],
  ['resend_time', 'i'],
  ['meta_data', 's'],
] as const;

type FieldKind = { s: Str; i: number; u: string | null };
type SmsFieldName = (typeof SMS_FIELDS)[number][0];
type KindOf<N extends SmsFieldName> = Extract<(typeof SMS_FIELDS)[number], readonly [N, unknown]>[1];
export type Sms = { [N in SmsFieldName]: FieldKind[KindOf<N>] };

export type Msg =
  | { type: typeof MSG_HEARTBEAT; load: number }
  | { type: typeof MSG_ADMIN; command: number; boxcId: Str }
  | { type: typeof MSG_SMS; sms: Sms }
  | { type: typeof MSG_ACK; nack: number; time: number; id: string | null }
  | {
      type: typeof MSG_WDP;
      sourceAddress: Str;
      sourcePort: number;
      destinationAddress: Str;
      destinationPort: number;
      userData: Str;
    };

export class BoxProtocolError extends Error {
  override name = 'BoxProtocolError';
}

/** An sms with every field undefined (-1 / NULL), as Kannel's msg_create makes it. */
export function emptySms(): Sms {
  const sms: Record<string, Str | number | string | null> = {};
  for (const [name, kind] of SMS_FIELDS) sms[name] = kind === 'i' ? -1 : null;
  return sms as Sms;
}

const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

// ---- encoding ----

/** Writes a frame into one growing buffer (one allocation per frame in the common case). */
class Writer {
  private buf = Buffer.allocUnsafe(512);
  private size = 4; // the length prefix, written last

  private room(n: number): void {
    if (this.size + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.size + n));
    this.buf.copy(next, 0, 0, this.size);
    this.buf = next;
  }

  int(v: number): void {
    this.room(4);
    this.buf.writeInt32BE(v | 0, this.size);
    this.size += 4;
  }

  str(v: Str | string): void {
    if (v === null) return this.int(-1);
    if (typeof v === 'string') {
      const n = Buffer.byteLength(v, 'utf8');
      this.int(n);
      this.room(n);
      this.buf.write(v, this.size, 'utf8');
      this.size += n;
      return;
    }
    this.int(v.length);
    this.room(v.length);
    v.copy(this.buf, this.size);
    this.size += v.length;
  }

  /** The frame: length prefix + payload. */
  frame(): Buffer {
    this.buf.writeUInt32BE(this.size - 4, 0);
    return this.buf.subarray(0, this.size);
  }
}

/** One frame (length prefix included) carrying `msg`. */
export function encodeMsg(msg: Msg): Buffer {
  const w = new Writer();
  w.int(msg.type);
  switch (msg.type) {
    case MSG_HEARTBEAT:
      w.int(msg.load);
      break;
    case MSG_ADMIN:
      w.int(msg.command);
      w.str(msg.boxcId);
      break;
    case MSG_ACK:
      w.int(msg.nack);
      w.int(msg.time);
      w.str(msg.id);
      break;
    case MSG_WDP:
      w.str(msg.sourceAddress);
      w.int(msg.sourcePort);
      w.str(msg.destinationAddress);
      w.int(msg.destinationPort);
      w.str(msg.userData);
      break;
    case MSG_SMS: {
      const sms = msg.sms as Record<string, Str | number | string | null>;
      for (const [name, kind] of SMS_FIELDS) {
        const v = sms[name];
        if (kind === 'i') w.int(typeof v === 'number' ? v : -1);
        else w.str(v === undefined || typeof v === 'number' ? null : v);
      }
      break;
    }
  }
  return w.frame();
}

// ---- decoding ----

class Reader {
  private pos = 0;
  constructor(private readonly b: Buffer) {}

  int(field: string): number {
    if (this.pos + 4 > this.b.length) throw new BoxProtocolError(`payload ends inside ${field}`);
    const v = this.b.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  str(field: string): Str {
    const n = this.int(field);
    if (n === -1) return null;
    if (n < 0) throw new BoxProtocolError(`${field}: negative length ${n}`);
    if (n > this.b.length - this.pos)
      throw new BoxProtocolError(`${field}: length ${n} exceeds the ${this.b.length - this.pos} bytes left`);
    // A view, not a copy: the payload buffer is ours (the frame reader made it for this frame).
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  uuid(field: string): string | null {
    const v = this.str(field);
    if (v === null) return null;
    // Kannel writes the text form with a terminating NUL on some builds; take the 36 characters.
    const text = v.toString('latin1').replace(/\0+$/, '');
    if (!UUID_TEXT.test(text)) throw new BoxProtocolError(`${field}: not a UUID`);
    return text.toLowerCase();
  }

  end(what: string): void {
    if (this.pos !== this.b.length)
      throw new BoxProtocolError(`${this.b.length - this.pos} bytes left over after ${what}`);
  }
}

/** Decodes one payload (without its length prefix). Throws BoxProtocolError when malformed. */
export function decodePayload(payload: Buffer): Msg {
  const r = new Reader(payload);
  const type = r.int('type');
  let msg: Msg;
  switch (type) {
    case MSG_HEARTBEAT:
      msg = { type, load: r.int('heartbeat.load') };
      break;
    case MSG_ADMIN:
      msg = { type, command: r.int('admin.command'), boxcId: r.str('admin.boxc_id') };
      break;
    case MSG_ACK:
      msg = { type, nack: r.int('ack.nack'), time: r.int('ack.time'), id: r.uuid('ack.id') };
      break;
    case MSG_WDP:
      msg = {
        type,
        sourceAddress: r.str('wdp.source_address'),
        sourcePort: r.int('wdp.source_port'),
        destinationAddress: r.str('wdp.destination_address'),
        destinationPort: r.int('wdp.destination_port'),
        userData: r.str('wdp.user_data'),
      };
      break;
    case MSG_SMS: {
      const sms: Record<string, Str | number | string | null> = {};
      for (const [name, kind] of SMS_FIELDS) {
        const field = `sms.${name}`;
        sms[name] = kind === 'i' ? r.int(field) : kind === 'u' ? r.uuid(field) : r.str(field);
      }
      msg = { type, sms: sms as Sms };
      break;
    }
    default:
      throw new BoxProtocolError(`unknown message type ${type}`);
  }
  r.end(typeNames[type] ?? 'message');
  return msg;
}

const typeNames: Record<number, string> = {
  [MSG_HEARTBEAT]: 'heartbeat',
  [MSG_ADMIN]: 'admin',
  [MSG_SMS]: 'sms',
  [MSG_ACK]: 'ack',
  [MSG_WDP]: 'wdp_datagram',
};

/**
 * Splits a byte stream into payloads. A length above `maxFrame` (or below the 4 bytes of a type
 * tag) throws before a byte of it is buffered; chunks are kept as they come and joined once the
 * whole frame is there, so memory is bounded by `maxFrame` plus one read.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;

  constructor(private readonly maxFrame: number) {}

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Adds `data` and returns the complete payloads it finishes. */
  push(data: Buffer): Buffer[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const head = this.take(4);
        const n = head.readUInt32BE(0);
        if (n > this.maxFrame)
          throw new BoxProtocolError(`frame length ${n} exceeds the limit of ${this.maxFrame} bytes`);
        if (n < 4) throw new BoxProtocolError(`frame length ${n} is too short for a message`);
        this.need = n;
      }
      if (this.buffered < this.need) break;
      out.push(this.take(this.need));
      this.need = -1;
    }
    return out;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    let result: Buffer;
    if (first.length >= n) {
      result = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      result = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0] as Buffer;
        const k = Math.min(c.length, n - off);
        c.copy(result, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return result;
  }
}

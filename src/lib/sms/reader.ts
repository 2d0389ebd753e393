import { PduError } from './errors.js';

/**
 * Bounds-checked cursor. Every decoder reads through it so that a short PDU surfaces as
 * PduError TRUNCATED (with the offset) instead of `undefined` leaking into arithmetic.
 */
export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    pos = 0,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(what: string): number {
    const v = this.buf[this.pos];
    if (v === undefined) throw new PduError('TRUNCATED', `PDU ends before ${what}`, this.pos);
    this.pos++;
    return v;
  }

  peek(what: string): number {
    const v = this.buf[this.pos];
    if (v === undefined) throw new PduError('TRUNCATED', `PDU ends before ${what}`, this.pos);
    return v;
  }

  bytes(n: number, what: string): Buffer {
    if (this.pos + n > this.buf.length) {
      throw new PduError('TRUNCATED', `PDU ends inside ${what} (${n} octets needed)`, this.pos);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

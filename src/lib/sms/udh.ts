import { PduError } from './errors.js';

/** Information element identifiers with a typed form (23.040 9.2.3.24). */
export const IEI_CONCAT_8BIT = 0x00;
export const IEI_PORTS_8BIT = 0x04;
export const IEI_PORTS_16BIT = 0x05;
export const IEI_CONCAT_16BIT = 0x08;

export interface ConcatInfo {
  ref: number;
  total: number;
  seq: number;
  ref16bit: boolean;
}

export type UdhElement =
  | ({ kind: 'concat'; iei: typeof IEI_CONCAT_8BIT | typeof IEI_CONCAT_16BIT } & ConcatInfo)
  | {
      kind: 'ports';
      iei: typeof IEI_PORTS_8BIT | typeof IEI_PORTS_16BIT;
      destination: number;
      source: number;
      bits: 8 | 16;
    }
  | { kind: 'raw'; iei: number; data: Buffer };

/** Body octets a UDH may take: the whole header, incl. the UDHL octet, must fit in 140 octets. */
const MAX_UDH_BODY = 139;

function typed(iei: number, data: Buffer): UdhElement {
  const b = (i: number): number => data[i] ?? 0;
  if (iei === IEI_CONCAT_8BIT && data.length === 3) {
    const [ref, total, seq] = [b(0), b(1), b(2)];
    // 23.040 9.2.3.24.1: seq 0 or beyond total -> ignore the element, so it stays raw.
    if (total > 0 && seq > 0 && seq <= total) {
      return { kind: 'concat', iei, ref, total, seq, ref16bit: false };
    }
  }
  if (iei === IEI_CONCAT_16BIT && data.length === 4) {
    const [ref, total, seq] = [(b(0) << 8) | b(1), b(2), b(3)];
    if (total > 0 && seq > 0 && seq <= total) return { kind: 'concat', iei, ref, total, seq, ref16bit: true };
  }
  if (iei === IEI_PORTS_8BIT && data.length === 2) {
    return { kind: 'ports', iei, destination: b(0), source: b(1), bits: 8 };
  }
  if (iei === IEI_PORTS_16BIT && data.length === 4) {
    return { kind: 'ports', iei, destination: (b(0) << 8) | b(1), source: (b(2) << 8) | b(3), bits: 16 };
  }
  return { kind: 'raw', iei, data: Buffer.from(data) };
}

/**
 * Parses a User Data Header including its UDHL octet. Malformed known IEs (wrong length, invalid
 * sequence numbers) are kept raw rather than failing the message; only structural damage (an IE
 * running past the header, a UDHL that disagrees with the buffer) is BAD_UDH.
 */
export function parseUdh(udh: Uint8Array): UdhElement[] {
  const udhl = udh[0];
  if (udhl === undefined) throw new PduError('BAD_UDH', 'empty UDH');
  if (udh.length !== udhl + 1) {
    throw new PduError('BAD_UDH', `UDHL says ${udhl} octets but the header holds ${udh.length - 1}`);
  }
  const out: UdhElement[] = [];
  let pos = 1;
  while (pos < udh.length) {
    const iei = udh[pos] ?? 0;
    const len = udh[pos + 1];
    if (len === undefined) throw new PduError('BAD_UDH', `IE 0x${iei.toString(16)} has no length octet`, pos);
    if (pos + 2 + len > udh.length) {
      throw new PduError('BAD_UDH', `IE 0x${iei.toString(16)} (length ${len}) runs past the UDH`, pos);
    }
    out.push(typed(iei, Buffer.from(udh.subarray(pos + 2, pos + 2 + len))));
    pos += 2 + len;
  }
  return out;
}

function uint(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new PduError('BAD_ARGUMENT', `${what} must be 0..${max}, got ${v}`);
  }
  return v;
}

function elementBytes(e: UdhElement): Buffer {
  switch (e.kind) {
    case 'concat': {
      const total = uint(e.total, 255, 'concat total');
      const seq = uint(e.seq, 255, 'concat seq');
      if (total < 1 || seq < 1 || seq > total) {
        throw new PduError('BAD_ARGUMENT', `concat seq ${seq} of ${total} is not 1..total`);
      }
      if (e.ref16bit) {
        const ref = uint(e.ref, 0xffff, 'concat ref');
        return Buffer.from([IEI_CONCAT_16BIT, 4, ref >> 8, ref & 0xff, total, seq]);
      }
      return Buffer.from([IEI_CONCAT_8BIT, 3, uint(e.ref, 0xff, 'concat ref'), total, seq]);
    }
    case 'ports': {
      if (e.bits === 8) {
        return Buffer.from([
          IEI_PORTS_8BIT,
          2,
          uint(e.destination, 0xff, 'port'),
          uint(e.source, 0xff, 'port'),
        ]);
      }
      const d = uint(e.destination, 0xffff, 'port');
      const s = uint(e.source, 0xffff, 'port');
      return Buffer.from([IEI_PORTS_16BIT, 4, d >> 8, d & 0xff, s >> 8, s & 0xff]);
    }
    case 'raw':
      uint(e.iei, 0xff, 'IEI');
      if (e.data.length > MAX_UDH_BODY - 2) {
        throw new PduError('BAD_UDH', `IE 0x${e.iei.toString(16)} too long`);
      }
      return Buffer.concat([Buffer.from([e.iei, e.data.length]), e.data]);
  }
}

/** Encodes information elements into a UDH including the UDHL octet. */
export function encodeUdh(elements: readonly UdhElement[]): Buffer {
  const body = Buffer.concat(elements.map(elementBytes));
  if (body.length > MAX_UDH_BODY) {
    throw new PduError('BAD_UDH', `UDH of ${body.length} octets does not fit an SMS`);
  }
  return Buffer.concat([Buffer.from([body.length]), body]);
}

/** `05 00 03 RR NN PP` or `06 08 04 RRRR NN PP`, the headers gammu-smsd-inject writes. */
export function buildConcatUdh(info: ConcatInfo): Buffer {
  const iei = info.ref16bit ? IEI_CONCAT_16BIT : IEI_CONCAT_8BIT;
  return encodeUdh([{ kind: 'concat', iei, ...info }]);
}

/** The first valid concatenation IE, if any. A Buffer is parsed (BAD_UDH if malformed). */
export function concatInfo(udh: Uint8Array | readonly UdhElement[]): ConcatInfo | undefined {
  const elements = udh instanceof Uint8Array ? parseUdh(udh) : udh;
  for (const e of elements) {
    if (e.kind === 'concat') return { ref: e.ref, total: e.total, seq: e.seq, ref16bit: e.ref16bit };
  }
  return undefined;
}

/** Fill bits that align GSM-7 text after a header of `udhOctets` (incl. UDHL) to a septet boundary. */
export function udhFillBits(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}

import fc from 'fast-check';

// SMPP PDUs laid out by hand (not with the project's encoder) for the fuzz lane and the garbage-peer
// test: well formed, plausible, and mangled.

export const MAX = 64 * 1024;
export const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);
export const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
export function tlv(tag: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(tag, 0);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value]);
}
export function frame(id: number, seq: number, body: Buffer, status = 0): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(16 + body.length, 0);
  h.writeUInt32BE(id >>> 0, 4);
  h.writeUInt32BE(status >>> 0, 8);
  h.writeUInt32BE(seq >>> 0, 12);
  return Buffer.concat([h, body]);
}

const phone = fc
  .string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 15 })
  .chain((d) => fc.constantFrom(d, `+${d}`, `00${d}`));
const addr = fc.oneof(
  { weight: 4, arbitrary: phone },
  fc.string({ unit: fc.constantFrom(...'0123456789+*#'), maxLength: 22 }),
  fc.string({ unit: 'binary-ascii', maxLength: 22 }),
);
const smppTime = fc.oneof(
  fc.constant(''),
  fc
    .tuple(
      fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 6, maxLength: 6 }),
      fc.nat(9),
      fc.nat(99),
      fc.constantFrom('R', '+', '-', 'x'),
    )
    .map(
      ([f, t, nn, p]) =>
        `${f.map((n) => String(n).padStart(2, '0')).join('')}${t}${String(nn).padStart(2, '0')}${p}`,
    ),
  fc.string({ maxLength: 17 }),
);
const dataCoding = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 8, 0xf0, 0xf4, 0x10, 0x18), fc.nat(255));
const esm = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 0x40, 0x03) },
  { weight: 1, arbitrary: fc.nat(255) },
);
const someTlvs = fc.array(
  fc
    .oneof(
      fc.tuple(fc.constantFrom(0x020c, 0x020e, 0x020f), fc.uint8Array({ maxLength: 3 })),
      fc.tuple(fc.constant(0x0424), fc.uint8Array({ maxLength: 400 })),
      fc.tuple(fc.nat(0xffff), fc.uint8Array({ maxLength: 8 })),
    )
    .map(([t, v]) => tlv(t, Buffer.from(v))),
  { maxLength: 4 },
);
const tlvs = fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: someTlvs });
/** A message body: UDH-looking, GSM/IA5-looking or random octets. */
const shortMessage = fc.oneof(
  fc.uint8Array({ maxLength: 254 }).map((u) => Buffer.from(u)),
  fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((s) => Buffer.from(s, 'latin1')),
  fc
    .tuple(
      fc.constantFrom('050003', '0500030a0201', '060804beef0302', '00', '03', 'ff'),
      fc.uint8Array({ maxLength: 150 }),
    )
    .map(([h, u]) => Buffer.concat([Buffer.from(h, 'hex'), Buffer.from(u)])),
);

export const submitSm = fc
  .record({
    seq: fc.nat(),
    serviceType: fc.constantFrom('', 'CMT', 'x'.repeat(7)),
    srcTon: fc.nat(7),
    srcNpi: fc.nat(18),
    src: addr,
    dstTon: fc.constantFrom(0, 1, 1, 2, 0, 5),
    dstNpi: fc.nat(18),
    dst: addr,
    esm,
    pid: fc.nat(255),
    priority: fc.nat(4),
    schedule: fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: smppTime }),
    validity: fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 1, arbitrary: smppTime }),
    rd: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 0x11) },
      { weight: 1, arbitrary: fc.nat(0x1f) },
    ),
    replace: fc.nat(1),
    dc: dataCoding,
    sm: shortMessage,
    smLengthDelta: fc.oneof(
      { weight: 5, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) },
    ),
    tlvs,
  })
  .map((r) =>
    frame(
      0x04,
      r.seq,
      Buffer.concat([
        cstr(r.serviceType),
        u8(r.srcTon),
        u8(r.srcNpi),
        cstr(r.src),
        u8(r.dstTon),
        u8(r.dstNpi),
        cstr(r.dst),
        u8(r.esm),
        u8(r.pid),
        u8(r.priority),
        cstr(r.schedule),
        cstr(r.validity),
        u8(r.rd),
        u8(r.replace),
        u8(r.dc),
        u8(0),
        u8(Math.max(0, r.sm.length + r.smLengthDelta)),
        r.sm,
        ...r.tlvs,
      ]),
    ),
  );

export const dataSm = fc
  .record({
    seq: fc.nat(),
    dstTon: fc.constantFrom(0, 1, 5),
    dst: addr,
    esm,
    rd: fc.nat(0x1f),
    dc: dataCoding,
    tlvs,
  })
  .map((r) =>
    frame(
      0x103,
      r.seq,
      Buffer.concat([
        cstr(''),
        u8(1),
        u8(1),
        cstr('src'),
        u8(r.dstTon),
        u8(1),
        cstr(r.dst),
        u8(r.esm),
        u8(r.rd),
        u8(r.dc),
        ...r.tlvs,
      ]),
    ),
  );

/** Any command_id the server knows, or not, with a random body. */
export const anyPdu = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(
        0x01,
        0x02,
        0x03,
        0x04,
        0x05,
        0x06,
        0x07,
        0x08,
        0x09,
        0x15,
        0x21,
        0x103,
        0x80000004,
        0x80000009,
        0x80000000,
      ),
      fc.nat(),
    ),
    fc.nat(),
    fc.oneof(fc.constant(0), fc.nat()),
    fc.uint8Array({ maxLength: 300 }),
  )
  .map(([id, seq, status, body]) => frame(id, seq, Buffer.from(body), status));

/** Up to three octets of a PDU overwritten, command_length kept (the framer's job is tested apart). */
export function mangled(pdu: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(pdu, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 })).map(([b, edits]) => {
    const c = Buffer.from(b);
    for (const [at, v] of edits) if (c.length > 16) c[16 + (at % (c.length - 16))] = v;
    return c;
  });
}

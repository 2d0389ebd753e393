import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Framer, PduDecodeError, decodePdu, type RawPdu } from '../../src/lib/smpp/pdu.js';
import { checkSubmit } from '../../src/lib/smpp/mt.js';
import { formatBackup } from '../../src/lib/smsbackup/index.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';
import { PduError, encodeSubmit } from '../../src/lib/sms/index.js';
import { onlyThrows, params, timed } from './props.js';

// smppd's side of the wire: the framer and decoder (src/lib/smpp/pdu.ts) and what the server does with
// a decoded submit (checkSubmit → the outbox file smsd run reads). The PDUs are laid out by hand here
// (not with the project's encoder), then mangled.

const MAX = 64 * 1024;
const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);
const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
function tlv(tag: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(tag, 0);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value]);
}
function frame(id: number, seq: number, body: Buffer, status = 0): Buffer {
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

const submitSm = fc
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

const dataSm = fc
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
const anyPdu = fc
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
function mangled(pdu: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(pdu, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 })).map(([b, edits]) => {
    const c = Buffer.from(b);
    for (const [at, v] of edits) if (c.length > 16) c[16 + (at % (c.length - 16))] = v;
    return c;
  });
}

const decode = (b: Buffer): RawPdu | Error => onlyThrows(() => decodePdu(b), [PduDecodeError]);

/** What smppd does with an accepted submit: the outbox file, read back as smsd run reads it, every part encodable. */
const outcomes = { accepted: 0, refused: 0 };
function acceptedIsSendable(p: RawPdu): void {
  const check = checkSubmit(p, new Date('2026-01-01T00:00:00Z'));
  outcomes[check.ok ? 'accepted' : 'refused']++;
  if (!check.ok) {
    expect(check.status, check.reason).toBeGreaterThan(0);
    return;
  }
  const file = formatBackup(check.request.entries, new Date());
  const read = readOutboxFile('OUTC20260101_000000_00_+1_smpp-1.smsbackup', file, 'auto', 0);
  expect(read.ok, read.ok ? '' : read.reason).toBe(true);
  if (!read.ok) return;
  expect(read.message.number).toBe(check.request.destination);
  for (const part of read.message.parts) {
    const e = onlyThrows(() => encodeSubmit(part), [PduError]);
    expect(e instanceof PduError ? `${e.message} for ${JSON.stringify(part)}` : 'ok').toBe('ok');
  }
}

describe('SMPP PDU decoder', () => {
  it('random bodies under any command_id: PduDecodeError or a PDU', () => {
    fc.assert(
      fc.property(mangled(anyPdu), (b) => void decode(b)),
      params(3000),
    );
  });

  it('submit_sm and data_sm, well formed or mangled: decode, then checkSubmit refuses or makes a sendable outbox file', () => {
    fc.assert(
      fc.property(fc.oneof(submitSm, dataSm, mangled(submitSm), mangled(dataSm)), (b) => {
        const p = decode(b);
        if (p instanceof Error) {
          expect((p as PduDecodeError).status).toBeGreaterThan(0);
          return;
        }
        if (p.command === 'submit_sm' || p.command === 'data_sm') acceptedIsSendable(p);
      }),
      params(3000),
    );
    // The generators must reach both ends, or the property proves little.
    expect(outcomes.accepted).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});

describe('SMPP framer', () => {
  it('any split of a stream of PDUs gives the same PDUs back', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(submitSm, anyPdu), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (pdus, cuts) => {
          const stream = Buffer.concat(pdus);
          const at = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
          const framer = new Framer(MAX);
          const out: Buffer[] = [];
          let prev = 0;
          for (const c of [...at, stream.length]) {
            for (const ev of framer.push(stream.subarray(prev, c))) {
              expect(ev.kind).toBe('pdu');
              if (ev.kind === 'pdu') out.push(Buffer.from(ev.buf));
            }
            prev = c;
          }
          expect(out.map((b) => b.toString('hex'))).toEqual(pdus.map((b) => b.toString('hex')));
        },
      ),
      params(1000),
    );
  });

  it('random bytes: never throws, yields only lengths within [16, max], stops after a bad length', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const framer = new Framer(1024);
        let broken = false;
        for (const c of chunks)
          for (const ev of framer.push(Buffer.from(c))) {
            expect(broken).toBe(false);
            if (ev.kind === 'bad-length') broken = true;
            else expect(ev.buf.length >= 16 && ev.buf.length <= 1024).toBe(true);
          }
      }),
      params(2000),
    );
  });

  it('a maximal PDU fed one octet at a time takes bounded time (no quadratic re-concatenation)', () => {
    const big = frame(0x04, 1, Buffer.alloc(MAX - 16));
    const framer = new Framer(MAX);
    let n = 0;
    const ms = timed(() => {
      for (let i = 0; i < big.length; i++) n += framer.push(big.subarray(i, i + 1)).length;
    });
    expect(n).toBe(1);
    expect(ms).toBeLessThan(400); // ~0.9 s when every chunk re-joined all pending octets
  });
});

import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Framer, PduDecodeError, decodePdu, type RawPdu } from '../../src/lib/smpp/protocol/pdu.js';
import { checkSubmit } from '../../src/lib/smpp/protocol/mt.js';
import { formatBackup } from '../../src/lib/smsbackup/index.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';
import { PduError, encodeSubmit } from '../../src/lib/sms/index.js';
import { onlyThrows, params } from './props.js';
import { MAX, anyPdu, dataSm, frame, mangled, submitSm } from './smpp-arbitraries.js';

// smppd's side of the wire: the framer and decoder (src/lib/smpp/pdu.ts) and what the server does with
// a decoded submit (checkSubmit → the outbox file smsd run reads). The PDUs are laid out by hand here
// (not with the project's encoder), then mangled.

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
      // 6,000: since concatenation UDHs are checked, about 3 % of these are accepted.
      params(6000),
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

  it('a maximal PDU fed in random small pieces is joined once (no quadratic re-concatenation)', () => {
    const realConcat = Buffer.concat.bind(Buffer);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        const big = frame(0x04, 1, Buffer.alloc(MAX - 16));
        const framer = new Framer(MAX);
        let copied = 0;
        const spy = vi.spyOn(Buffer, 'concat').mockImplementation((list, total) => {
          const b = realConcat(list, total);
          copied += b.length;
          return b;
        });
        let n = 0;
        for (let i = 0, k = 0; i < big.length; k++) {
          const size = sizes[k % sizes.length] ?? 1;
          n += framer.push(big.subarray(i, i + size)).length;
          i += size;
        }
        spy.mockRestore();
        expect(n).toBe(1);
        expect(copied).toBeLessThanOrEqual(2 * big.length);
      }),
      params(20),
    );
  });
});

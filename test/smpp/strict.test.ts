import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSmppd, type TestSmppd } from './harness.js';
import { RawPeer, bindPdu, header, pdu, submitPdu, CMD } from '../helpers/hostile-smpp.js';
import { listFiles } from '../helpers/spool.js';

// Requests whose bytes do not say what they claim, from a raw socket: refused with the SMPP status
// that names the fault, nothing stored, and the session goes on where the framing is intact.

const S = { ROK: 0, RINVMSGLEN: 0x01, RINVCMDLEN: 0x02, RINVCMDID: 0x03, RINVESMCLASS: 0x43 } as const;
const RESP = 0x80000000;
const SUBMIT_RESP = 0x80000004;

let t: TestSmppd;
let peer: RawPeer;
let seq = 10;
beforeAll(async () => {
  t = await startTestSmppd([{ systemId: 'strict', password: 'strict1' }], 'BlockAttempts = 100\n');
  peer = await RawPeer.connect(t.port);
  const a = await peer.call(bindPdu('strict', 'strict1', 1), 1);
  expect(a?.status).toBe(0);
});
afterAll(async () => {
  peer?.destroy();
  await t?.stop();
  t?.spool.cleanup();
});

async function outbox(): Promise<string[]> {
  await t.settled();
  return listFiles(t.spool.outbox).filter((f) => !f.startsWith('.'));
}

describe('submit_sm bodies that lie', () => {
  it('sm_length 200 with 5 bytes: ESME_RINVMSGLEN, nothing stored, the session goes on', async () => {
    const s = ++seq;
    const a = await peer.call(submitPdu(s, { message: Buffer.from('hello'), smLength: 200 }), s);
    expect(a).toMatchObject({ id: SUBMIT_RESP, status: S.RINVMSGLEN });
    expect(await outbox()).toEqual([]);
  });

  it('sm_length 255 and no body: ESME_RINVMSGLEN, nothing stored', async () => {
    const s = ++seq;
    const a = await peer.call(submitPdu(s, { message: Buffer.alloc(0), smLength: 255 }), s);
    expect(a).toMatchObject({ id: SUBMIT_RESP, status: S.RINVMSGLEN });
    expect(await outbox()).toEqual([]);
  });

  it.each([
    ['total 0, sequence 5', [0, 5]],
    ['sequence 0', [3, 0]],
    ['sequence past the total', [2, 3]],
  ])('a concatenation UDH with %s: ESME_RINVESMCLASS, nothing stored', async (_what, [total, part]) => {
    for (const udh of [
      Buffer.from([5, 0x00, 3, 0x42, total ?? 0, part ?? 0]),
      Buffer.from([6, 0x08, 4, 0x01, 0x42, total ?? 0, part ?? 0]),
    ]) {
      const s = ++seq;
      const a = await peer.call(
        submitPdu(s, { esmClass: 0x40, message: Buffer.concat([udh, Buffer.from('part text')]) }),
        s,
      );
      expect(a).toMatchObject({ id: SUBMIT_RESP, status: S.RINVESMCLASS });
    }
    expect(await outbox()).toEqual([]);
  });

  it('a valid concatenation part and a plain message are still taken on the same session', async () => {
    let s = ++seq;
    const udh = Buffer.from([5, 0x00, 3, 0x42, 2, 1]);
    let a = await peer.call(
      submitPdu(s, { esmClass: 0x40, message: Buffer.concat([udh, Buffer.from('part one')]) }),
      s,
    );
    expect(a?.status).toBe(S.ROK);
    s = ++seq;
    a = await peer.call(submitPdu(s, { message: Buffer.from('hello') }), s);
    expect(a?.status).toBe(S.ROK);
    expect(await outbox()).toHaveLength(2);
  });
});

describe('framing and commands', () => {
  it('an unknown command_id: generic_nack ESME_RINVCMDID, the session goes on', async () => {
    const s = ++seq;
    const a = await peer.call(pdu(0x00000777, s), s);
    expect(a).toMatchObject({ id: RESP, status: S.RINVCMDID });
    const e = ++seq;
    expect((await peer.call(pdu(CMD.enquire_link, e), e))?.status).toBe(0);
  });

  it('a submit_sm cut before its mandatory fields end: generic_nack ESME_RINVCMDLEN and close', async () => {
    const p = await RawPeer.connect(t.port);
    expect((await p.call(bindPdu('strict', 'strict1', 1), 1))?.status).toBe(0);
    const full = submitPdu(5, { message: Buffer.from('cut') });
    // Up to the middle of the destination address: no NUL, no esm_class... command_length says so.
    const cut = Buffer.from(full.subarray(0, 28));
    cut.writeUInt32BE(cut.length, 0);
    const a = await p.call(cut, 5);
    expect(a).toMatchObject({ id: RESP, status: S.RINVCMDLEN });
    expect(await p.whenClosed(5_000)).toBe(true);
  });

  it('a command_length below 16: generic_nack ESME_RINVCMDLEN and close', async () => {
    const p = await RawPeer.connect(t.port);
    const b = header(12, CMD.enquire_link, 0, 9);
    const a = await p.call(b, 9);
    expect(a).toMatchObject({ id: RESP, status: S.RINVCMDLEN });
    expect(await p.whenClosed(5_000)).toBe(true);
  });

  it('a TLV whose length runs past the body: generic_nack and close, nothing stored', async () => {
    const p = await RawPeer.connect(t.port);
    expect((await p.call(bindPdu('strict', 'strict1', 1), 1))?.status).toBe(0);
    const before = (await outbox()).length;
    const b = submitPdu(6, { message: Buffer.from('x'), tlvs: Buffer.from([0x04, 0x24, 0x00, 0x50, 1, 2]) });
    const a = await p.call(b, 6);
    expect(a?.id).toBe(RESP);
    expect(await p.whenClosed(5_000)).toBe(true);
    expect(await outbox()).toHaveLength(before);
  });
});

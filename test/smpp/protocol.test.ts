import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { PDU } from 'smpp';
import { bind, call, closed, connect, startTestSmppd, type TestSmppd } from './harness.js';

// Bind, session states, timers and broken input, against one server (plus one for the blocklist).

let t: TestSmppd;
beforeAll(async () => {
  t = await startTestSmppd(
    [
      { systemId: 'alpha', password: 'secret1' },
      { systemId: 'off', password: 'secret2', extra: 'enabled = no\n' },
      { systemId: 'single', password: 'secret3', extra: 'max_binds = 1\n' },
      { systemId: 'faraway', password: 'secret4', extra: 'allow = 10.0.0.0/8\n' },
    ],
    'BlockAttempts = 1000\nSessionInitTimeout = 0.5\nEnquireLinkInterval = 0.3\nInactivityTimeout = 1.5\nResponseTimeout = 1\nMaxPduLength = 4096\n',
  );
});
afterAll(async () => {
  await t?.stop();
  t?.spool.cleanup();
});

/** Raw bytes to the server; resolves with everything it sent back until it closed (or `ms`). */
function raw(port: number, bytes: Buffer, ms = 3_000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed: false });
    }, ms);
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed: true });
    });
    s.on('error', () => undefined);
  });
}

function header(length: number, id: number, status: number, seq: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(id, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(seq, 12);
  return b;
}

describe('bind', () => {
  it('binds as transmitter, receiver and transceiver and answers with our system_id', async () => {
    for (const cmd of ['bind_transmitter', 'bind_receiver', 'bind_transceiver']) {
      const { session, resp } = await bind(t.port, 'ALPHA', 'secret1', cmd);
      expect(resp.command).toBe(`${cmd}_resp`);
      expect(resp.command_status).toBe(0);
      expect(resp.system_id).toBe('smsgate');
      expect(resp.sc_interface_version).toBe(0x34);
      session.close();
      await closed(session);
    }
  });

  it('answers a wrong password and an unknown system_id the same way, and closes', async () => {
    const wrong = await bind(t.port, 'alpha', 'nope');
    const unknown = await bind(t.port, 'nobody', 'secret1');
    expect(wrong.resp.command_status).toBe(0x0e);
    expect(unknown.resp.command_status).toBe(0x0e);
    await closed(wrong.session);
    await closed(unknown.session);
    expect(t.logs.some((l) => /"nobody" refused: unknown system_id/.test(l))).toBe(true);
  });

  it('refuses a disabled account, too many binds and a source address not allowed', async () => {
    expect((await bind(t.port, 'off', 'secret2')).resp.command_status).toBe(0x0d);
    const first = await bind(t.port, 'single', 'secret3');
    expect(first.resp.command_status).toBe(0);
    expect((await bind(t.port, 'single', 'secret3')).resp.command_status).toBe(0x0d);
    first.session.close();
    await closed(first.session);
    expect((await bind(t.port, 'faraway', 'secret4')).resp.command_status).toBe(0x0d);
  });

  it('blocks an IP after repeated failed binds', async () => {
    const b = await startTestSmppd(
      [{ systemId: 'alpha', password: 'secret1' }],
      'BlockAttempts = 3\nBlockTime = 60\n',
    );
    try {
      for (let i = 0; i < 3; i++) expect((await bind(b.port, 'alpha', 'bad')).resp.command_status).toBe(0x0e);
      // Even the right password gets nothing now: the connection is dropped at once.
      const r = await raw(b.port, Buffer.alloc(0), 2_000);
      expect(r.closed).toBe(true);
      expect(r.data.length).toBe(0);
      expect(b.logs.some((l) => l.includes('blocked after failed binds'))).toBe(true);
    } finally {
      await b.stop();
      b.spool.cleanup();
    }
  });
});

describe('reload (SIGHUP)', () => {
  it('takes new and changed accounts without dropping binds', async () => {
    const r = await startTestSmppd([{ systemId: 'alpha', password: 'secret1' }]);
    try {
      const { session } = await bind(r.port, 'alpha', 'secret1');
      expect((await bind(r.port, 'newbie', 'fresh1')).resp.command_status).toBe(0x0e);
      const { writeAccounts } = await import('./harness.js');
      await writeAccounts(path.join(r.spool.dir, 'esme.ini'), [
        { systemId: 'alpha', password: 'secret1', extra: 'max_binds = 1\n' },
        { systemId: 'newbie', password: 'fresh1' },
      ]);
      await expect(r.smppd.reload()).resolves.toMatch(/: 0 routes, 2 accounts from /);
      expect((await bind(r.port, 'newbie', 'fresh1')).resp.command_status).toBe(0);
      expect((await call(session, 'enquire_link')).command_status).toBe(0);
      // The existing bind counts against the new max_binds = 1.
      expect((await bind(r.port, 'alpha', 'secret1')).resp.command_status).toBe(0x0d);
      session.close();
    } finally {
      await r.stop();
      r.spool.cleanup();
    }
  });
});

describe('session states', () => {
  it('RINVBNDSTS before bind and for a receiver that submits; RALYBND on a second bind', async () => {
    const s = await connect(t.port);
    expect(
      (await call(s, 'submit_sm', { destination_addr: '+420111', short_message: Buffer.from('x') }))
        .command_status,
    ).toBe(4);
    expect((await call(s, 'enquire_link')).command_status).toBe(0);
    expect((await call(s, 'bind_receiver', { system_id: 'alpha', password: 'secret1' })).command_status).toBe(
      0,
    );
    expect(
      (await call(s, 'submit_sm', { destination_addr: '+420111', short_message: Buffer.from('x') }))
        .command_status,
    ).toBe(4);
    expect(
      (await call(s, 'bind_transmitter', { system_id: 'alpha', password: 'secret1' })).command_status,
    ).toBe(5);
    s.close();
    await closed(s);
  });

  it('answers enquire_link, refuses replace_sm with its own response, nacks an unknown command and goes on', async () => {
    const { session: s } = await bind(t.port, 'alpha', 'secret1');
    expect((await call(s, 'enquire_link')).command).toBe('enquire_link_resp');
    const q = await call(s, 'replace_sm', { message_id: 'abc', short_message: Buffer.from('x') });
    expect(q.command).toBe('replace_sm_resp');
    expect(q.command_status).toBe(0x13);
    const nack = await raw(t.port, header(16, 0x000000ff, 0, 77), 300);
    expect(nack.data.readUInt32BE(4)).toBe(0x80000000);
    expect(nack.data.readUInt32BE(8)).toBe(3);
    expect(nack.data.readUInt32BE(12)).toBe(77);
    expect(nack.closed).toBe(false);
    s.close();
    await closed(s);
  });

  it('answers unbind, then closes', async () => {
    const { session: s } = await bind(t.port, 'alpha', 'secret1');
    const r = await call(s, 'unbind');
    expect(r.command).toBe('unbind_resp');
    await closed(s);
  });
});

describe('broken input closes only that session', () => {
  it('a command_length of 8: generic_nack, close; another session is unaffected', async () => {
    const { session: other } = await bind(t.port, 'alpha', 'secret1');
    const r = await raw(
      t.port,
      Buffer.concat([header(8, 0x15, 0, 5).subarray(0, 8), header(16, 0x15, 0, 6)]),
    );
    expect(r.closed).toBe(true);
    expect(r.data.readUInt32BE(4)).toBe(0x80000000);
    expect(r.data.readUInt32BE(8)).toBe(2);
    expect((await call(other, 'enquire_link')).command_status).toBe(0);
    other.close();
    await closed(other);
  });

  it('an absurd command_length: generic_nack with the sequence number, close', async () => {
    const r = await raw(t.port, header(0xfffffff0, 0x04, 0, 9));
    expect(r.closed).toBe(true);
    expect(r.data.readUInt32BE(8)).toBe(2);
    expect(r.data.readUInt32BE(12)).toBe(9);
    // Above MaxPduLength (4096 here) but not absurd: the same.
    expect((await raw(t.port, header(5000, 0x04, 0, 10))).closed).toBe(true);
  });

  it('a body that does not parse (TLV past the end): generic_nack and close', async () => {
    const body = Buffer.from([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x24, 0x00, 0x50, 1,
    ]);
    const b = Buffer.concat([header(16 + body.length, 0x04, 0, 11), body]);
    const r = await raw(t.port, b);
    expect(r.closed).toBe(true);
    expect(r.data.readUInt32BE(4)).toBe(0x80000000);
    expect(r.data.readUInt32BE(12)).toBe(11);
  });
});

describe('robustness', () => {
  it('survives random bytes and random PDU bodies on many connections; binds still work', async () => {
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const ids = [0x04, 0x09, 0x02, 0x103, 0x15, 0x06, 0x80000005, 0x03, 0x08, 0x21];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const body = Buffer.from(Array.from({ length: rnd(120) }, () => rnd(256)));
        const pdu =
          i % 2 === 0
            ? Buffer.concat([header(16 + body.length, ids[rnd(ids.length)] ?? 4, 0, i), body])
            : Buffer.from(Array.from({ length: 1 + rnd(64) }, () => rnd(256)));
        return raw(t.port, pdu, 700);
      }),
    );
    const { session, resp } = await bind(t.port, 'alpha', 'secret1');
    expect(resp.command_status).toBe(0);
    session.close();
    await closed(session);
    // Garbage is the peer's fault: no handler of ours failed on it.
    expect(t.logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it('serves 20 transmitters submitting at once', async () => {
    // A server of its own with the default timers: this file's 0.3 s EnquireLinkInterval, 1 s
    // ResponseTimeout and 1.5 s InactivityTimeout drop sessions after any stall of a loaded machine
    // longer than that (the client's bytes wait unread while the timers fire), which is what the
    // timers tests below want and this one does not.
    const own = await startTestSmppd([{ systemId: 'alpha', password: 'secret1' }]);
    onTestFinished(async () => {
      await own.stop();
      own.spool.cleanup();
    });
    const binds = await Promise.all(
      Array.from({ length: 20 }, () => bind(own.port, 'alpha', 'secret1', 'bind_transmitter')),
    );
    expect(binds.map((b) => b.resp.command_status)).toEqual(Array<number>(20).fill(0));
    const results = await Promise.all(
      binds.flatMap(({ session }, b) =>
        Array.from({ length: 25 }, (_, i) =>
          call(session, 'submit_sm', {
            destination_addr: '+420123456789',
            data_coding: 0,
            short_message: Buffer.from(`b${b} m${i}`),
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.command_status === 0)).toHaveLength(500);
    for (const { session } of binds) session.close();
  });
});

describe('timers', () => {
  it('closes a connection that does not bind within SessionInitTimeout', async () => {
    const r = await raw(t.port, Buffer.alloc(0), 3_000);
    expect(r.closed).toBe(true);
  });

  it('sends enquire_link on a quiet bind and drops a peer that answers nothing', async () => {
    // The listener is there before the bind: a stalled test process can read bind_resp and the
    // enquire_link in one chunk, and the event would be gone before a later `once`.
    const s = await connect(t.port);
    const got = new Promise<PDU>((resolve) => s.once('enquire_link', resolve));
    await call(s, 'bind_transceiver', { system_id: 'alpha', password: 'secret1', interface_version: 0x34 });
    s.send((await got).response());
    s.close();
    await closed(s);
    // A bound peer that never answers: enquire_link unanswered within ResponseTimeout -> closed,
    // for that reason (the log says so), not by InactivityTimeout a little later.
    const dropped = () => t.logs.filter((l) => /enquire_link not answered; closing/.test(l)).length;
    const before = dropped();
    const c = await connect(t.port);
    const asked = new Promise<PDU>((resolve) => c.once('enquire_link', resolve));
    await call(c, 'bind_transceiver', { system_id: 'alpha', password: 'secret1', interface_version: 0x34 });
    await asked;
    await closed(c, 15_000);
    expect(dropped()).toBeGreaterThan(before);
  });
});

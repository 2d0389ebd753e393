import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KannelOutlet, type KannelSettings } from '../../src/lib/outlets/kannel/index.js';
import type { OutletHandlers, OutletPart, SubmitOutcome } from '../../src/lib/outlets/types.js';
import { until } from './kannel-rig.js';

// A fake "bearerbox": a raw TCP server written here byte by byte (not with the outlet's codec),
// sending what a broken or hostile peer might.

const int = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const oct = (s: string | null): Buffer =>
  s === null ? int(-1) : Buffer.concat([int(Buffer.byteLength(s)), Buffer.from(s)]);
const frame = (...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([int(body.length), body]);
};

/** An MO as Kannel 1.4.5 lays it out (31 fields). */
function mo(id: string, text: string): Buffer {
  const s = (v: string | null): Buffer => oct(v);
  const i = (v: number): Buffer => int(v);
  return frame(
    i(2),
    s('+420600000001'), // sender
    s('smsgate1'), // receiver
    s(null), // udhdata
    s(text), // msgdata
    i(1_800_000_000), // time
    s('fake'), // smsc_id
    s(null), // smsc_number
    s(null), // foreign_id
    s(null), // service
    s(null), // account
    s(id), // id
    i(0), // sms_type mo
    ...[-1, -1, 0, -1, -1, -1, -1].map(i), // mclass mwi coding compress validity deferred dlr_mask
    s(null), // dlr_url
    ...[-1, -1, -1].map(i), // pid alt_dcs rpi
    s(null), // charset
    s(null), // boxc_id
    s(null), // binfo
    ...[-1, -1, -1, -1].map(i), // msg_left priority resend_try resend_time
    s(null), // meta_data
  );
}

/** The id (11th field) of an sms payload, read by hand: 4 strings, time, 5 strings, then id. */
function smsId(payload: Buffer): string {
  let pos = 4;
  const str = (): string => {
    const n = payload.readInt32BE(pos);
    pos += 4;
    if (n < 0) return '';
    pos += n;
    return payload.subarray(pos - n, pos).toString();
  };
  for (const kind of 'ssssisssss') {
    if (kind === 'i') pos += 4;
    else str();
  }
  return str();
}

interface Fake {
  port: number;
  connections: net.Socket[];
  /** Payloads received, per connection index. */
  received: Buffer[][];
  close(): Promise<void>;
}

function fakeBearerbox(
  onConnection: (sock: net.Socket, index: number, received: Buffer[]) => void,
): Promise<Fake> {
  return new Promise((resolve) => {
    const fake: Fake = {
      port: 0,
      connections: [],
      received: [],
      close: () =>
        new Promise((r) => {
          for (const c of fake.connections) c.destroy();
          server.close(() => r());
        }),
    };
    const server = net.createServer((sock) => {
      const index = fake.connections.length;
      fake.connections.push(sock);
      const got: Buffer[] = [];
      fake.received.push(got);
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const n = buf.readUInt32BE(0);
          got.push(buf.subarray(4, 4 + n));
          buf = buf.subarray(4 + n);
        }
      });
      sock.on('error', () => undefined);
      onConnection(sock, index, got);
    });
    server.listen(0, '127.0.0.1', () => {
      fake.port = (server.address() as net.AddressInfo).port;
      resolve(fake);
    });
  });
}

function settings(port: number, extra: Partial<KannelSettings> = {}): KannelSettings {
  return {
    host: '127.0.0.1',
    port,
    boxId: 'outlet1',
    heartbeatMs: 10_000,
    window: 10,
    reconnectMs: 50,
    reconnectMaxMs: 200,
    ackTimeoutMs: 30_000,
    dlrMask: 27,
    dlrMaskNoReport: 0,
    smscId: undefined,
    sender: undefined,
    maxFrame: 65_536,
    inboundLimit: 1000,
    dedupeSize: 1000,
    receiptTimeoutMs: 3_600_000,
    receiptLimit: 1000,
    ...extra,
  };
}

const part = (i: number): OutletPart => ({
  key: `p${i}`,
  destination: `+42060000${String(i).padStart(4, '0')}`,
  sender: 'me',
  coding: 'gsm',
  text: `m${i}`,
  report: false,
  partNumber: 1,
  partCount: 1,
  reference: i,
});

const noop = { mo: () => Promise.resolve(), report: () => Promise.resolve() };

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(
  onConnection: Parameters<typeof fakeBearerbox>[0],
  extra: Partial<KannelSettings> = {},
  handlers: OutletHandlers = noop,
): Promise<{ fake: Fake; outlet: KannelOutlet; logs: string[] }> {
  const fake = await fakeBearerbox(onConnection);
  const logs: string[] = [];
  const outlet = new KannelOutlet(settings(fake.port, extra), (level, m) => logs.push(`${level} ${m}`));
  cleanup.push(
    () => fake.close(),
    () => outlet.close(200),
  );
  await outlet.start(handlers);
  return { fake, outlet, logs };
}

describe('Kannel outlet against a hostile fake bearerbox', () => {
  it('identifies with the exact bytes of Kannel 1.4.5 and sends heartbeats', async () => {
    const { fake } = await setup(() => undefined, { heartbeatMs: 100 });
    await until('identify and heartbeats', () => (fake.received[0]?.length ?? 0) >= 4);
    const first = fake.received[0]?.[0] as Buffer;
    // outlets.md 1.1: identify as outlet1 = 00000013 00000001 00000003 00000007 6f75746c657431.
    expect(Buffer.concat([int(first.length), first]).toString('hex')).toBe(
      '00000013000000010000000300000007' + Buffer.from('outlet1').toString('hex'),
    );
    const beats = (fake.received[0] as Buffer[]).filter((p) => p.readInt32BE(0) === 0);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.every((p) => p.length === 8)).toBe(true);
  });

  it('closes the link on a frame length above the limit without buffering it, and reconnects', async () => {
    const { fake, outlet, logs } = await setup((sock) => {
      // 4 GB announced; then a trickle of bytes that must not be kept.
      sock.write(Buffer.from('fffffff0', 'hex'));
      sock.write(Buffer.alloc(1000, 0x41));
    });
    await until('three connections', () => fake.connections.length >= 3);
    expect(logs.some((l) => /error .*exceeds the limit of 65536 bytes\); closing the link/.test(l))).toBe(
      true,
    );
    expect(outlet.extra.protocolErrors).toBeGreaterThanOrEqual(2);
    // One log line for the repeating fault, not one per reconnect.
    expect(logs.filter((l) => l.startsWith('error') && l.includes('exceeds')).length).toBe(1);
  });

  it.each([
    ['a short sms payload', frame(int(2), oct('+420')), /payload ends inside sms.receiver/],
    ['an unknown type', frame(int(9), int(0)), /unknown message type 9/],
    [
      'a string longer than its frame',
      frame(int(1), int(3), int(1000), Buffer.from('abc')),
      /exceeds the 3 bytes/,
    ],
    ['a negative string length', frame(int(1), int(3), int(-7)), /negative length -7/],
    ['bytes after the last field', frame(int(0), int(1), int(2)), /4 bytes left over after heartbeat/],
    ['a frame too short for a type', Buffer.from('0000000200ff', 'hex'), /frame length 2 is too short/],
    ['an ack whose id is no UUID', frame(int(3), int(0), int(0), oct('not-a-uuid')), /ack.id: not a UUID/],
  ])('drops the link on %s, naming what was wrong', async (_what, bytes, expected) => {
    const { fake, logs } = await setup((sock, index) => {
      if (index === 0) sock.write(bytes);
    });
    await until('a reconnect', () => fake.connections.length >= 2);
    expect(logs.find((l) => l.startsWith('error') && l.includes('bad frame'))).toMatch(expected);
  });

  it('keeps memory bounded under a stream of garbage connections', async () => {
    const { fake, outlet } = await setup(
      (sock) => {
        sock.write(Buffer.concat([int(60_000), Buffer.alloc(59_000, 1)])); // nearly a full frame
        setTimeout(() => sock.write(Buffer.concat([Buffer.alloc(1000, 2), frame(int(77))])), 5);
      },
      { reconnectMs: 10, reconnectMaxMs: 20 },
    );
    const rss0 = process.memoryUsage().rss;
    const fds0 = fs.readdirSync('/proc/self/fd').length;
    await until('200 garbage links', () => fake.connections.length >= 200, 60_000);
    const grown = (process.memoryUsage().rss - rss0) / 1e6;
    expect(grown).toBeLessThan(60);
    // Each dropped link is closed: descriptors stay flat (the fake's side included).
    expect(fs.readdirSync('/proc/self/fd').length - fds0).toBeLessThan(10);
    expect(outlet.extra.protocolErrors).toBeGreaterThanOrEqual(199);
  }, 90_000);

  it('keeps at most Window MT unacked and answers callers past 4 windows "queue full"', async () => {
    let peakUnacked = 0;
    const { fake, outlet } = await setup((sock, _i, got) => {
      // Acks slowly, one every 2 ms, and watches how many are outstanding.
      let acked = 0;
      const t = setInterval(() => {
        const sms = got.filter((p) => p.readInt32BE(0) === 2);
        peakUnacked = Math.max(peakUnacked, sms.length - acked);
        const next = sms[acked];
        if (next) {
          sock.write(frame(int(3), int(0), int(0), oct(smsId(next))));
          acked++;
        }
      }, 2);
      sock.on('close', () => clearInterval(t));
    });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => outlet.submit(part(i))));
    const full = results.filter((r) => r.kind === 'temporary' && /queue full/.test(r.reason));
    expect(full.length).toBe(10); // 10 in flight + 40 waiting; the last 10 are turned away
    expect(results.filter((r) => r.kind === 'accepted').length).toBe(50);
    expect(peakUnacked).toBeLessThanOrEqual(10);
    expect(fake.connections.length).toBe(1);
  });

  it('maps every ack: success and buffered accepted, failed permanent, failed_tmp and unknown temporary', async () => {
    const nacks = [0, 3, 1, 2, 7];
    const { outlet } = await setup((sock, _i, got) => {
      let seen = 0;
      sock.on('data', () => {
        for (const p of got.filter((x) => x.readInt32BE(0) === 2).slice(seen)) {
          const nack = nacks[seen % nacks.length] as number;
          sock.write(frame(int(3), int(nack), int(0), oct(smsId(p))));
          seen++;
        }
      });
    });
    const out: SubmitOutcome[] = [];
    for (let i = 0; i < nacks.length; i++) out.push(await outlet.submit(part(i)));
    expect(out.map((o) => o.kind)).toEqual(['accepted', 'accepted', 'permanent', 'temporary', 'temporary']);
    expect(out[3]).toMatchObject({ reason: 'bearerbox queue full or shutting down', retryAfterMs: 50 });
    expect(out[4]).toMatchObject({ reason: 'bearerbox answered ack 7' });
    expect(outlet.status()).toMatchObject({
      submitted: 5,
      accepted: 2,
      permanentErrors: 1,
      temporaryErrors: 2,
    });
  });

  it('drops a link whose acks never come and hands every submit back as unanswered', async () => {
    const { fake, outlet, logs } = await setup(() => undefined, { ackTimeoutMs: 300 });
    const results: SubmitOutcome[] = await Promise.all(
      Array.from({ length: 5 }, (_, i) => outlet.submit(part(i))),
    );
    expect(results.every((r) => r.kind === 'temporary' && r.unanswered === true)).toBe(true);
    expect(outlet.status().resentUnanswered).toBe(5);
    expect(logs.some((l) => /no ack for 0.3 s; dropping the link/.test(l))).toBe(true);
    await until('a reconnect', () => fake.connections.length >= 2);
  });

  it('bounds MO being stored when the peer floods past its own pending limit', async () => {
    let calls = 0;
    const never = {
      mo: () => (calls++, new Promise<void>(() => undefined)),
      report: () => Promise.resolve(),
    };
    const { outlet } = await setup(
      (sock) => {
        const frames: Buffer[] = [];
        for (let i = 0; i < 3000; i++)
          frames.push(mo(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, `flood ${i}`));
        sock.write(Buffer.concat(frames));
      },
      { inboundLimit: 50 },
      never,
    );
    await until('the flood to arrive', () => outlet.extra.inboundOverLimit >= 2950, 20_000);
    expect(calls).toBe(50);
    expect(outlet.extra.inboundOverLimit).toBe(2950);
  });

  it('acks a stored MO once and a redelivery of it without storing again', async () => {
    const stored: string[] = [];
    const handlers = {
      mo: (m: { text?: string }) => (stored.push(m.text ?? ''), Promise.resolve()),
      report: () => Promise.resolve(),
    };
    const id = '11111111-2222-4333-8444-555555555555';
    const { fake } = await setup(
      (sock) => {
        sock.write(mo(id, 'twice'));
        setTimeout(() => sock.write(mo(id, 'twice')), 100);
      },
      {},
      handlers,
    );
    await until('two acks', () => (fake.received[0] ?? []).filter((p) => p.readInt32BE(0) === 3).length >= 2);
    const acks = (fake.received[0] as Buffer[]).filter((p) => p.readInt32BE(0) === 3);
    for (const a of acks) {
      expect(a.readInt32BE(4)).toBe(0); // nack 0: success
      expect(a.subarray(16).toString()).toBe(id);
    }
    expect(stored).toEqual(['twice']);
  });

  it('reconnects after bearerbox says it shuts down', async () => {
    const { fake, logs } = await setup((sock, index) => {
      if (index === 0) sock.write(frame(int(1), int(0), oct(null)));
    });
    await until('a reconnect', () => fake.connections.length >= 2);
    expect(logs.some((l) => /is shutting down/.test(l))).toBe(true);
  });
});

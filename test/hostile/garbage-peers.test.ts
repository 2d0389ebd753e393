import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, SMSD_BIN, makeSpool, type TempSpool } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';
import { openFds, rssKb } from '../helpers/resources.js';
import { smppdConfig } from '../smpp/harness.js';
import { anyPdu, cstr, dataSm, frame, mangled, submitSm, u8 } from '../fuzz/smpp-arbitraries.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';

// Garbage peers on raw sockets (no SMPP or HTTP code of ours, nor a client library that would clean
// the bytes up): smppd's SMPP port and admin port, and the emulator's control socket. The server stays
// up, answers a well-behaved client afterwards, and its memory and descriptors come back down.

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');
const spools: TempSpool[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of spools) s.cleanup();
});

function spawnWatched(args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return { child, out: () => out };
}

/** Opens a connection, writes `chunks` (each after the previous drained), then ends or destroys it. */
function hit(
  connectTo: net.NetConnectOpts,
  chunks: readonly Buffer[],
  how: 'end' | 'destroy',
): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(connectTo);
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume(); // answers are read and dropped; never-reading peers are another test's business
    s.setTimeout(3000, () => s.destroy());
    s.on('connect', async () => {
      for (const c of chunks) {
        if (s.destroyed) return;
        if (!s.write(c)) await new Promise((r) => s.once('drain', r));
      }
      if (how === 'end') s.end();
      else s.destroy();
    });
  });
}

async function inBatches<T>(items: readonly T[], size: number, run: (t: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

function header(length: number, id: number, seq: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(length >>> 0, 0);
  h.writeUInt32BE(id >>> 0, 4);
  h.writeUInt32BE(0, 8);
  h.writeUInt32BE(seq >>> 0, 12);
  return h;
}

const bytes = (max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: 1, maxLength: max }).map((u) => Buffer.from(u));
/** What hostile SMPP peers send: noise, plausible headers over noise, absurd lengths, a PDU cut short. */
const smppGarbage: fc.Arbitrary<Buffer[]> = fc.oneof(
  bytes(4096).map((b) => [b]),
  fc
    .tuple(fc.constantFrom(0x01, 0x02, 0x04, 0x09, 0x15, 0x103, 0x80000004, 0x12345), fc.nat(), bytes(512))
    .map(([id, seq, body]) => [Buffer.concat([header(16 + body.length, id, seq), body])]),
  fc
    .tuple(fc.constantFrom(0, 1, 15, 0xffffffff, 0x7fffffff, 1 << 20), fc.nat())
    .map(([len, seq]) => [header(len, 0x04, seq)]),
  fc
    .tuple(fc.integer({ min: 17, max: 60_000 }), bytes(64))
    .map(([len, part]) => [header(len, 0x04, 1), part]),
  fc.array(bytes(1024), { minLength: 20, maxLength: 60 }),
);
/** What hostile HTTP peers send: noise, broken request lines and headers, oversized headers. */
const httpGarbage: fc.Arbitrary<Buffer[]> = fc.oneof(
  bytes(2048).map((b) => [b]),
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'BREW', '', 'GET GET'),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom('HTTP/1.1', 'HTTP/9.9', '', 'HTTP/1.1\r\nHost'),
    )
    .map(([m, t, v]) => [Buffer.from(`${m} ${t} ${v}\r\n\r\n`, 'utf8')]),
  fc
    .integer({ min: 1, max: 64 })
    .map((kb) => [Buffer.from(`GET /uptime HTTP/1.1\r\nX-Big: ${'a'.repeat(kb * 1024)}\r\n\r\n`)]),
  fc.constant<Buffer[]>([
    Buffer.from('GET /uptime HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n'),
    Buffer.alloc(100_000, 0x41),
  ]),
  fc.constant<Buffer[]>([Buffer.from('GET /uptime HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')]),
);

/** After the storm the descriptors come back to the baseline (give or take the log and a watcher). */
async function settles(pid: number, baseline: number): Promise<number> {
  let now = openFds(pid);
  await waitFor(
    () => (now = openFds(pid)) <= baseline + 5,
    10_000,
    `descriptors back near ${baseline}`,
  ).catch(() => undefined);
  return now;
}

describe('garbage peers', () => {
  it('smppd serve: 400 garbage SMPP connections and 300 garbage admin connections; still serving, memory and descriptors bounded', async () => {
    const made = await smppdConfig(
      [{ systemId: 'acme', password: 'pw1' }],
      'AdminPort = 0\nAdminPassword = adminpw\n',
    );
    spools.push(made.spool);
    const { child, out } = spawnWatched([SMPPD_BIN, 'serve', '-c', made.configFile]);
    const port = Number(
      (await waitFor(() => /smppd listening on 127\.0\.0\.1:(\d+)/.exec(out()), 15_000, 'smppd start'))[1],
    );
    const adminPort = Number(
      (await waitFor(() => /admin HTTP on [^:]+:(\d+)/.exec(out()), 5_000, 'admin port'))[1],
    );
    const pid = child.pid ?? 0;
    const legit = async (): Promise<void> => {
      expect(await bindStatus(port, 'acme', 'pw1')).toBe(0);
      expect(await httpStatus(adminPort, '/uptime?password=adminpw')).toBe(200);
    };
    await legit();
    const fds0 = openFds(pid);
    const rss0 = rssKb(pid);

    const smpp = fc.sample(fc.tuple(smppGarbage, fc.constantFrom<'end' | 'destroy'>('end', 'destroy')), {
      numRuns: 400,
      seed: 13,
    });
    await inBatches(smpp, 25, ([chunks, how]) => hit({ host: '127.0.0.1', port }, chunks, how));
    const http = fc.sample(fc.tuple(httpGarbage, fc.constantFrom<'end' | 'destroy'>('end', 'destroy')), {
      numRuns: 300,
      seed: 14,
    });
    await inBatches(http, 25, ([chunks, how]) => hit({ host: '127.0.0.1', port: adminPort }, chunks, how));

    expect(child.exitCode, out()).toBeNull();
    await legit();
    const fds = await settles(pid, fds0);
    const rss = rssKb(pid);
    console.log(
      `smppd after garbage: fds ${fds0} → ${fds}, RSS ${Math.round(rss0 / 1024)} → ${Math.round(rss / 1024)} MB`,
    );
    expect(fds).toBeLessThanOrEqual(fds0 + 5);
    expect(rss - rss0).toBeLessThan(50 * 1024);
    // Nothing reached the spool, and no bug of ours was caught by a last-resort handler.
    expect(fs.readdirSync(made.spool.outbox).filter((n) => n.startsWith('OUT'))).toEqual([]);
    expect(out()).not.toMatch(/Internal error|TypeError|RangeError|\n\s+at /);
  }, 120_000);

  it('smppd serve: hostile PDUs from bound ESMEs (submits, then query/cancel/replace of their IDs); still serving, every stored file sendable', async () => {
    const made = await smppdConfig([{ systemId: 'acme', password: 'pw1' }]);
    spools.push(made.spool);
    const { child, out } = spawnWatched([SMPPD_BIN, 'serve', '-c', made.configFile]);
    const port = Number(
      (await waitFor(() => /smppd listening on 127\.0\.0\.1:(\d+)/.exec(out()), 15_000, 'smppd start'))[1],
    );
    const pid = child.pid ?? 0;
    const fds0 = openFds(pid);
    const rss0 = rssKb(pid);
    // Good submits first (their IDs feed the operations below), then the fuzz lane's plausible and
    // mangled PDUs, after which the server may hang up (generic_nack and close) on the rest of a batch.
    const ids: string[] = [];
    let closedEarly = 0;
    for (const [arb, seed, batch] of [
      [goodSubmit, 16, 30],
      [fc.oneof(submitSm, dataSm, mangled(submitSm), mangled(dataSm), anyPdu), 18, 10],
    ] as const) {
      const pdus = fc.sample(arb, { numRuns: 300, seed });
      for (let i = 0; i < pdus.length; i += batch) {
        const r = await boundExchange(port, pdus.slice(i, i + batch));
        ids.push(...r.ids);
        if (r.closed) closedEarly++;
      }
    }
    expect(ids.length).toBeGreaterThan(200);
    const onIds = fc.sample(idOperation(ids), { numRuns: 300, seed: 17 });
    for (let i = 0; i < onIds.length; i += 50) await boundExchange(port, onIds.slice(i, i + 50));

    expect(child.exitCode, out()).toBeNull();
    expect(await bindStatus(port, 'acme', 'pw1')).toBe(0);
    for (const n of fs.readdirSync(made.spool.outbox).filter((x) => x.startsWith('OUT'))) {
      const r = readOutboxFile(n, fs.readFileSync(path.join(made.spool.outbox, n)), 'auto', 0);
      expect(r.ok, `${n}: ${r.ok ? '' : r.reason}`).toBe(true);
    }
    const fds = await settles(pid, fds0);
    const rss = rssKb(pid);
    console.log(
      `smppd after hostile ESMEs: ${ids.length} accepted, ${closedEarly} sessions closed by the server, fds ${fds0} → ${fds}, RSS ${Math.round(rss0 / 1024)} → ${Math.round(rss / 1024)} MB`,
    );
    expect(fds).toBeLessThanOrEqual(fds0 + 5);
    expect(rss - rss0).toBeLessThan(50 * 1024);
    expect(out()).not.toMatch(/TypeError|RangeError|\n\s+at /);
  }, 120_000);

  it('smsd emulate: garbage, unknown commands and a 64 MB line without a newline on the control socket; still answering, memory bounded', async () => {
    const spool = makeSpool();
    spools.push(spool);
    const device = path.join(spool.dir, 'modem');
    const control = `${device}.ctl`;
    const { child, out } = spawnWatched([SMSD_BIN, 'emulate', '--device', device, '--control', control]);
    await waitFor(() => fs.existsSync(control), 15_000, `control socket; output: ${out()}`);
    const pid = child.pid ?? 0;
    expect(await controlStatus(control)).toMatch(/"ok":true/);
    const fds0 = openFds(pid);
    const rss0 = rssKb(pid);

    const lines = fc.sample(
      fc.oneof(
        bytes(2048).map((b) => [b]),
        fc.json().map((j) => [Buffer.from(`${j}\n`)]),
        fc
          .constantFrom(
            '{"cmd":"nope"}\n',
            '{"cmd":"deliver"}\n',
            '{"cmd":"deliver","from":"","text":1}\n',
            '{"cmd":"vanish","ms":-1}\n',
            '{"cmd":"fault","latencyMs":"x"}\n',
            '{"cmd":"set","rssi":1e9}\n',
            '[]\n',
            'null\n',
            '{"cmd":{"__proto__":1}}\n',
            '{"__proto__":{"cmd":"status"}}\n',
          )
          .map((s) => [Buffer.from(s)]),
      ),
      { numRuns: 300, seed: 15 },
    );
    await inBatches(lines, 25, (chunks) => hit({ path: control }, chunks, 'end'));
    // One peer that never ends its line: 64 MB without a newline.
    const mb = Buffer.alloc(1024 * 1024, 0x61);
    await hit(
      { path: control },
      Array.from({ length: 64 }, () => mb),
      'destroy',
    );

    expect(child.exitCode, out()).toBeNull();
    expect(await controlStatus(control)).toMatch(/"ok":true/);
    const fds = await settles(pid, fds0);
    const rss = rssKb(pid);
    console.log(
      `emulator after garbage: fds ${fds0} → ${fds}, RSS ${Math.round(rss0 / 1024)} → ${Math.round(rss / 1024)} MB`,
    );
    expect(fds).toBeLessThanOrEqual(fds0 + 5);
    expect(rss - rss0).toBeLessThan(50 * 1024);
  }, 120_000);
});

/** submit_sm that smppd accepts: a phone number, GSM/IA5, 8-bit or UCS-2 text, maybe a UDH. */
const goodSubmit: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 3, maxLength: 15 }),
    fc.constantFrom(0, 4, 8),
    fc.string({ unit: 'binary-ascii', maxLength: 120 }),
    fc.boolean(),
    fc.nat(),
  )
  .map(([dst, dc, text, udh, seq]) => {
    const body =
      dc === 8
        ? Buffer.from(text, 'utf16le').swap16()
        : Buffer.from(text.replace(/[^\x20-\x7e]/g, '.'), 'latin1');
    const sm = udh ? Buffer.concat([Buffer.from('050003aa0201', 'hex'), body.subarray(0, 100)]) : body;
    return frame(
      0x04,
      seq,
      Buffer.concat([
        cstr(''),
        u8(1),
        u8(1),
        cstr('src'),
        u8(1),
        u8(1),
        cstr(`+${dst}`),
        u8(udh ? 0x40 : 0),
        u8(0),
        u8(0),
        cstr(''),
        cstr(''),
        u8(1),
        u8(0),
        u8(dc),
        u8(0),
        u8(sm.length),
        sm,
      ]),
    );
  });

/** query_sm, cancel_sm and replace_sm of known and unknown message IDs, with random other fields. */
function idOperation(ids: readonly string[]): fc.Arbitrary<Buffer> {
  const id = fc.oneof(
    fc.constantFrom(...ids),
    fc.constantFrom('', '0', 'zz', 'x'.repeat(70)),
    fc.string({ maxLength: 10 }),
  );
  const addr = fc.constantFrom('', '+420123456789', '420123456789', 'src', 'x'.repeat(30));
  return fc.oneof(
    fc
      .tuple(id, addr, fc.nat())
      .map(([m, a, seq]) => frame(0x03, seq, Buffer.concat([cstr(m), u8(1), u8(1), cstr(a)]))),
    fc
      .tuple(id, addr, addr, fc.nat())
      .map(([m, a, d, seq]) =>
        frame(0x08, seq, Buffer.concat([cstr(''), cstr(m), u8(1), u8(1), cstr(a), u8(1), u8(1), cstr(d)])),
      ),
    fc
      .tuple(
        id,
        addr,
        fc.constantFrom('', '000001000000000R', 'garbage'),
        fc.nat(0x1f),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(),
      )
      .map(([m, a, vp, rd, sm, seq]) =>
        frame(
          0x07,
          seq,
          Buffer.concat([
            cstr(m),
            u8(1),
            u8(1),
            cstr(a),
            cstr(''),
            cstr(vp),
            u8(rd),
            u8(0),
            u8(sm.length),
            Buffer.from(sm),
          ]),
        ),
      ),
  );
}

/**
 * Binds (transceiver) on a raw socket, sends `pdus`, collects the message IDs of accepted submits
 * until the answers stop; `closed` when the server hung up on us (a malformed PDU's generic_nack).
 */
function boundExchange(port: number, pdus: readonly Buffer[]): Promise<{ ids: string[]; closed: boolean }> {
  const body = Buffer.concat([cstr('acme'), cstr('pw1'), cstr(''), u8(0x34), u8(0), u8(0), cstr('')]);
  return new Promise((resolve) => {
    const ids: string[] = [];
    let closed = false;
    let buf = Buffer.alloc(0);
    let quiet: NodeJS.Timeout | undefined;
    const s = net.connect(port, '127.0.0.1', () => s.write(frame(0x09, 1, body)));
    const finish = (): void => {
      clearTimeout(quiet);
      s.destroy();
      resolve({ ids, closed });
    };
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      finish();
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 16 && buf.length >= buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const id = buf.readUInt32BE(4);
        const status = buf.readUInt32BE(8);
        if (id === 0x80000009 && status === 0) for (const p of pdus) s.write(p);
        if ((id === 0x80000004 || id === 0x80000103) && status === 0)
          ids.push(buf.subarray(16, len - 1).toString('latin1'));
        if (id === 0x15) s.write(frame(0x80000015, buf.readUInt32BE(12), Buffer.alloc(0)));
        if (id === 0x05 || id === 0x102) s.write(frame(0x80000005, buf.readUInt32BE(12), Buffer.from([0])));
        buf = buf.subarray(Math.max(16, len));
      }
      clearTimeout(quiet);
      quiet = setTimeout(finish, 150);
    });
    s.setTimeout(20_000, finish);
  });
}

/** bind_transmitter on a raw socket; the command_status of the answer. */
function bindStatus(port: number, systemId: string, password: string): Promise<number> {
  const body = Buffer.concat([Buffer.from(`${systemId}\0${password}\0\0`), Buffer.from([0x34, 0, 0, 0])]);
  const pdu = Buffer.concat([header(16 + body.length, 0x02, 1), body]);
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(pdu));
    let got = Buffer.alloc(0);
    s.setTimeout(10_000, () => reject(new Error('no bind_transmitter_resp')));
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 16) {
        resolve(got.readUInt32BE(8));
        s.destroy();
      }
    });
  });
}

/** GET on a raw socket; the status code. */
function httpStatus(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () =>
      s.end(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    );
    let got = '';
    s.setTimeout(10_000, () => reject(new Error('no HTTP answer')));
    s.on('error', reject);
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 0)));
  });
}

/** {"cmd":"status"} on the control socket; the answer line. */
function controlStatus(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath, () => s.write('{"cmd":"status"}\n'));
    let got = '';
    s.setTimeout(10_000, () => reject(new Error('no control answer')));
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\n')) {
        resolve(got.slice(0, got.indexOf('\n')));
        s.destroy();
      }
    });
  });
}

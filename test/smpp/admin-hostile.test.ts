import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAccounts } from './harness.js';
import { makeSpool, type TempSpool } from '../helpers/spool.js';
import { MB, openFds, rssBytes } from '../helpers/resources.js';
import { spawnSmppd } from '../helpers/hostile-smpp.js';

// The admin HTTP port of a real `smppd serve` against password guessing, slow clients, too many
// connections and large bodies, from raw sockets and node:http with chosen source addresses.

const PASSWORD = 'admin-secret';
let spool: TempSpool;
let child: ChildProcess;
let admin = 0;

beforeAll(async () => {
  spool = makeSpool();
  const accounts = path.join(spool.dir, 'esme.ini');
  await writeAccounts(accounts, [{ systemId: 'a', password: 'a1' }]);
  fs.appendFileSync(
    spool.config,
    `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nAdminPort = 0\nAdminListen = 127.0.0.1\nAdminPassword = ${PASSWORD}\nAdminRequestTimeout = 1\nAdminMaxConnections = 32\n`,
  );
  const s = await spawnSmppd(spool.config);
  child = s.child;
  admin = s.adminPort ?? 0;
  expect(admin).toBeGreaterThan(0);
}, 30_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  spool?.cleanup();
});

function get(
  pathAndQuery: string,
  from: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders } = {},
): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: admin,
        path: pathAndQuery,
        localAddress: from,
        agent: false,
        method: opts.method ?? 'GET',
        headers: opts.headers,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function settleFds(pid: number, target: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  while (openFds(pid) > target && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return openFds(pid);
}

describe('admin HTTP under attack', () => {
  it('500 wrong passwords: at most BlockAttempts (5) checked, the rest 429 unchecked; another address still gets in', async () => {
    const from = '127.0.7.1';
    const statuses: number[] = [];
    // 10 at once: within AdminMaxConnections (32; closing ones count too), so every one is answered.
    for (let round = 0; round < 50; round++)
      statuses.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, (_, i) => get(`/uptime?password=guess${round}-${i}`, from)),
        )),
      );
    const checked = statuses.filter((s) => s === 401).length;
    console.log(
      `admin brute force: ${checked} of 500 wrong passwords checked, ${statuses.filter((s) => s === 429).length} refused unchecked`,
    );
    expect(checked).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(500 - checked);
    expect(await get(`/uptime?password=${PASSWORD}`, from)).toBe(429);
    expect(await get(`/uptime?password=${PASSWORD}`, '127.0.7.2')).toBe(200);
  }, 30_000);

  it('clients trickling their headers are cut off after AdminRequestTimeout; descriptors back', async () => {
    const pid = child.pid as number;
    const fds0 = openFds(pid);
    const sockets = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect({ host: '127.0.0.1', port: admin, localAddress: '127.0.7.3' }, () =>
              resolve(s),
            );
            s.on('error', () => undefined);
          }),
      ),
    );
    const closedAt: number[] = [];
    const t0 = Date.now();
    for (const s of sockets) {
      s.write('GET /uptime HTTP/1.1\r\nHost: x\r\n');
      s.on('close', () => closedAt.push(Date.now() - t0));
    }
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 200);
    await new Promise((r) => setTimeout(r, 4_000));
    clearInterval(drip);
    console.log(`slow headers: ${closedAt.length} of 20 cut off, the last after ${Math.max(...closedAt)} ms`);
    expect(closedAt).toHaveLength(20);
    expect(Math.max(...closedAt)).toBeLessThan(3_000);
    expect(await settleFds(pid, fds0, 3_000)).toBeLessThanOrEqual(fds0);
    expect(await get(`/uptime?password=${PASSWORD}`, '127.0.7.4')).toBe(200);
  }, 20_000);

  it('more than AdminMaxConnections (32) open: the extra ones are closed, the service answers once they go', async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<{ s: net.Socket; closed: Promise<boolean> }>((resolve) => {
            const s = net.connect({ host: '127.0.0.1', port: admin, localAddress: '127.0.7.5' });
            const closed = new Promise<boolean>((r) => {
              s.on('close', () => r(true));
              setTimeout(() => r(false), 500);
            });
            s.on('error', () => undefined);
            s.on('connect', () => resolve({ s, closed }));
          }),
      ),
    );
    const closed = (await Promise.all(sockets.map((x) => x.closed))).filter(Boolean).length;
    expect(closed).toBe(18);
    for (const x of sockets) x.s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(await get(`/uptime?password=${PASSWORD}`, '127.0.7.6')).toBe(200);
  }, 20_000);

  it('a 20 MB body is refused with 413 without being read', async () => {
    const pid = child.pid as number;
    const rss0 = rssBytes(pid);
    // Raw: a client that announces 20 MB and waits for the answer after its first 64 KiB.
    const answer = await new Promise<string>((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port: admin, localAddress: '127.0.7.7' });
      let got = '';
      sock.on('data', (b: Buffer) => (got += b.toString('latin1')));
      sock.on('error', () => undefined);
      sock.on('close', () => resolve(got));
      sock.on('connect', () => {
        sock.write(
          `POST /uptime?password=${PASSWORD} HTTP/1.1\r\nHost: x\r\nContent-Length: ${20 * MB}\r\n\r\n`,
        );
        // The first 64 KiB of it; the rest would follow were it read.
        sock.write(Buffer.alloc(64 * 1024, 0x61));
      });
      setTimeout(() => sock.destroy(), 5_000);
    });
    const status = Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1]);
    expect(status).toBe(413);
    expect(rssBytes(pid) - rss0).toBeLessThan(20 * MB);
    // Chunked, no length: the same.
    expect(
      await get(`/uptime?password=${PASSWORD}`, '127.0.7.8', {
        method: 'POST',
        headers: { 'Transfer-Encoding': 'chunked' },
      }),
    ).toBe(413);
  }, 20_000);
});

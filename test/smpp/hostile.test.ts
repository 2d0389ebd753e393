import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/lib/smpp/policy/accounts.js';
import { makeSpool, type TempSpool } from '../helpers/spool.js';
import { MB, fdTargets, openFds, rssBytes, rssPeak } from '../helpers/resources.js';
import {
  RawPeer,
  bindPdu,
  enquireLink,
  loopbackAddresses,
  neverReader,
  spawnSmppd,
} from '../helpers/hostile-smpp.js';

// Hostile SMPP peers against `smppd serve` as a real process: raw sockets and hand-made PDUs,
// resources read from /proc (RSS, open descriptors).

const STATUS = { ROK: 0, RBINDFAIL: 0x0d, RINVPASWD: 0x0e } as const;

let spool: TempSpool;
let child: ChildProcess;
let port: number;
let output: () => string;

beforeAll(async () => {
  spool = makeSpool();
  const accounts = path.join(spool.dir, 'esme.ini');
  // The production scrypt cost: what an attacker makes the server pay per wrong password.
  fs.writeFileSync(
    accounts,
    `[victim]\npassword = ${await hashPassword('right-one')}\n\n[many]\npassword = ${await hashPassword('many1', { N: 1024, r: 8, p: 1 })}\n`,
  );
  fs.appendFileSync(
    spool.config,
    `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nOutputTimeout = 2\nMaxConnectionsPerIp = 300\nMaxConnections = 2500\nSessionInitTimeout = 120\nInactivityTimeout = 600\nEnquireLinkInterval = 600\n`,
  );
  ({ child, port, output } = await spawnSmppd(spool.config));
}, 30_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  spool?.cleanup();
});

async function settle(pid: number, fds: number, ms = 5_000): Promise<number> {
  const deadline = Date.now() + ms;
  let now = openFds(pid);
  while (now > fds && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    now = openFds(pid);
  }
  return now;
}

describe('many connections', () => {
  it('1,000 idle unbound and 1,000 bound connections: RSS within the 200 MB target; the limit answers more', async () => {
    const pid = child.pid as number;
    const fds0 = await settle(pid, 0, 2_000);
    const rss0 = rssBytes(pid);
    const addrs = loopbackAddresses(10, 11);
    const idle: RawPeer[] = [];
    for (let i = 0; i < 1000; i++) idle.push(await RawPeer.connect(port, addrs[i % 10]));
    await new Promise((r) => setTimeout(r, 300));
    const rssIdle = rssBytes(pid);
    const bound: RawPeer[] = [];
    for (let b = 0; b < 1000; b += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, i) => RawPeer.connect(port, addrs[(b + i) % 10])),
      );
      const answers = await Promise.all(batch.map((p) => p.call(bindPdu('many', 'many1', 1), 1, 20_000)));
      expect(answers.map((a) => a?.status)).toEqual(Array(20).fill(STATUS.ROK));
      bound.push(...batch);
    }
    // Two rounds of enquire_link on every bound one: they are live sessions.
    for (let round = 0; round < 2; round++) {
      const a = await Promise.all(bound.map((p) => p.call(enquireLink(100 + round), 100 + round)));
      expect(a.every((x) => x?.status === 0)).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 500));
    const rss = rssBytes(pid);
    const fds = openFds(pid);
    console.log(
      `connections: RSS ${(rss0 / MB).toFixed(0)} MB at start, ${(rssIdle / MB).toFixed(0)} MB with 1,000 unbound, ${(rss / MB).toFixed(0)} MB with 1,000 more bound; ${fds} fds (${fds0} before)`,
    );
    expect(rss).toBeLessThan(200 * MB);
    // MaxConnectionsPerIp = 300 here: 200 from each of the 10 addresses, the 301st from one is closed.
    const extra = await Promise.all(Array.from({ length: 101 }, () => RawPeer.connect(port, addrs[0])));
    const closedOnes = (await Promise.all(extra.map((p) => p.whenClosed(3_000)))).filter(Boolean).length;
    expect(closedOnes).toBe(1);
    for (const p of [...idle, ...bound, ...extra]) p.destroy();
    const after = await settle(pid, fds0, 10_000);
    expect(after, fdTargets(pid).join('\n')).toBeLessThanOrEqual(fds0);
  }, 120_000);
});

describe('a peer that never reads', () => {
  const FLOOD = Buffer.concat(Array.from({ length: 4096 }, (_, i) => enquireLink(i + 2)));

  beforeAll(async () => {
    // A well-behaved peer first: the heap grows to its working size with any burst of traffic
    // (about 30 MB once), so what follows measures what a hostile peer adds on top.
    const p = await RawPeer.connect(port);
    for (let round = 0; round < 20; round++) {
      await p.send(FLOOD);
      await p.answer(4097, 10_000);
      p.received.length = 0;
    }
    p.destroy();
  }, 60_000);

  it('unbound, flooding enquire_link: RSS up by at most 50 MB, closed, descriptors back', async () => {
    const pid = child.pid as number;
    const rss0 = rssBytes(pid);
    const fds0 = openFds(pid);
    const peak = rssPeak(pid);
    const r = await neverReader(port, enquireLink(1), FLOOD, 6_000);
    const top = peak.stop();
    console.log(
      `never-reader unbound: ${(r.written / MB).toFixed(0)} MB offered, RSS ${(rss0 / MB).toFixed(0)} -> peak ${(top / MB).toFixed(0)} MB, closed by server ${r.closedByServer}`,
    );
    expect(top - rss0).toBeLessThan(50 * MB);
    expect(r.closedByServer).toBe(true);
    expect(await settle(pid, fds0)).toBeLessThanOrEqual(fds0);
    expect(output()).toMatch(/does not read/);
  }, 20_000);

  it('bound, flooding enquire_link: the same', async () => {
    const pid = child.pid as number;
    const rss0 = rssBytes(pid);
    const fds0 = openFds(pid);
    const peak = rssPeak(pid);
    const r = await neverReader(port, bindPdu('many', 'many1'), FLOOD, 6_000);
    const top = peak.stop();
    console.log(
      `never-reader bound: ${(r.written / MB).toFixed(0)} MB offered, RSS ${(rss0 / MB).toFixed(0)} -> peak ${(top / MB).toFixed(0)} MB, after ${(rssBytes(pid) / MB).toFixed(0)} MB`,
    );
    expect(top - rss0).toBeLessThan(50 * MB);
    expect(r.closedByServer).toBe(true);
    expect(await settle(pid, fds0)).toBeLessThanOrEqual(fds0);
  }, 20_000);
});

describe('bind brute force', () => {
  it('60 parallel binds from one address: at most BlockAttempts (5) password checks, then refused unchecked', async () => {
    const addr = '127.9.9.9';
    const peers = await Promise.all(Array.from({ length: 60 }, () => RawPeer.connect(port, addr)));
    const answers = await Promise.all(
      peers.map((p, i) => p.call(bindPdu('victim', i === 59 ? 'right-one' : `wrong${i}`, 1), 1, 15_000)),
    );
    const statuses = answers.map((a) => a?.status);
    // Checked: a wrong password said so, or the right one bound; the rest were answered unchecked.
    const wrong = statuses.filter((s) => s === STATUS.RINVPASWD).length;
    const checked = wrong + statuses.filter((s) => s === STATUS.ROK).length;
    console.log(
      `brute force: ${checked} passwords checked of 60, ${wrong} wrong (the right one: status ${statuses[59]})`,
    );
    // Wrong guesses checked: at most BlockAttempts; one right guess more ends the attack anyway.
    expect(wrong).toBeLessThanOrEqual(5);
    expect(checked).toBeLessThanOrEqual(6);
    expect(statuses.filter((s) => s === STATUS.RBINDFAIL).length).toBe(60 - checked);
    for (const p of peers) p.destroy();
    // Another 10 wrong ones: the address has used its attempts, so blocked now, and the right
    // password gets no check either.
    const more = await Promise.all(Array.from({ length: 10 }, () => RawPeer.connect(port, addr)));
    await Promise.all(more.map((p, i) => p.call(bindPdu('victim', `more${i}`, 1), 1, 15_000)));
    for (const p of more) p.destroy();
    const again = await RawPeer.connect(port, addr).catch(() => undefined);
    const a = again ? await again.call(bindPdu('victim', 'right-one', 7), 7, 5_000) : undefined;
    expect(a?.status).not.toBe(STATUS.ROK);
    again?.destroy();
  }, 30_000);

  it('400 wrong binds at once from 400 addresses delay a legitimate bind by at most 1 s', async () => {
    const legit = async (): Promise<number> => {
      const p = await RawPeer.connect(port, '127.200.0.1');
      const t0 = performance.now();
      const a = await p.call(bindPdu('victim', 'right-one', 3), 3, 30_000);
      const ms = performance.now() - t0;
      expect(a?.status).toBe(STATUS.ROK);
      p.destroy();
      return ms;
    };
    const quiet = await legit();
    const addrs = loopbackAddresses(400, 10);
    const attackers = await Promise.all(addrs.map((a) => RawPeer.connect(port, a)));
    await Promise.all(attackers.map((p, i) => p.send(bindPdu('victim', `guess${i}`, 1))));
    const flooded = await legit();
    const answers = await Promise.all(attackers.map((p) => p.answer(1, 30_000)));
    const checked = answers.filter((a) => a?.status === STATUS.RINVPASWD).length;
    console.log(
      `bind latency: ${quiet.toFixed(0)} ms quiet, ${flooded.toFixed(0)} ms under a flood of 400 wrong binds (${checked} of them checked)`,
    );
    for (const p of attackers) p.destroy();
    expect(flooded).toBeLessThan(quiet + 1_000);
  }, 60_000);
});

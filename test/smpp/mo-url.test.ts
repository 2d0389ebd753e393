import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { ROOT, listFiles } from '../helpers/spool.js';
import { bindCollecting, startTestSmppd, writeAccounts, type TestSmppd } from './harness.js';

// MO to application URLs (MoRoutesFile). The application is an HTTP listener written here with
// node:http (no project code) that records every request and can be down, failing or silent.

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');

interface Call {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface App {
  server: http.Server;
  port: number;
  calls: Call[];
  /** Sockets open now / at most at once. */
  open: () => number;
  maxOpen: () => number;
  /** 'ok' answers 200, 'fail' 500, 'silent' never answers. */
  mode: 'ok' | 'fail' | 'silent';
  close(): Promise<void>;
}

const apps: App[] = [];

function application(port = 0): Promise<App> {
  const sockets = new Set<net.Socket>();
  let maxOpen = 0;
  const calls: Call[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://x'),
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      if (app.mode === 'silent') return;
      res.statusCode = app.mode === 'ok' ? 200 : 500;
      res.end(app.mode === 'ok' ? 'OK' : 'broken');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    maxOpen = Math.max(maxOpen, sockets.size);
    s.on('close', () => sockets.delete(s));
  });
  const app: App = {
    server,
    port: 0,
    calls,
    open: () => sockets.size,
    maxOpen: () => maxOpen,
    mode: 'ok',
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  apps.push(app);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      app.port = (server.address() as net.AddressInfo).port;
      resolve(app);
    });
  });
}

/** A port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const a = await application();
  await a.close();
  return a.port;
}

let t: TestSmppd | undefined;
afterEach(async () => {
  await t?.stop();
  t?.spool.cleanup();
  t = undefined;
});
afterAll(async () => {
  for (const a of apps) await a.close();
});

const ACCOUNTS = [
  { systemId: 'inbound', password: 'secret2', extra: 'mo = yes\n' },
  { systemId: 'other', password: 'secret3' },
];

async function start(rules: string, extra = ''): Promise<TestSmppd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mo-rules-'));
  const file = path.join(dir, 'mo-routes');
  fs.writeFileSync(file, rules);
  try {
    return await startTestSmppd(
      ACCOUNTS,
      `MoRoutesFile = ${file}\nMoUrlRetryInterval = 0.3\nMoUrlTimeout = 1\n${extra}`,
    );
  } finally {
    // The rules are read at start; the file is not needed after.
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let serial = 0;
function mo(s: TestSmppd, from: string, text: string): void {
  serial++;
  const name = `IN20261207_1${String(serial).padStart(5, '0')}_00_${from}_00.txt`;
  fs.writeFileSync(path.join(s.spool.inbox, name), text);
}

const metric = async (s: TestSmppd, name: string): Promise<number> => {
  const q = s.smppd.moUrls?.queue.stats;
  if (!q) throw new Error('no MO URL queue');
  return name === 'dead' ? q.dead : name === 'full' ? q.refusedFull : q.delivered;
};

describe('MO to URLs, in-process smppd over a spool', () => {
  it('a keyword rule GETs the URL with the escapes expanded; other MO still reach the ESME', async () => {
    const app = await application();
    t = await start(
      `# comments and blank lines are fine\n\nkeyword=stop get-url=http://127.0.0.1:${app.port}/mo?k=%k&s=%s&S=%S&r=%r&a=%a&b=%b&p=%p&q=%q&T=%T&t=%t&I=%I&n=%n&c=%c&C=%C&pct=%%&x=%Z name=optout\n`,
    );
    const { session, got } = await bindCollecting(t.port, 'inbound', 'secret2', 'bind_receiver');
    const before = Math.floor(Date.now() / 1000);
    mo(t, '+420777000111', 'Stop all*of  these now');
    mo(t, '+420777000222', 'Hello ESME');
    await waitFor(() => app.calls.length === 1 && got.length === 1, 10_000, `calls\n${t.logs.join('\n')}`);
    const q = app.calls[0]!.url.searchParams;
    expect(app.calls[0]!.method).toBe('GET');
    expect(q.get('k')).toBe('Stop');
    expect(q.get('s')).toBe('all*of');
    expect(q.get('S')).toBe('these'); // %S takes the next word, * as ~ (none here)
    expect(q.get('r')).toBe('now');
    expect(q.get('a')).toBe('Stop all*of these now'); // words joined by +, read back as spaces
    expect(q.get('b')).toBe('Stop all*of  these now');
    expect(q.get('p')).toBe('+420777000111');
    expect(q.get('q')).toBe('+420777000111');
    expect(Number(q.get('T'))).toBeGreaterThanOrEqual(before - 1);
    expect(q.get('t')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/); // the + of Kannel's format reads as a space
    expect(q.get('I')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(q.get('n')).toBe('optout');
    expect(q.get('c')).toBe('0');
    expect(q.get('C')).toBe('UTF-8');
    expect(q.get('pct')).toBe('%');
    expect(q.get('x')).toBe(''); // an escape Kannel does not know gives nothing
    expect(got[0]?.source_addr).toBe('420777000222');
    await new Promise((r) => setTimeout(r, 1000));
    expect(app.calls).toHaveLength(1);
    expect(got).toHaveLength(1);
    expect(t.smppd.moUrls?.queue.size).toBe(0);
    session.close();
  });

  it('post-url: the text as the body with the X-Kannel headers; esme= sends to the named account', async () => {
    const app = await application();
    t = await start(`keyword=ORDER esme=other\npost-url=http://127.0.0.1:${app.port}/in name=shop\n`);
    const other = await bindCollecting(t.port, 'other', 'secret3', 'bind_receiver');
    mo(t, '+420777000333', 'Žluťoučký kůň');
    mo(t, '+420777000444', 'order 5 pizzas');
    await waitFor(
      () => app.calls.length === 1 && other.got.length === 1,
      10_000,
      `calls\n${t.logs.join('\n')}`,
    );
    const c = app.calls[0]!;
    expect(c.method).toBe('POST');
    expect(c.body.toString('utf8')).toBe('Žluťoučký kůň');
    expect(c.headers['content-type']).toBe('text/plain; charset="UTF-8"');
    expect(c.headers['x-kannel-from']).toBe('+420777000333');
    expect(c.headers['x-kannel-service']).toBe('shop');
    expect(c.headers['x-kannel-coding']).toBe('0');
    expect(c.headers['x-kannel-time']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(other.got[0]?.source_addr).toBe('420777000444');
    other.session.close();
  });

  it('the application down: retried with back-off, called once when it is back; the MO never goes to the ESME', async () => {
    const port = await freePort();
    t = await start(`get-url=http://127.0.0.1:${port}/mo?text=%a\n`);
    const { session, got } = await bindCollecting(t.port, 'inbound', 'secret2', 'bind_receiver');
    mo(t, '+420777000555', 'are you there');
    await waitFor(
      () => t!.logs.some((l) => /MO get-url of .* failed \(attempt 1\)/.test(l)),
      10_000,
      'first failure',
    );
    expect(t.smppd.moUrls?.queue.size).toBe(1);
    const back = await application(port);
    await waitFor(
      () => back.calls.length === 1,
      15_000,
      `call after the application came back\n${t.logs.join('\n')}`,
    );
    await waitFor(() => t!.smppd.moUrls?.queue.size === 0, 5_000, 'queue emptied');
    await new Promise((r) => setTimeout(r, 1000));
    expect(back.calls).toHaveLength(1);
    expect(back.calls[0]!.url.searchParams.get('text')).toBe('are you there');
    expect(got).toHaveLength(0);
    session.close();
  });

  it('500 for ever: dead-lettered after MoUrlMaxAttempts, with a log line, the metric and the file in mo-url-dead/', async () => {
    const app = await application();
    app.mode = 'fail';
    t = await start(
      `get-url=http://127.0.0.1:${app.port}/mo?p=%p\n`,
      'MoUrlMaxAttempts = 3\nAdminPort = 0\nAdminListen = 127.0.0.1\nAdminPassword = pw\n',
    );
    mo(t, '+420777000666', 'doomed');
    await waitFor(() => t!.logs.some((l) => /dead-lettered after 3 attempt/.test(l)), 15_000, 'dead letter');
    expect(app.calls).toHaveLength(3);
    expect(await metric(t, 'dead')).toBe(1);
    const metrics = await (
      await fetch(`http://127.0.0.1:${t.smppd.adminPort}/metrics`, { headers: { 'X-Admin-Password': 'pw' } })
    ).text();
    expect(metrics).toMatch(/^smppd_mo_url_dead_letters_total 1$/m);
    expect(metrics).toMatch(/^smppd_mo_url_failed_attempts_total 3$/m);
    const deadDir = path.join(t.spool.dir, 'smppd', 'mo-url-dead');
    const dead = fs.readdirSync(deadDir);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(deadDir, dead[0]!), 'utf8'))).toMatchObject({
      attempts: 3,
      lastError: 'HTTP 500',
    });
    expect(t.smppd.moUrls?.queue.size).toBe(0);
  });

  it('a listener that never answers: each call ends at MoUrlTimeout, 8 calls at once, no sockets left over', async () => {
    const app = await application();
    app.mode = 'silent';
    t = await start(`get-url=http://127.0.0.1:${app.port}/mo?p=%p\n`, 'MoUrlMaxAttempts = 2\n');
    for (let i = 0; i < 30; i++) mo(t, `+42077710${String(i).padStart(4, '0')}`, `silent ${i}`);
    await waitFor(() => app.calls.length >= 8, 10_000, 'calls start');
    await waitFor(() => (t!.smppd.moUrls?.queue.stats.failedAttempts ?? 0) >= 8, 10_000, 'timeouts');
    expect(t.logs.some((l) => /no (complete )?answer within 1000 ms/.test(l))).toBe(true);
    // 8 in flight; the listener may see a timed-out socket's close just after its successor connects.
    expect(app.maxOpen()).toBeLessThanOrEqual(10);
    await waitFor(() => (t!.smppd.moUrls?.queue.stats.dead ?? 0) === 30, 30_000, 'all dead-lettered');
    expect(app.calls).toHaveLength(60);
    expect(app.maxOpen()).toBeLessThanOrEqual(10);
    await waitFor(() => app.open() === 0, 5_000, 'every socket closed');
  }, 60_000);

  it('a flood while the application is down: the queue stops at MoUrlQueueSize, the rest wait in the inbox; all arrive once after', async () => {
    const port = await freePort();
    t = await start(`get-url=http://127.0.0.1:${port}/mo?p=%p&t=%a\n`, 'MoUrlQueueSize = 10\n');
    for (let i = 0; i < 25; i++) mo(t, `+42077720${String(i).padStart(4, '0')}`, `flood ${i}`);
    await waitFor(() => (t!.smppd.moUrls?.queue.stats.refusedFull ?? 0) >= 15, 10_000, 'queue full');
    expect(t.smppd.moUrls?.queue.size).toBe(10);
    expect(t.logs.filter((l) => /queue full \(10 calls waiting\)/.test(l))).toHaveLength(1);
    // The MO not queued are still in the inbox, nothing dead-lettered.
    expect(listFiles(t.spool.inbox).filter((n) => n.startsWith('IN'))).toHaveLength(25);
    expect(await metric(t, 'dead')).toBe(0);
    const back = await application(port);
    await waitFor(
      () => back.calls.length >= 25,
      40_000,
      `all calls (${back.calls.length})\n${t.logs.slice(-5).join('\n')}`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const texts = back.calls.map((c) => c.url.searchParams.get('t')).sort();
    expect(texts).toEqual(Array.from({ length: 25 }, (_, i) => `flood ${i}`).sort());
    expect(t.logs.some((l) => /has room again/.test(l))).toBe(true);
  }, 60_000);

  it('the queue folder unwritable: the MO stays in the inbox (an error line), and is called once it can be stored', async () => {
    const app = await application();
    t = await start(`get-url=http://127.0.0.1:${app.port}/mo?text=%a\n`);
    const dir = path.join(t.spool.dir, 'smppd', 'mo-url');
    // A file where the folder was: every write into it fails (ENOTDIR), whoever runs the test.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'not a folder');
    mo(t, '+420777000777', 'stored later');
    await waitFor(() => t!.logs.some((l) => /not queued \(.*ENOTDIR/.test(l)), 10_000, 'the write error');
    expect(app.calls).toHaveLength(0);
    expect(listFiles(t.spool.inbox).filter((n) => n.startsWith('IN'))).toHaveLength(1);
    fs.rmSync(dir);
    fs.mkdirSync(dir);
    // The next listing of the inbox (every 5 s) takes it.
    await waitFor(() => app.calls.length === 1, 20_000, `the call once the disk works\n${t.logs.join('\n')}`);
    expect(app.calls[0]!.url.searchParams.get('text')).toBe('stored later');
  }, 40_000);

  it('a bad rules file stops the start with file:line and what is wrong; nothing is queued', async () => {
    await expect(start('keyword=STOP get-url=http://x/ok\nkeyword=HELP\n')).rejects.toThrow(
      /mo-routes:2: no action: one of get-url=URL, post-url=URL, esme=SYSTEM_ID/,
    );
    await expect(start('keyword=A get-url=ftp://x/\n')).rejects.toThrow(
      /mo-routes:1: get-url=ftp:\/\/x\/: not an http/,
    );
    await expect(start('colour=red get-url=http://x/\n')).rejects.toThrow(
      /mo-routes:1: unknown key "colour"/,
    );
    await expect(start('to=abc get-url=http://x/\n')).rejects.toThrow(
      /mo-routes:1: to=abc: not a phone number/,
    );
    await expect(start('keyword=A get-url=http://x/ esme=shop\n')).rejects.toThrow(/more than one action/);
    await expect(start('keyword get-url=http://x/\n')).rejects.toThrow(/"keyword" is not key=value/);
  });
});

// The whole path as processes: the emulator's handset sends, `smsd run` stores it (with its
// PhoneID and OwnNumber), `smppd serve` routes it by modem and receiving number.
describe('MO to URLs with smsd run and the emulator', () => {
  const stacks: { rig: Rig; smppd: ChildProcess }[] = [];
  afterAll(async () => {
    for (const s of stacks) {
      if (s.smppd.exitCode === null) s.smppd.kill('SIGKILL');
      await s.rig.close();
    }
  });

  it('routes by the receiving number smsd run recorded (OwnNumber), with its PhoneID in %i', async () => {
    const app = await application();
    const rig = await startRig({
      config: FAST_TIMERS + 'PhoneID = modemA\nOwnNumber = +420600111222\n',
      startDaemon: false,
    });
    const accounts = path.join(rig.spool.dir, 'esme.ini');
    await writeAccounts(accounts, [{ systemId: 'shop', password: 'pw123', extra: 'mo = yes\n' }]);
    const rules = path.join(rig.spool.dir, 'mo-routes');
    fs.writeFileSync(
      rules,
      `to=+420999 get-url=http://127.0.0.1:${app.port}/wrong\nto=00420600111222 get-url=http://127.0.0.1:${app.port}/by-number?to=%P&Q=%Q&i=%i&text=%a\nphone=modemA get-url=http://127.0.0.1:${app.port}/by-phone\n`,
    );
    fs.appendFileSync(
      rig.spool.config,
      `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nMoRoutesFile = ${rules}\n`,
    );
    rig.startDaemon();
    const smppd = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', rig.spool.config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stacks.push({ rig, smppd });
    let out = '';
    smppd.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    smppd.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor(() => /listening on 127\.0\.0\.1:\d+/.test(out), 15_000, 'smppd start');
    rig.emulator.modem.deliver({ from: '+420777888999', text: 'Hi from the handset' });
    await waitFor(() => app.calls.length === 1, 20_000, `MO call\n${out}`, rig);
    const c = app.calls[0]!;
    expect(c.url.pathname).toBe('/by-number');
    expect(c.url.searchParams.get('to')).toBe('+420600111222');
    expect(c.url.searchParams.get('i')).toBe('modemA');
    expect(c.url.searchParams.get('text')).toBe('Hi from the handset');
  }, 60_000);

  it('kill -9 with calls queued while the application is down: after the restart each arrives once', async () => {
    const port = await freePort();
    const rig = await startRig({ config: FAST_TIMERS + 'PhoneID = modemB\n', startDaemon: false });
    const accounts = path.join(rig.spool.dir, 'esme.ini');
    await writeAccounts(accounts, [{ systemId: 'shop', password: 'pw123', extra: 'mo = yes\n' }]);
    const rules = path.join(rig.spool.dir, 'mo-routes');
    fs.writeFileSync(rules, `phone=modemB get-url=http://127.0.0.1:${port}/mo?id=%I&text=%a\n`);
    fs.appendFileSync(
      rig.spool.config,
      `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nMoRoutesFile = ${rules}\nMoUrlRetryInterval = 0.5\n`,
    );
    rig.startDaemon();
    let out = '';
    const serve = (): ChildProcess => {
      const child = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', rig.spool.config], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
      stacks.push({ rig, smppd: child });
      return child;
    };
    const first = serve();
    await waitFor(() => /listening on 127\.0\.0\.1:\d+/.test(out), 15_000, 'smppd start');
    for (let i = 0; i < 3; i++) rig.emulator.modem.deliver({ from: `+42077788800${i}`, text: `crash ${i}` });
    const queueDir = path.join(rig.spool.dir, 'smppd', 'mo-url');
    await waitFor(
      () =>
        (fs.existsSync(queueDir) ? fs.readdirSync(queueDir).filter((n) => n.endsWith('.json')).length : 0) ===
        3,
      30_000,
      `3 calls queued\n${out}`,
      rig,
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const app = await application(port);
    out = '';
    serve();
    await waitFor(() => app.calls.length >= 3, 30_000, `calls after the restart\n${out}`, rig);
    await new Promise((r) => setTimeout(r, 1500));
    expect(app.calls.map((c) => c.url.searchParams.get('text')).sort()).toEqual([
      'crash 0',
      'crash 1',
      'crash 2',
    ]);
    expect(new Set(app.calls.map((c) => c.url.searchParams.get('id'))).size).toBe(3);
  }, 90_000);
});

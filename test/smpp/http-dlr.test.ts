import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { ROOT, listFiles } from '../helpers/spool.js';
import { smppdConfig, writeAccounts } from './harness.js';

// Kannel's dlr-url end to end, as processes: `smppd serve` with HttpPort, `smsd run` on the same
// spool, the modem emulator on a real PTY answering with status reports. The application is an
// HTTP listener written here with node:http (no project code), which counts every call.

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');

interface Stack {
  rig: Rig;
  smppd: ChildProcess;
  httpPort: number;
  out: () => string;
}
const stacks: Stack[] = [];
const listeners: http.Server[] = [];

async function startStack(modem: { reportStatus?: number } = {}): Promise<Stack> {
  const rig = await startRig({ config: FAST_TIMERS + 'DeliveryReport = log\n', startDaemon: false, modem });
  const accounts = path.join(rig.spool.dir, 'esme.ini');
  await writeAccounts(accounts, [{ systemId: 'shop', password: 'pw123' }]);
  fs.appendFileSync(
    rig.spool.config,
    `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nHttpPort = 0\nAccountsFile = ${accounts}\nLogLevel = debug\nDlrTimeout = 2\n`,
  );
  rig.startDaemon();
  const smppd = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', rig.spool.config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  smppd.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  smppd.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const stack: Stack = { rig, smppd, httpPort: 0, out: () => out };
  stacks.push(stack);
  const m = await waitFor(() => /Kannel sendsms\) on 127\.0\.0\.1:(\d+)/.exec(out), 15_000, 'smppd start');
  stack.httpPort = Number(m[1]);
  return stack;
}

afterAll(async () => {
  for (const l of listeners) l.close();
  for (const s of stacks) {
    if (s.smppd.exitCode === null) s.smppd.kill('SIGKILL');
    await s.rig.close();
  }
});

/** The application: records each call's query. */
function application(port = 0): Promise<{ server: http.Server; port: number; calls: URLSearchParams[] }> {
  const calls: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    calls.push(new URL(req.url ?? '/', 'http://x').searchParams);
    res.end('OK');
  });
  listeners.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as { port: number }).port, calls }),
    );
  });
}

async function sendsms(port: number, query: Record<string, string>): Promise<{ status: number; id: string }> {
  const res = await fetch(
    `http://127.0.0.1:${port}/cgi-bin/sendsms?${new URLSearchParams(query).toString()}`,
  );
  expect(await res.text()).toBe('0: Accepted for delivery');
  return { status: res.status, id: res.headers.get('x-message-id') ?? '' };
}

const DLR_QUERY = 'id=%I&type=%d&from=%p&to=%P&text=%A&unix=%T&time=%t&user=%n&pct=%%';

describe('dlr-url with smsd run and the emulator', () => {
  it("the modem's report reaches the application with Kannel's escapes expanded: 8 (sent) then 1 (delivered), once each", async () => {
    const app = await application();
    const { httpPort, out } = await startStack();
    const before = Math.floor(Date.now() / 1000);
    const { status, id } = await sendsms(httpPort, {
      username: 'shop',
      password: 'pw123',
      from: 'Shop',
      to: '+420111222333',
      text: 'Report me',
      'dlr-mask': '11',
      'dlr-url': `http://127.0.0.1:${app.port}/dlr?${DLR_QUERY}`,
    });
    expect(status).toBe(202);
    await waitFor(
      () => app.calls.some((c) => c.get('type') === '1') && app.calls.some((c) => c.get('type') === '8'),
      30_000,
      `sent and delivered DLRs\n${out()}`,
    );
    await new Promise((r) => setTimeout(r, 1500)); // none more comes
    expect(app.calls.map((c) => c.get('type')).sort()).toEqual(['1', '8']);
    const d = app.calls.find((c) => c.get('type') === '1');
    expect(d?.get('id')).toBe(id);
    expect(d?.get('from')).toBe('Shop');
    expect(d?.get('to')).toBe('+420111222333');
    expect(d?.get('user')).toBe('shop');
    expect(d?.get('pct')).toBe('%');
    expect(d?.get('text')).toMatch(
      new RegExp(
        `^id:${id} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:Report me$`,
      ),
    );
    expect(Number(d?.get('unix'))).toBeGreaterThanOrEqual(before - 1);
    expect(d?.get('time')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(app.calls.find((c) => c.get('type') === '8')?.get('text')).toBe('ACK/');
  });

  it('the application down for a while: retried with back-off, then called exactly once; the queue is empty after', async () => {
    const app = await application();
    const port = app.port;
    await new Promise((r) => app.server.close(r));
    const stack = await startStack();
    const { out, rig } = stack;
    await sendsms(stack.httpPort, {
      username: 'shop',
      password: 'pw123',
      from: 'Shop',
      to: '+420111222444',
      text: 'While you were out',
      'dlr-mask': '1',
      'dlr-url': `http://127.0.0.1:${port}/dlr?${DLR_QUERY}`,
    });
    await waitFor(
      () => /dlr-url of .* failed \(attempt 1\)/.test(out()),
      30_000,
      `first failed call\n${out()}`,
    );
    // The second attempt (after ~5 s) fails too: its queue file counts it (only the first is logged).
    const queued = path.join(rig.spool.dir, 'smppd', 'dlr');
    const attempts = () =>
      fs
        .readdirSync(queued)
        .filter((f) => f.endsWith('.json'))
        .map((f) => {
          try {
            return (
              (JSON.parse(fs.readFileSync(path.join(queued, f), 'utf8')) as { attempts?: number }).attempts ??
              0
            );
          } catch {
            return 0; // being replaced
          }
        });
    await waitFor(() => attempts().some((n) => n >= 2), 30_000, `second failed call\n${out()}`);
    const back = await application(port); // EADDRINUSE here would mean another process took the port
    await waitFor(() => back.calls.length > 0, 30_000, `call after the application came back\n${out()}`);
    await new Promise((r) => setTimeout(r, 2000));
    expect(back.calls).toHaveLength(1);
    expect(back.calls[0]?.get('type')).toBe('1');
    expect(back.calls[0]?.get('to')).toBe('+420111222444');
    expect(out()).toMatch(/failed \(attempt 1\)/);
    const dlrDir = path.join(rig.spool.dir, 'smppd', 'dlr');
    await waitFor(() => fs.readdirSync(dlrDir).length === 0, 5000, 'queue emptied');
  }, 90_000);

  it('a failed message gives type 2 (failed) with the status in %A', async () => {
    const app = await application();
    const { httpPort, out } = await startStack({ reportStatus: 0x41 });
    await sendsms(httpPort, {
      username: 'shop',
      password: 'pw123',
      from: 'Shop',
      to: '+420111222555',
      text: 'No luck',
      'dlr-mask': '3',
      'dlr-url': `http://127.0.0.1:${app.port}/dlr?${DLR_QUERY}`,
    });
    await waitFor(() => app.calls.length > 0, 30_000, `failed DLR\n${out()}`);
    expect(app.calls[0]?.get('type')).toBe('2');
    expect(app.calls[0]?.get('text')).toMatch(/stat:UNDELIV err:065 /);
  });
});

describe('kill -9 during a flood of sendsms', () => {
  it('every message answered 202 is in the outbox after the restart, none twice', async () => {
    const { spool, configFile } = await smppdConfig(
      [{ systemId: 'shop', password: 'pw123' }],
      'HttpPort = 0\n',
    );
    const run = async (): Promise<{ child: ChildProcess; port: number; out: () => string }> => {
      const child = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', configFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
      const m = await waitFor(() => /Kannel sendsms\) on [\d.]+:(\d+)/.exec(out), 15_000, 'smppd start');
      return { child, port: Number(m[1]), out: () => out };
    };
    const first = await run();
    const answered: string[] = [];
    let n = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        const i = n++;
        const req = http.get(
          {
            host: '127.0.0.1',
            port: first.port,
            agent,
            path: `/cgi-bin/sendsms?username=shop&password=pw123&from=Shop&to=42011100${String(i).padStart(4, '0')}&text=m${i}`,
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 202) answered.push(String(res.headers['x-message-id']));
              resolve();
            });
            res.on('error', () => resolve());
          },
        );
        req.on('error', () => resolve());
      });
    const flood = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (first.child.exitCode === null && first.child.signalCode === null && n < 20_000) await one();
      }),
    );
    await waitFor(() => answered.length >= 500, 20_000, 'answers before the kill');
    first.child.kill('SIGKILL');
    await flood;
    agent.destroy();
    const second = await run();
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
    const ids = listFiles(spool.outbox)
      .map((name) => /_smpp-([0-9a-f]+)\.smsbackup$/.exec(name)?.[1])
      .filter((x): x is string => x !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
    const stored = new Set(ids);
    expect(answered.filter((id) => !stored.has(id))).toEqual([]);
    spool.cleanup();
  }, 90_000);
});

import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBackupExtensions } from '../../src/lib/smsbackup/reader.js';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { startTestSmppd, type TestSmppd } from './harness.js';

// sendsms `deferred` (Kannel: minutes from now): the outbox file carries `SendAfter` and `smsd run`
// leaves it there until then; `3: Queued for later delivery` when no modem could send it now.

let t: TestSmppd | undefined;
let rig: Rig | undefined;
afterEach(async () => {
  await t?.stop();
  if (rig) await rig.close();
  else t?.spool.cleanup();
  t = undefined;
  rig = undefined;
});

function curl(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-w', '\n%{http_code}', url], (err, stdout) => {
      if (err) return reject(err);
      const i = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) });
    });
  });
}

const AUTH = 'username=shop&password=pw123&from=Shop';
const ACCOUNTS = [{ systemId: 'shop', password: 'pw123' }];

function outboxFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith('OUT'));
}

describe('sendsms deferred', () => {
  it('202 0: Accepted; the outbox file holds SendAfter = now + the minutes', async () => {
    t = await startTestSmppd(ACCOUNTS, 'HttpPort = 0\nHttpListen = 127.0.0.1\n');
    const before = Date.now();
    const r = await curl(
      `http://127.0.0.1:${t.smppd.httpPort}/cgi-bin/sendsms?${AUTH}&to=%2B420111000001&text=later&deferred=10`,
    );
    expect(r).toEqual({ status: 202, body: '0: Accepted for delivery' });
    await t.settled();
    const [name] = outboxFiles(t.spool.outbox);
    const ext = parseBackupExtensions(fs.readFileSync(path.join(t.spool.outbox, name!)));
    const after = Date.parse(ext.SendAfter ?? '');
    expect(after).toBeGreaterThanOrEqual(before + 600_000 - 1000);
    expect(after).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it('3: Queued for later delivery when every daemon that published a status is down; 0 while one is up', async () => {
    t = await startTestSmppd(ACCOUNTS, 'HttpPort = 0\nHttpListen = 127.0.0.1\n');
    const statusDir = path.join(t.spool.dir, 'status');
    fs.mkdirSync(statusDir, { recursive: true });
    const status = (pid: number, state: string, phoneId: string): string =>
      JSON.stringify({ pid, phoneId, state, device: 'x', client: 'x', signalPercent: 0, batteryPercent: 0 });
    // A daemon that died without saying so (no such process) and one that stopped.
    fs.writeFileSync(path.join(statusDir, 'a.json'), status(2 ** 22 + 17, 'connected', 'a'));
    fs.writeFileSync(path.join(statusDir, 'b.json'), status(process.pid, 'stopped', 'b'));
    const url = `http://127.0.0.1:${t.smppd.httpPort}/cgi-bin/sendsms?${AUTH}&to=%2B420111000002&text=x`;
    expect(await curl(url)).toEqual({ status: 202, body: '3: Queued for later delivery' });
    // A living daemon (this process stands in for it) connected: 0, but not for a message pinned elsewhere.
    fs.writeFileSync(path.join(statusDir, 'b.json'), status(process.pid, 'connected', 'b'));
    await waitFor(
      async () => (await curl(url)).body === '0: Accepted for delivery',
      5_000,
      'status read again',
    );
    expect(await curl(`${url}&smsc=a`)).toEqual({ status: 202, body: '3: Queued for later delivery' });
    expect(await curl(`${url}&smsc=b`)).toEqual({ status: 202, body: '0: Accepted for delivery' });
  });

  it('smsd run leaves a deferred message in the outbox until its time, and sends others meanwhile', async () => {
    rig = await startRig({ config: FAST_TIMERS, startDaemon: false });
    t = await startTestSmppd(ACCOUNTS, 'HttpPort = 0\nHttpListen = 127.0.0.1\n', rig.spool);
    const base = `http://127.0.0.1:${t.smppd.httpPort}/cgi-bin/sendsms?${AUTH}`;
    expect((await curl(`${base}&to=%2B420111000003&text=deferred+one&deferred=1`)).status).toBe(202);
    await t.settled();
    // A minute is long for a test: the file's time is moved to 4 s from now before smsd run starts.
    const [name] = outboxFiles(rig.spool.outbox);
    const file = path.join(rig.spool.outbox, name!);
    const sendAfter = Date.now() + 4000;
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace(/SendAfter = .*/, `SendAfter = ${new Date(sendAfter).toISOString()}`),
    );
    rig.startDaemon();
    expect((await curl(`${base}&to=%2B420111000004&text=right+away`)).status).toBe(202);
    await waitFor(() => rig!.emulator.modem.sent.length >= 1, 20_000, 'the other message sent', rig);
    expect(rig.emulator.modem.sent.map((s) => s.text)).toEqual(['right away']);
    // Still held while its time has not come (checked at a moment known to be before it).
    if (Date.now() < sendAfter - 300) expect(outboxFiles(rig.spool.outbox)).toContain(name);
    await waitFor(() => rig!.emulator.modem.sent.length >= 2, 20_000, 'the deferred message sent', rig);
    expect(Date.now()).toBeGreaterThanOrEqual(sendAfter);
    expect(rig.emulator.modem.sent.map((s) => s.text)).toEqual(['right away', 'deferred one']);
  }, 60_000);
});

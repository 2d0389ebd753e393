import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/rig.js';
import {
  cleanupOutlets,
  startOutlet,
  startSmsc,
  writeOutletConfig,
  type OutletProc,
  type Smsc,
} from '../peers/smsc.js';

// Storage faults on the outlet path (a message the SMSC accepted is never submitted again because a
// local step failed), takeover of a killed daemon's claims, DeliveryReport = sms, SIGHUP. Against
// test/peers/smsc.py; folders made read-only with a read-only bind mount (root only).

const ROOT = process.getuid?.() === 0;
afterAll(cleanupOutlets);

const mounted: string[] = [];
/** `dir` read-only from now on (a bind mount of itself), until `writable`. */
function readOnly(dir: string): void {
  execFileSync('mount', ['--bind', dir, dir]);
  mounted.push(dir);
  execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
}
function writable(dir: string): void {
  const i = mounted.lastIndexOf(dir);
  if (i < 0) return;
  mounted.splice(i, 1);
  execFileSync('umount', [dir]);
}
afterEach(() => {
  for (const d of mounted.splice(0).reverse()) execFileSync('umount', ['-l', d]);
});

let serial = 0;
function queue(outbox: string, n: number, text: (i: number) => string): void {
  for (let i = 0; i < n; i++) {
    const name = `OUTC20260101_000000_${String(serial++).padStart(5, '0')}_+4912345_sms0.txt`;
    fs.writeFileSync(path.join(outbox, `.${name}`), text(i));
    fs.renameSync(path.join(outbox, `.${name}`), path.join(outbox, name));
  }
}
const files = (dir: string) =>
  fs.readdirSync(dir).filter((f) => f.startsWith('OUT') && !f.endsWith('.reason'));
const inbox = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('IN'));
interface Status {
  storage?: { ok: boolean; error?: string; failures: number };
  outlet: { window: number; receiptsWaiting?: number };
}
const statusOf = (p: OutletProc): Status | undefined => {
  try {
    return JSON.parse(fs.readFileSync(p.statusFile, 'utf8')) as Status;
  } catch {
    return undefined;
  }
};

async function stack(
  upstream = '',
  smscArgs: string[] = [],
  smsd = '',
): Promise<{ smsc: Smsc; p: OutletProc }> {
  const smsc = await startSmsc(['--password', 'secret', ...smscArgs]);
  const spool = writeOutletConfig(smsc.port, upstream, smsd);
  return { smsc, p: startOutlet(spool) };
}

/** Distinct parts in the outlet's receipt journal (reports/.outlet-up1.jsonl). */
function journalled(p: OutletProc): number {
  const text = fs.readFileSync(path.join(p.reportsDir, '.outlet-up1.jsonl'), 'utf8');
  const parts = new Set<string>();
  for (const line of text.split('\n'))
    if (line.startsWith('{"id"')) {
      const r = JSON.parse(line) as { id: string; part: number };
      parts.add(`${r.id}#${r.part}`);
    }
  return parts.size;
}

async function bound(p: OutletProc): Promise<void> {
  await waitFor(() => /bound to 127\.0\.0\.1/.test(p.output()), 15_000, `bind\n${p.output()}`);
}

describe.skipIf(!ROOT)('storage faults on the outlet path', () => {
  it('sent/ read-only: each message submitted once, no rebind, the status shows it, all in sent/ once writable', async () => {
    const { smsc, p } = await stack('Window = 4\n');
    await bound(p);
    readOnly(p.spool.sent);
    queue(p.spool.outbox, 6, (i) => `ro sent ${i}`);
    await waitFor(async () => (await smsc.stats()).submits >= 6, 15_000, `6 submits\n${p.output()}`);
    await waitFor(
      () => statusOf(p)?.storage?.ok === false,
      10_000,
      `storage problem in the status\n${p.output()}`,
    );
    expect(statusOf(p)?.storage?.error).toMatch(/^sent: /);
    // Several retries of the move, none of the submit.
    await waitFor(() => (statusOf(p)?.storage?.failures ?? 0) >= 8, 15_000, `retries\n${p.output()}`);
    expect((await smsc.stats()).submits).toBe(6);
    expect(files(p.spool.sent)).toHaveLength(0);
    expect(p.output()).toMatch(/storage problem \(sent\)/);
    writable(p.spool.sent);
    await waitFor(() => files(p.spool.sent).length === 6, 20_000, `6 in sent/\n${p.output()}`);
    await waitFor(() => statusOf(p)?.storage?.ok === true, 10_000, 'storage ok again');
    expect(p.output()).toMatch(/storage \(sent\) works again/);
    const st = await smsc.stats();
    expect(st.submits).toBe(6);
    expect(st.duplicates).toBe(0);
    expect(st.bind_attempts).toBe(1);
    expect(files(p.spool.outbox)).toHaveLength(0);
    expect(await p.stop()).toBe(0);
  });

  it('sent/ full (a tiny tmpfs, ENOSPC): held, retried, submitted once; all in sent/ once there is room', async () => {
    const { smsc, p } = await stack('Window = 4\n');
    await bound(p);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', p.spool.sent]);
    mounted.push(p.spool.sent);
    const filler = path.join(p.spool.sent, 'filler');
    try {
      fs.writeFileSync(filler, Buffer.alloc(1 << 20));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    queue(p.spool.outbox, 4, (i) => `full ${i}`);
    await waitFor(
      () => statusOf(p)?.storage?.error?.includes('ENOSPC') || statusOf(p)?.storage?.error?.includes('space'),
      15_000,
      `ENOSPC in the status\n${p.output()}`,
    );
    await waitFor(() => (statusOf(p)?.storage?.failures ?? 0) >= 6, 15_000, `retries\n${p.output()}`);
    expect((await smsc.stats()).submits).toBe(4);
    fs.rmSync(filler);
    await waitFor(() => files(p.spool.sent).length === 4, 20_000, `4 in sent/\n${p.output()}`);
    const st = await smsc.stats();
    expect(st.submits).toBe(4);
    expect(st.bind_attempts).toBe(1);
    expect(await p.stop()).toBe(0);
  });

  it('reports/ read-only: a receipt is not acknowledged until stored, no rebind; stored once writable', async () => {
    const { smsc, p } = await stack();
    await bound(p);
    queue(p.spool.outbox, 1, () => 'receipt later');
    await waitFor(() => files(p.spool.sent).length === 1, 15_000, `sent\n${p.output()}`);
    const [sub] = await smsc.submits();
    readOnly(p.reportsDir);
    const refused = await smsc.control({ cmd: 'receipt', id: sub?.resp_id, stat: 'DELIVRD' });
    expect(refused.status).not.toBe(0);
    await waitFor(() => statusOf(p)?.storage?.error?.startsWith('reports:'), 10_000, `status\n${p.output()}`);
    expect(fs.readdirSync(p.reportsDir).filter((f) => f.endsWith('.json'))).toHaveLength(0);
    writable(p.reportsDir);
    // The SMSC redelivers (here: the test, after the back-off) and is acknowledged once stored.
    await waitFor(
      async () => (await smsc.control({ cmd: 'receipt', id: sub?.resp_id, stat: 'DELIVRD' })).status === 0,
      20_000,
      `receipt acked\n${p.output()}`,
    );
    const rep = fs.readdirSync(p.reportsDir).filter((f) => f.endsWith('.json'));
    expect(rep).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(p.reportsDir, rep[0] as string), 'utf8'))).toMatchObject({
      category: 'delivered',
    });
    await waitFor(() => statusOf(p)?.storage?.ok === true, 10_000, 'storage ok again');
    expect((await smsc.stats()).bind_attempts).toBe(1);
    expect(await p.stop()).toBe(0);
  });

  it('inbox read-only: MO not acknowledged until stored, no rebind; in the inbox once writable', async () => {
    const { smsc, p } = await stack();
    await bound(p);
    readOnly(p.spool.inbox);
    const mo = { cmd: 'mo', from: '+4911111', to: '1234', coding: 'gsm', text: 'hello inbox' };
    expect((await smsc.control(mo)).status).not.toBe(0);
    await waitFor(() => statusOf(p)?.storage?.error?.startsWith('inbox:'), 10_000, `status\n${p.output()}`);
    writable(p.spool.inbox);
    await waitFor(async () => (await smsc.control(mo)).status === 0, 20_000, `MO acked\n${p.output()}`);
    const got = inbox(p.spool.inbox);
    expect(got).toHaveLength(1);
    expect(fs.readFileSync(path.join(p.spool.inbox, got[0] as string), 'utf8')).toBe('hello inbox');
    expect((await smsc.stats()).bind_attempts).toBe(1);
    expect(await p.stop()).toBe(0);
  });
});

describe.skipIf(!ROOT)('claims of a killed daemon', () => {
  it.each([
    ['the same daemon restarted', 'up1'],
    ['another daemon on the same spool', 'up2'],
  ])('%s finishes the moves without submitting the accepted parts again', async (_what, phoneId) => {
    const { smsc, p } = await stack('Window = 4\n');
    await bound(p);
    // sent/ read-only holds every message after the SMSC took it and its id was journalled.
    readOnly(p.spool.sent);
    queue(p.spool.outbox, 5, (i) => `takeover ${i} ${'x'.repeat(i === 0 ? 200 : 0)}`); // one of 2 parts
    await waitFor(async () => (await smsc.stats()).submits >= 6, 15_000, `6 submits\n${p.output()}`);
    await waitFor(() => statusOf(p)?.storage?.ok === false, 10_000, `held\n${p.output()}`);
    // Every accepted part durable in the journal (the window between the SMSC's answer and this
    // record is the one a kill -9 may resend in, as with a modem): now the kill.
    await waitFor(() => journalled(p) === 6, 10_000, `6 parts journalled\n${p.output()}`);
    p.child.kill('SIGKILL');
    await new Promise((r) => p.child.once('exit', r));
    writable(p.spool.sent);
    let config = fs.readFileSync(p.spool.config, 'utf8');
    if (phoneId !== 'up1') config = config.replace(/phoneid = up1/i, `phoneid = ${phoneId}`);
    const cfg2 = path.join(p.spool.dir, `smsdrc-${phoneId}`);
    fs.writeFileSync(cfg2, config);
    const p2 = startOutlet({ ...p.spool, config: cfg2, cleanup: () => undefined });
    await waitFor(() => files(p.spool.sent).length === 5, 30_000, `5 in sent/\n${p2.output()}`);
    const st = await smsc.stats();
    expect(st.submits).toBe(6);
    expect(st.duplicates).toBe(0);
    expect(p2.output()).toMatch(
      phoneId === 'up1'
        ? /part 1: accepted before \(message id/
        : /part 1: accepted before by up1 \(message id/,
    );
    expect(files(p.spool.outbox)).toHaveLength(0);
    expect(await p2.stop()).toBe(0);
  });
});

describe('outlet receipts and settings', () => {
  it('DeliveryReport = sms: each receipt is also a message in the inbox, its text the status word', async () => {
    const { p } = await stack('', ['--receipts', '--id-style', 'hex'], 'DeliveryReport = sms\n');
    queue(p.spool.outbox, 2, (i) => `dlr as sms ${i}`);
    await waitFor(() => inbox(p.spool.inbox).length >= 2, 20_000, `2 reports in the inbox\n${p.output()}`);
    for (const f of inbox(p.spool.inbox)) {
      expect(f).toMatch(/_\+?4912345_/);
      expect(fs.readFileSync(path.join(p.spool.inbox, f), 'utf8')).toBe('Delivered');
    }
    expect(fs.readdirSync(p.reportsDir).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    // The log line comes through the daemon's pipe, after the files it names.
    await waitFor(() => /Delivery report IN/.test(p.output()), 10_000, `log line\n${p.output()}`);
    expect(p.output()).toMatch(/Delivery report IN/);
    expect(await p.stop()).toBe(0);
  });

  it('SIGHUP applies Window, Throughput and DebugLevel without a rebind and names what needs a restart', async () => {
    const { smsc, p } = await stack('Window = 10\n');
    await bound(p);
    const config = fs.readFileSync(p.spool.config, 'utf8');
    fs.writeFileSync(
      p.spool.config,
      config
        .replace('Window = 10', 'Window = 2\nThroughput = 20')
        .replace('SystemId = outlet', 'SystemId = other')
        .replace('[smsd]\n', '[smsd]\nDebugLevel = 1\n'),
    );
    p.child.kill('SIGHUP');
    await waitFor(() => /configuration reloaded: changed/.test(p.output()), 10_000, `reload\n${p.output()}`);
    expect(p.output()).toMatch(/changed Window, Throughput, DebugLevel/);
    expect(p.output()).toMatch(/only taken at a restart of smsd run \(old values kept\): SystemId/);
    await waitFor(() => statusOf(p)?.outlet.window === 2, 10_000, 'window 2 in the status');
    const t0 = Date.now();
    queue(p.spool.outbox, 20, (i) => `after hup ${i}`);
    await waitFor(() => files(p.spool.sent).length === 20, 20_000, `20 sent\n${p.output()}`);
    // 20 at 20/s: about a second; unlimited would be a few ms.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    const st = await smsc.stats();
    expect(st.max_outstanding).toBeLessThanOrEqual(2);
    expect(st.bind_attempts).toBe(1);
    expect(st.binds.every((b) => b.system_id === 'outlet')).toBe(true);
    // DebugLevel = 1: per-part lines now logged.
    expect(p.output()).toMatch(/DEBUG .*Transmitted/);
    // A broken config changes nothing.
    fs.writeFileSync(
      p.spool.config,
      fs.readFileSync(p.spool.config, 'utf8').replace('Window = 2', 'Window = lots'),
    );
    p.child.kill('SIGHUP');
    await waitFor(
      () => /reload failed, keeping the old configuration/.test(p.output()),
      10_000,
      'bad reload',
    );
    expect(statusOf(p)?.outlet.window).toBe(2);
    expect(await p.stop()).toBe(0);
  });
});

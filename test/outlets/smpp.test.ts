import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_TIMERS, startRig, waitFor } from '../helpers/rig.js';
import { spawnSync } from 'node:child_process';
import { SMSD_BIN, runSmsd } from '../helpers/spool.js';
import {
  cleanupOutlets,
  outletConfig,
  startOutlet,
  startSmsc,
  writeOutletConfig,
  type OutletProc,
  type Smsc,
} from '../peers/smsc.js';

// `smsd run` with Connection = smpp against test/peers/smsc.py (Python, no smsgate code) over TCP.

afterAll(cleanupOutlets);

let serial = 0;
/** Queues Gammu-style .txt outbox files (UTF-16 with a BOM when the text needs Unicode). */
function queue(outbox: string, n: number, text: (i: number) => string, number = '+4912345'): string[] {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `OUTC20260101_000000_${String(serial++).padStart(5, '0')}_${number}_sms0.txt`;
    const t = text(i);
    const body = /^[\x00-\x7f€]*$/.test(t)
      ? Buffer.from(t)
      : Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]);
    fs.writeFileSync(path.join(outbox, `.${name}`), body);
    fs.renameSync(path.join(outbox, `.${name}`), path.join(outbox, name));
    names.push(name);
  }
  return names;
}

const files = (dir: string) =>
  fs.readdirSync(dir).filter((f) => f.startsWith('OUT') && !f.endsWith('.reason'));
const inbox = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('IN'))
    .sort();
const statusOf = (p: OutletProc) =>
  JSON.parse(fs.readFileSync(p.statusFile, 'utf8')) as {
    state: string;
    sent: number;
    outlet: {
      state: string;
      resentUnanswered: number;
      temporaryErrors: number;
      window: number;
      inFlight: number;
    };
  };

async function sentAll(p: OutletProc, n: number, ms = 20_000): Promise<void> {
  await waitFor(() => files(p.spool.sent).length >= n, ms, `${n} files in sent/\n${p.output()}`);
}

async function stack(
  upstream = '',
  smscArgs: string[] = [],
  smsd = '',
): Promise<{ smsc: Smsc; p: OutletProc }> {
  const smsc = await startSmsc(['--password', 'secret', ...smscArgs]);
  const spool = writeOutletConfig(smsc.port, upstream, smsd);
  return { smsc, p: startOutlet(spool) };
}

describe('Connection = smpp against an independent SMSC', () => {
  it('transceiver: GSM, long (UDH), UCS-2 and alphanumeric/international addressing; receipts (hex resp, decimal receipt) become report files; SIGTERM unbinds', async () => {
    const { smsc, p } = await stack('SourceAddress = Shop\n', ['--receipts', '--id-style', 'hex']);
    queue(p.spool.outbox, 1, () => 'Hello {world} €5');
    queue(p.spool.outbox, 1, () => 'x'.repeat(200), '+4912346');
    queue(p.spool.outbox, 1, () => 'Привет мир', '+4912347');
    await sentAll(p, 3);
    const subs = await smsc.submits();
    expect(subs).toHaveLength(4);
    const gsm = subs.find((s) => s.dst === '4912345');
    expect(gsm).toMatchObject({ data_coding: 0, text: 'Hello {world} €5', dst_ton: 1, dst_npi: 1 });
    expect(gsm).toMatchObject({ src: 'Shop', src_ton: 5, src_npi: 0, registered_delivery: 1, esm_class: 0 });
    const long = subs.filter((s) => s.dst === '4912346');
    expect(long).toHaveLength(2);
    for (const s of long) {
      expect(s.esm_class & 0x40).toBe(0x40);
      expect(s.udh).toMatch(/^050003..02/);
    }
    expect(long.map((s) => s.text).join('')).toBe('x'.repeat(200));
    expect(subs.find((s) => s.dst === '4912347')).toMatchObject({ data_coding: 8, text: 'Привет мир' });
    // Every part gets a DELIVRD receipt with the id in decimal; each lands in its report file.
    await waitFor(
      () => fs.readdirSync(p.reportsDir).filter((f) => f.endsWith('.json')).length >= 4,
      10_000,
      `report files\n${p.output()}`,
    );
    for (const f of fs.readdirSync(p.reportsDir).filter((x) => x.endsWith('.json'))) {
      const r = JSON.parse(fs.readFileSync(path.join(p.reportsDir, f), 'utf8')) as { category: string };
      expect(r.category).toBe('delivered');
    }
    expect(fs.readdirSync(path.join(p.reportsDir, 'unmatched'))).toHaveLength(0);
    expect(statusOf(p).outlet.state).toBe('bound');
    expect(await p.stop()).toBe(0);
    expect((await smsc.stats()).unbinds).toBe(1);
  });

  it.each([
    ['same', 'same'],
    ['dec', 'auto'],
    ['hexpad', 'auto'],
    ['hexpad', 'hex'],
    ['tlv', 'auto'],
  ])('receipt id style %s with MessageIdFormat = %s matches', async (style, format) => {
    const { smsc, p } = await stack(`MessageIdFormat = ${format}\n`, ['--receipts', '--id-style', style]);
    queue(p.spool.outbox, 3, (i) => `receipt ${i}`);
    await sentAll(p, 3);
    await waitFor(
      () => fs.readdirSync(p.reportsDir).filter((f) => f.endsWith('.json')).length >= 3,
      10_000,
      `report files\n${p.output()}`,
    );
    expect(fs.readdirSync(path.join(p.reportsDir, 'unmatched'))).toHaveLength(0);
    await waitFor(async () => (await smsc.stats()).receipts_acked === 3, 5000, 'receipts answered');
    await p.stop();
  });

  it('transmitter and receiver binds, and a pair (TX + RX): sends on TX, MO and receipts on RX', async () => {
    const tx = await stack('BindMode = transmitter\n');
    queue(tx.p.spool.outbox, 2, (i) => `tx ${i}`);
    await sentAll(tx.p, 2);
    expect((await tx.smsc.stats()).bound.map((b) => b.mode)).toEqual(['tx']);
    await tx.p.stop();

    const rx = await stack('BindMode = receiver\n');
    await waitFor(async () => (await rx.smsc.stats()).bound.length === 1, 10_000, 'rx bind');
    queue(rx.p.spool.outbox, 1, () => 'stays queued');
    expect(
      await rx.smsc.control({ cmd: 'mo', from: '+4977001', to: '1234', coding: 'gsm', text: 'to rx' }),
    ).toEqual({
      status: 0,
    });
    await waitFor(() => inbox(rx.p.spool.inbox).length === 1, 5000, 'MO in inbox');
    await new Promise((r) => setTimeout(r, 1500));
    expect(files(rx.p.spool.outbox)).toHaveLength(1); // a receiver never sends
    expect((await rx.smsc.stats()).bound.map((b) => b.mode)).toEqual(['rx']);
    await rx.p.stop();

    const pair = await stack('BindMode = pair\n', ['--receipts']);
    queue(pair.p.spool.outbox, 2, (i) => `pair ${i}`);
    await sentAll(pair.p, 2);
    await waitFor(
      () => fs.readdirSync(pair.p.reportsDir).filter((f) => f.endsWith('.json')).length >= 2,
      10_000,
      'receipts over RX',
    );
    const st = await pair.smsc.stats();
    expect(st.bound.map((b) => b.mode).sort()).toEqual(['rx', 'tx']);
    expect((await pair.smsc.submits()).every((s) => s.mode === 'tx')).toBe(true);
    await pair.p.stop();
  });

  it('keeps Window submits in flight and no more', async () => {
    const { smsc, p } = await stack('Window = 5\n', ['--resp-delay', '150']);
    queue(p.spool.outbox, 30, (i) => `w ${i}`);
    await sentAll(p, 30);
    const st = await smsc.stats();
    expect(st.max_outstanding).toBe(5);
    // EnquireLinkInterval = 1 in these tests: the link is kept alive while idle.
    await waitFor(async () => (await smsc.stats()).enquire_links >= 2, 5000, 'enquire_link');
    expect(st.unique).toBe(30);
    expect(st.duplicates).toBe(0);
    await p.stop();
  });

  it('throttling answers pause and retry without failing the message; a permanent error ends in error/ with its name', async () => {
    const { smsc, p } = await stack('ThrottleDelay = 0.2\n', [], 'MaxRetries = 0\n');
    await smsc.control({ cmd: 'throttle', count: 4, status: 0x58 });
    queue(p.spool.outbox, 5, (i) => `t ${i}`);
    await sentAll(p, 5);
    expect(files(p.spool.error)).toHaveLength(0);
    expect(p.output()).toContain('ESME_RTHROTTLED');
    await waitFor(() => statusOf(p).outlet.temporaryErrors >= 4, 3000, 'temporary errors in the status file');
    await smsc.control({ cmd: 'throttle', count: 3, status: 0x14 });
    queue(p.spool.outbox, 1, () => 'queue full', '+4900001');
    await sentAll(p, 6);
    await smsc.control({ cmd: 'reject', count: 1, status: 0x0b });
    queue(p.spool.outbox, 1, () => 'bad number', '+4900002');
    await waitFor(() => files(p.spool.error).length === 1, 10_000, `error/\n${p.output()}`);
    const reason = fs.readFileSync(path.join(p.spool.error, `${files(p.spool.error)[0]}.reason`), 'utf8');
    expect(reason).toContain('ESME_RINVDSTADR');
    expect((await smsc.stats()).unique).toBe(6);
    await p.stop();
  });

  it('MO: GSM, UCS-2, binary, concatenated by UDH and by SAR, and data_sm, into the inbox', async () => {
    const { smsc, p } = await stack();
    await waitFor(async () => (await smsc.stats()).bound.length === 1, 10_000, 'bind');
    const mo = (m: Record<string, unknown>) =>
      smsc.control({ cmd: 'mo', from: '+4977001', to: '1234', ...m });
    expect(await mo({ coding: 'gsm', text: 'Hi {there} @home' })).toEqual({ status: 0 });
    expect(await mo({ coding: 'ucs2', text: 'Добрый день 😀' })).toEqual({ status: 0 });
    expect(await mo({ coding: 'binary', hex: '0001fffe' })).toEqual({ status: 0 });
    expect(await mo({ coding: 'gsm', text: 'second half', udh: '0500037b0202' })).toEqual({ status: 0 });
    expect(await mo({ coding: 'gsm', text: 'first half, ', udh: '0500037b0201' })).toEqual({ status: 0 });
    expect(await mo({ coding: 'ucs2', text: 'САР один ', sar: [300, 2, 1] })).toEqual({ status: 0 });
    expect(await mo({ coding: 'ucs2', text: 'два', sar: [300, 2, 2] })).toEqual({ status: 0 });
    expect(await mo({ coding: 'gsm', text: 'via data_sm', data_sm: true })).toEqual({ status: 0 });
    await waitFor(() => inbox(p.spool.inbox).length >= 8, 5000, `inbox\n${p.output()}`);
    const read = inbox(p.spool.inbox).map((f) => fs.readFileSync(path.join(p.spool.inbox, f)));
    const texts = read.map((b) => b.toString('utf8'));
    expect(texts).toContain('Hi {there} @home');
    expect(texts).toContain('Добрый день 😀');
    expect(texts).toContain('first half, ');
    expect(texts).toContain('second half');
    expect(texts).toContain('САР один ');
    expect(texts).toContain('два');
    expect(texts).toContain('via data_sm');
    expect(read.some((b) => b.equals(Buffer.from('0001fffe', 'hex')))).toBe(true);
    // The two halves share one serial (one message in two part files), in order.
    const halves = inbox(p.spool.inbox).filter(
      (f, i) => texts[i] === 'first half, ' || texts[i] === 'second half',
    );
    expect(halves[0]?.replace(/_\d+\.txt$/, '')).toBe(halves[1]?.replace(/_\d+\.txt$/, ''));
    expect((await smsc.stats()).mo_acked).toBe(8);
    await p.stop();
  });

  it('a connection cut mid-window loses nothing and resends at most the unanswered parts (counted)', async () => {
    const { smsc, p } = await stack('Window = 10\n', ['--resp-delay', '100']);
    await waitFor(async () => (await smsc.stats()).bound.length === 1, 10_000, 'bind');
    await smsc.control({ cmd: 'cut_after', count: 25 });
    queue(p.spool.outbox, 60, (i) => `cut ${i}`);
    await sentAll(p, 60, 30_000);
    const st = await smsc.stats();
    expect(st.cuts).toBe(1);
    expect(st.unique).toBe(60);
    expect(st.duplicates).toBeLessThanOrEqual(10);
    await waitFor(() => statusOf(p).outlet.resentUnanswered > 0, 3000, 'status file');
    const resent = statusOf(p).outlet.resentUnanswered;
    expect(resent).toBeGreaterThanOrEqual(st.duplicates);
    expect(resent).toBeLessThanOrEqual(10);
    expect(p.output()).toMatch(/link to .* lost/);
    await p.stop();
  });

  it('kill -9 mid-backlog, restart: every message sent, none lost; resends bounded by the window; claims recovered', async () => {
    const { smsc, p } = await stack('Window = 10\n', ['--resp-delay', '5']);
    queue(p.spool.outbox, 400, (i) => `k9 ${i}`);
    await waitFor(() => files(p.spool.sent).length >= 100, 20_000, `100 sent\n${p.output()}`);
    p.child.kill('SIGKILL');
    await new Promise((r) => p.child.once('exit', r));
    const claimed = path.join(p.spool.outbox, '.smsgate-state');
    const p2 = startOutlet(p.spool);
    await sentAll(p2, 400, 40_000);
    expect(files(p.spool.outbox)).toHaveLength(0);
    expect(files(p.spool.error)).toHaveLength(0);
    const st = await smsc.stats();
    expect(st.unique).toBe(400);
    // At most what was in flight or accepted-but-not-yet-recorded when the process died.
    expect(st.duplicates).toBeLessThanOrEqual(20);
    expect(
      fs
        .readdirSync(claimed)
        .filter((d) => d.startsWith('claimed-') && fs.readdirSync(path.join(claimed, d)).length > 0),
    ).toEqual([]);
    expect(await p2.stop()).toBe(0);
  });

  it('an outlet and a modem daemon drain one outbox: each message sent exactly once', async () => {
    const rig = await startRig({ config: FAST_TIMERS + 'PhoneID = modem1\n' });
    try {
      const smsc = await startSmsc(['--password', 'secret', '--resp-delay', '2']);
      const smsdLines = fs.readFileSync(rig.spool.config, 'utf8').split('[smsd]')[1] ?? '';
      const paths = smsdLines
        .split('\n')
        .filter((l) => /^(service|inboxpath|outboxpath|sentsmspath|errorsmspath) =/i.test(l))
        .join('\n');
      const config = path.join(rig.spool.dir, 'smsdrc-outlet');
      fs.writeFileSync(config, outletConfig(smsc.port, 'Window = 5\n').replace('__SPOOL__', paths));
      queue(rig.spool.outbox, 300, (i) => `shared ${i}`);
      const p = startOutlet({ ...rig.spool, config, cleanup: () => undefined });
      await waitFor(() => files(rig.spool.sent).length === 300, 60_000, `300 sent\n${p.output()}`);
      const viaModem = rig.emulator.modem.sent.map((m) => m.text);
      const viaSmsc = (await smsc.submits()).map((m) => m.text);
      expect(viaModem.length + viaSmsc.length).toBe(300);
      expect(new Set([...viaModem, ...viaSmsc]).size).toBe(300);
      expect(viaSmsc.length).toBeGreaterThan(0);
      expect(files(rig.spool.error)).toHaveLength(0);
      await p.stop();
    } finally {
      await rig.close();
    }
  });

  it('a wrong password: one clear error, back-off, no storm; binds once the SMSC accepts', async () => {
    const smsc = await startSmsc(['--password', 'right']);
    const spool = writeOutletConfig(smsc.port, 'ReconnectMaxDelay = 4\n');
    const p = startOutlet(spool);
    queue(spool.outbox, 1, () => 'waits');
    await new Promise((r) => setTimeout(r, 6000));
    const st = await smsc.stats();
    expect(st.bind_attempts).toBeGreaterThanOrEqual(2);
    expect(st.bind_attempts).toBeLessThanOrEqual(4);
    const errors = p
      .output()
      .split('\n')
      .filter((l) => l.includes('ESME_RINVPASWD'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /ERROR .*bind refused by the SMSC: ESME_RINVPASWD \(check SystemId and Password/,
    );
    expect(p.output()).not.toContain('secret');
    expect(files(spool.outbox)).toHaveLength(1);
    expect(statusOf(p).state).toBe('error');
    await smsc.control({ cmd: 'set', password: 'secret' });
    await sentAll(p, 1, 15_000);
    expect(p.output()).toContain('restored');
    await p.stop();
  });

  it('smsd monitor shows the bind state, the window and the counters', async () => {
    const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
    if (tmux('-V').status !== 0 && !process.env.CI) return;
    const { p } = await stack('Window = 7\n');
    queue(p.spool.outbox, 3, (i) => `mon ${i}`);
    await sentAll(p, 3);
    const session = `smsgate-outlet-mon-${process.pid}`;
    try {
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '150',
        '-y',
        '30',
        `${process.execPath} ${SMSD_BIN} monitor -c ${p.spool.config}`,
      );
      const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
      await waitFor(
        () => /up1\s+connected\s+smpp bound window 0\/7 .*sent 3 received 0 failed 0/.test(screen()),
        10_000,
        `monitor:\n${screen()}`,
      );
      expect(screen()).toMatch(/accepted 3 temporary 0 permanent 0 resent 0/);
    } finally {
      tmux('kill-session', '-t', session);
    }
    await p.stop();
  });

  it('smpps: binds over TLS, checking the certificate against TlsCa', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-outlet-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    const gen = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=smsc.test',
        '-addext',
        'subjectAltName=DNS:smsc.test',
      ],
      { encoding: 'utf8' },
    );
    expect(gen.status).toBe(0);
    const smsc = await startSmsc(['--password', 'secret', '--tls-cert', cert, '--tls-key', key]);
    const spool = writeOutletConfig(smsc.port, `TlsCa = ${cert}\nTlsServerName = smsc.test\n`);
    fs.writeFileSync(
      spool.config,
      fs.readFileSync(spool.config, 'utf8').replace('connection = smpp', 'connection = smpps'),
    );
    const p = startOutlet(spool);
    queue(spool.outbox, 2, (i) => `tls ${i}`);
    await sentAll(p, 2);
    expect((await smsc.submits()).map((x) => x.text).sort()).toEqual(['tls 0', 'tls 1']);
    await p.stop();
    // A name the certificate does not carry: refused, logged once, nothing sent.
    const spool2 = writeOutletConfig(smsc.port, `TlsCa = ${cert}\nTlsServerName = other.test\n`);
    fs.writeFileSync(
      spool2.config,
      fs.readFileSync(spool2.config, 'utf8').replace('connection = smpp', 'connection = smpps'),
    );
    const p2 = startOutlet(spool2);
    queue(spool2.outbox, 1, () => 'never');
    await waitFor(
      () => /cannot connect to the SMSC.*other\.test/i.test(p2.output()),
      10_000,
      `TLS refusal\n${p2.output()}`,
    );
    expect(files(spool2.outbox)).toHaveLength(1);
    await p2.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bad [upstream] values stop start-up with one line: file:line, key, value, allowed values; exit 2', () => {
    const spool = writeOutletConfig(2775, 'BindMode = sideways\n');
    const r = runSmsd(['run', '-c', spool.config]);
    expect(r.status).toBe(2);
    const line = r.stdout.split('\n').find((l) => l.includes('BindMode'));
    expect(line).toMatch(
      /smsdrc:\d+: BindMode = "sideways" is not valid; use transceiver, transmitter, receiver or pair/,
    );
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    spool.cleanup();
    const s2 = writeOutletConfig(2775, 'Window = 0\n');
    const r2 = runSmsd(['run', '-c', s2.config]);
    expect(r2.status).toBe(2);
    expect(r2.stdout).toMatch(/Window = "0" is not valid; use a whole number, 1 or more/);
    s2.cleanup();
  });
});

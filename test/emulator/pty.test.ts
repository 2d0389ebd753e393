import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulatorControl, type EmulatorServer, startEmulator } from '../../src/lib/emulator/index.js';
import { decodeDeliver, encodeSubmit } from '../../src/lib/sms/index.js';
import { sleep } from './harness.js';

let dir: string;
const servers: EmulatorServer[] = [];
const ports: SerialPort[] = [];
const clients: Array<{ close(): void }> = [];
const sockets: Socket[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'smsgate-emu-'));
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of ports.splice(0)) if (p.isOpen) await new Promise((r) => p.close(r));
  for (const s of servers.splice(0)) {
    const pid = s.pty?.socatPid;
    await s.close();
    if (pid !== undefined) expect(alive(pid)).toBe(false);
  }
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function start(opts: Parameters<typeof startEmulator>[0]): Promise<EmulatorServer> {
  const s = await startEmulator({ modem: { seed: 1 }, ...opts });
  servers.push(s);
  return s;
}

async function control(path: string): Promise<EmulatorControl> {
  const c = await EmulatorControl.connect(path);
  clients.push(c);
  return c;
}

/** A host on a real serial device: serialport on the pty. */
class Port {
  buf = '';
  constructor(readonly port: SerialPort) {
    port.on('data', (d: Buffer) => (this.buf += d.toString('latin1')));
  }

  static async open(path: string): Promise<Port> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    ports.push(port);
    port.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    return new Port(port);
  }

  cmd(line: string): Promise<string> {
    return this.raw(`${line}\r`);
  }

  /** Writes bytes and waits for a final result code (or the prompt). */
  async raw(
    data: string,
    until: RegExp = /\r\n(OK|ERROR|\+CM[ES] ERROR: [^\r]*)\r\n$|\r\n> $/,
  ): Promise<string> {
    const mark = this.buf.length;
    const line = JSON.stringify(data);
    this.port.write(Buffer.from(data, 'latin1'));
    const deadline = Date.now() + 10_000;
    while (!until.test(this.buf.slice(mark))) {
      if (Date.now() > deadline)
        throw new Error(`no answer to ${line}: ${JSON.stringify(this.buf.slice(mark))}`);
      await sleep(5);
    }
    return this.buf.slice(mark);
  }
}

async function waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(10);
  }
}

describe('pseudo-terminal', () => {
  it('serves the modem on a real tty that serialport opens, session after session', async () => {
    const device = join(dir, 'modem');
    const server = await start({ device });
    expect(server.controlPath).toBe(`${device}.ctl`);
    expect(existsSync(device)).toBe(true);
    const port = await Port.open(device);
    expect(await port.cmd('AT')).toBe('AT\r\r\nOK\r\n');
    expect(await port.cmd('AT+CGSN')).toBe('AT+CGSN\r\r\n356938035643809\r\n\r\nOK\r\n');

    const ctl = await control(`${device}.ctl`);
    expect(await ctl.deliver({ from: '+4915112345678', text: 'via control' })).toMatchObject({ parts: 1 });
    const list = await port.cmd('AT+CMGL=4');
    const pdu = list.split('\r\n').find((l) => /^[0-9A-F]{20,}$/.test(l));
    expect(decodeDeliver(pdu ?? '').text).toBe('via control');

    await new Promise((r) => port.port.close(r));
    const again = await Port.open(device);
    expect(await again.cmd('ATE0')).toBe('ATE0\r\r\nOK\r\n');
    expect(await again.cmd('AT')).toBe('\r\nOK\r\n');
    const status = await ctl.status();
    expect(status).toMatchObject({ device, present: true, control: `${device}.ctl`, sim: 'READY' });
    expect(status.pts).toMatch(/^\/dev\/pts\/\d+$/);

    await server.close();
    expect(existsSync(device)).toBe(false);
  });

  it('vanishes: the path disappears, an open port is cut off, the device returns at the same path', async () => {
    const device = join(dir, 'modem');
    const server = await start({ device });
    const port = await Port.open(device);
    await port.cmd('ATE0');
    let closed = false;
    port.port.on('close', () => (closed = true));
    const ctl = await control(`${device}.ctl`);
    // Long enough that the device is still away for the two checks below on a loaded machine.
    await ctl.vanish(2_000);
    expect(existsSync(device)).toBe(false);
    expect((await ctl.status()).present).toBe(false);
    await waitFor(() => closed, 15_000);
    await server.pty?.waitPresent(15_000);
    expect(existsSync(device)).toBe(true);
    const back = await Port.open(device);
    // Power-cycled: echo is on again.
    expect(await back.cmd('AT')).toBe('AT\r\r\nOK\r\n');
  });

  it('drops off the bus after AT+CFUN=1,1 when resetVanishMs is set', async () => {
    const device = join(dir, 'modem');
    const server = await start({ device, modem: { faults: { resetVanishMs: 200 } } });
    const port = await Port.open(device);
    let cut = false;
    port.port.on('close', () => (cut = true));
    // The path is gone for only 200 ms: polling for it can miss that window on a loaded machine,
    // so the path is checked when the pty reports it gone (socat exited, its return not yet
    // scheduled), and the host's port must be cut off.
    let gone: boolean | undefined;
    server.pty?.once('gone', () => (gone = !existsSync(device)));
    expect(await port.cmd('AT+CFUN=1,1')).toBe('AT+CFUN=1,1\r\r\nOK\r\n');
    await waitFor(() => gone !== undefined && cut, 15_000);
    expect(gone).toBe(true); // the path was absent
    await server.pty?.waitPresent(15_000);
    const back = await Port.open(device);
    expect(await back.cmd('AT')).toBe('AT\r\r\nOK\r\n');
  });

  it('refuses to replace a regular file at the device path', async () => {
    const device = join(dir, 'modem');
    writeFileSync(device, 'precious');
    await expect(startEmulator({ device })).rejects.toThrow(/not a symlink/);
    expect(readFileSync(device, 'utf8')).toBe('precious');
  });

  it('delivers --incoming at start and writes every SUBMIT to --sent-log', async () => {
    const device = join(dir, 'modem');
    const incoming = join(dir, 'incoming.jsonl');
    const sentLog = join(dir, 'sent.jsonl');
    writeFileSync(
      incoming,
      [
        '# preloaded messages',
        JSON.stringify({ from: '+491111', text: 'first' }),
        '',
        JSON.stringify(
          '0791947101670000000D91945101000000F10000621142818384001249B7BA3CA697C9A076793E0F9FCBA018',
        ),
      ].join('\n'),
    );
    await start({ device, incoming, sentLog });
    const ctl = await control(`${device}.ctl`);
    expect((await ctl.messages()).map((m) => decodeDeliver(m.pdu).originator.number)).toEqual([
      '+491111',
      '+4915100000001',
    ]);
    const port = await Port.open(device);
    await port.cmd('ATE0');
    const pdu = encodeSubmit({ number: '+123456', text: 'logged', coding: 'gsm7', statusReport: true });
    expect(await port.cmd(`AT+CMGS=${pdu.tpduLength}`)).toBe('\r\n> ');
    expect(await port.raw(`${pdu.hex}\x1a`)).toBe('\r\n+CMGS: 1\r\n\r\nOK\r\n');
    const log = readFileSync(sentLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      mr: 1,
      number: '+123456',
      text: 'logged',
      coding: 'gsm7',
      class: -1,
      udh: null,
      srr: true,
    });
    expect((await ctl.sent()).messages).toEqual([
      { number: '+123456', text: 'logged', coding: 'gsm7', mrs: [1], parts: 1, complete: true },
    ]);
  });
});

describe('TCP', () => {
  it('serves one session at a time on 127.0.0.1 and drops it on vanish', async () => {
    const ctlPath = join(dir, 'tcp.ctl');
    const server = await start({ tcpPort: 0, control: ctlPath });
    const port = server.tcpPort as number;
    const s1 = connect(port, '127.0.0.1');
    sockets.push(s1);
    let buf = '';
    s1.on('data', (d: Buffer) => (buf += d.toString('latin1')));
    await new Promise((r) => s1.once('connect', r));
    s1.write('AT+CGMI\r');
    await waitFor(() => buf.endsWith('OK\r\n'));
    expect(buf).toBe('AT+CGMI\r\r\nsmsgate\r\n\r\nOK\r\n');
    const s2 = connect(port, '127.0.0.1');
    sockets.push(s2);
    await new Promise((r) => s2.once('close', r));
    const ctl = await control(ctlPath);
    expect((await ctl.status()).tcp).toBe(port);
    let s1closed = false;
    s1.on('close', () => (s1closed = true));
    await ctl.vanish(200);
    await waitFor(() => s1closed);
    // Refused until the port is served again (200 ms, later on a loaded machine): try until then.
    let s3: Socket | undefined;
    const deadline = Date.now() + 15_000;
    while (!s3) {
      const s = connect(port, '127.0.0.1');
      sockets.push(s);
      const ok = await new Promise<boolean>((r) => {
        s.once('connect', () => r(true));
        s.once('error', () => r(false));
      });
      if (ok) s3 = s;
      else if (Date.now() > deadline) throw new Error(`port ${port} not served again within 15 s`);
      else await sleep(50);
    }
    let buf3 = '';
    s3.on('data', (d: Buffer) => (buf3 += d.toString('latin1')));
    s3.write('AT\r');
    await waitFor(() => buf3.endsWith('OK\r\n'));
  });
});

describe('control socket', () => {
  it('answers every request with one JSON line, errors included', async () => {
    const ctlPath = join(dir, 'c.ctl');
    await start({ tcpPort: 0, control: ctlPath });
    const ctl = await control(ctlPath);
    expect(await ctl.request({ cmd: 'nope' } as never)).toEqual({ ok: false, error: 'unknown cmd "nope"' });
    expect(await ctl.request({ cmd: 'status', extra: 1 } as never)).toEqual({
      ok: false,
      error: 'unknown field "extra" for status',
    });
    expect(await ctl.request({ cmd: 'deliver', from: '+49' } as never)).toMatchObject({ ok: true, parts: 1 });
    expect(await ctl.request({ cmd: 'deliver', pdu: 'XYZ' })).toMatchObject({ ok: false });
    expect(await ctl.request({ cmd: 'fault', latencyMs: -1 })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/latencyMs/),
    });
    expect(await ctl.fault({ latencyMs: 5, garbage: false })).toMatchObject({ latencyMs: 5, garbage: 0 });
    expect(await ctl.set({ imei: '111111111111111', reportDelayMs: 10 })).toMatchObject({
      imei: '111111111111111',
    });
    expect(await ctl.request({ cmd: 'set', rssi: 'high' } as never)).toMatchObject({ ok: false });
    expect(await ctl.messages('SM')).toHaveLength(1);
    expect(await ctl.request({ cmd: 'clear' })).toEqual({ ok: true });
    expect(await ctl.messages()).toHaveLength(0);
    expect(await ctl.request({ cmd: 'reset' })).toEqual({ ok: true });
    // Raw socket: invalid JSON and pipelined requests.
    const raw = connect(ctlPath);
    sockets.push(raw);
    let buf = '';
    raw.on('data', (d: Buffer) => (buf += d.toString()));
    raw.write('{oops\n{"cmd":"status"}\n');
    await waitFor(() => buf.split('\n').length >= 3);
    const [a, b] = buf
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ok: boolean; error?: string });
    expect(a).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid JSON/) });
    expect(b?.ok).toBe(true);
  });

  it('refuses a control path another emulator listens on, and reuses a stale one', async () => {
    const ctlPath = join(dir, 'c.ctl');
    const first = await start({ tcpPort: 0, control: ctlPath });
    await expect(startEmulator({ tcpPort: 0, control: ctlPath })).rejects.toThrow(/in use/);
    await first.close();
    // A socket file left behind by a SIGKILLed emulator is taken over.
    const stale = join(dir, 'stale.ctl');
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`,
    ]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(stale)).toBe(true);
    const s = await start({ tcpPort: 0, control: stale });
    expect((await EmulatorControl.once(stale, { cmd: 'status' })).ok).toBe(true);
    expect(s.controlPath).toBe(stale);
  });
});

/**
 * End to end over a real pseudo-terminal pair (socat): SerialTransport + AtChannel + Phone on one
 * end, a scripted responder (FakeModem's parser) on the other. Then socat is killed: the tty
 * vanishes under a pending command, which must fail with DeviceGoneError. Skipped without socat.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceGoneError, TransportOpenError } from '../../src/lib/at/errors.js';
import { Phone } from '../../src/lib/at/phone.js';
import { SerialTransport, createTransport, openTransport } from '../../src/lib/at/transport.js';
import { ERROR, FakeModem, OK, info } from './fake-modem.js';

const hasSocat = spawnSync('which', ['socat']).status === 0;
const SUBMIT = '0791947101670000110006912143650000FF04E8342806';

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for socat');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!hasSocat)('AT over a socat PTY pair', () => {
  let dir = '';
  let hostPath = '';
  let modemPath = '';
  let socat: ChildProcess | undefined;
  let modemEnd: SerialTransport | undefined;
  let hang = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smsgate-at-'));
    hostPath = join(dir, 'host');
    modemPath = join(dir, 'modem');
    socat = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${modemPath}`],
      { stdio: 'ignore' },
    );
    await waitFor(() => existsSync(hostPath) && existsSync(modemPath), 5_000);

    // The responder: bytes from the PTY go through FakeModem's command parser, answers go back.
    const fake = new FakeModem((cmd) => {
      if (hang) return null;
      switch (cmd) {
        case 'AT':
        case 'ATE0':
        case 'AT+CMEE=1':
        case 'AT+CMGF=0':
          return OK;
        case 'AT+CGMI':
          return info('FakeModem Inc.');
        case 'AT+CGMM':
          return info('FAKE-1');
        case 'AT+CGMR':
          return info('1.0.0');
        case 'AT+CGSN':
          return info('356938035643809');
        case 'AT+CIMI':
          return info('001010123456789');
        case 'AT+CMGS=15':
          return '\r\n> ';
        case `PDU:${SUBMIT}`:
          return '\r\n+CMTI: "SM",4\r\n' + info('+CMGS: 42');
        default:
          return ERROR;
      }
    });
    fake.echo = true;
    modemEnd = new SerialTransport({ path: modemPath });
    await modemEnd.open();
    const end = modemEnd;
    end.on('data', (chunk) => void fake.write(chunk));
    fake.on('data', (chunk) => void end.write(chunk).catch(() => undefined));
    end.on('error', () => undefined);
  });

  afterAll(async () => {
    await modemEnd?.close().catch(() => undefined);
    if (socat && socat.exitCode === null) socat.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('talks to the responder, then sees the tty vanish', async () => {
    const phone = await Phone.open(hostPath, 'at115200', {
      channel: { defaultTimeoutMs: 2_000, resyncQuietMs: 20, resyncProbeTimeoutMs: 300 },
    });
    const urcs: string[] = [];
    phone.channel.on('urc', (u) => urcs.push(u.type));
    await phone.init();
    expect(await phone.identify()).toEqual({
      manufacturer: 'FakeModem Inc.',
      model: 'FAKE-1',
      revision: '1.0.0',
      imei: '356938035643809',
      imsi: '001010123456789',
    });
    expect(await phone.sendMessage(SUBMIT, 15)).toEqual({ mr: 42 });
    expect(urcs).toEqual(['cmti']);

    // The port vanishes while a command waits for its answer.
    hang = true;
    const closed = new Promise<unknown>((resolve) => phone.channel.once('close', resolve));
    const pending = phone.signal().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    socat?.kill('SIGTERM');
    const err = await pending;
    expect(err).toBeInstanceOf(DeviceGoneError);
    expect((err as DeviceGoneError).osCode).toMatch(/^E[A-Z]+$/);
    expect(await closed).toBeInstanceOf(DeviceGoneError);
    await expect(phone.signal()).rejects.toBeInstanceOf(DeviceGoneError);
    await phone.close();
  });

  it('reports a missing device clearly', async () => {
    const err = await openTransport(join(dir, 'nope'), 'at').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportOpenError);
    expect(err).toMatchObject({ reason: 'missing' });
    expect((err as Error).message).toContain('does not exist');
  });
});

describe('transport selection', () => {
  it('picks TCP for host:port and serial otherwise', () => {
    expect(createTransport('/dev/ttyUSB0', 'at19200').description).toBe('/dev/ttyUSB0 @19200');
    expect(createTransport('/dev/ttyUSB0', 'at').description).toBe('/dev/ttyUSB0 @115200');
    expect(createTransport('modem.local:4001', 'at').description).toBe('tcp://modem.local:4001');
    expect(createTransport('[::1]:4001', 'at115200').description).toBe('tcp://[::1]:4001');
    expect(createTransport('COM1:', 'at').description).toBe('COM1: @115200');
    expect(() => createTransport('/dev/ttyUSB0', 'fbus')).toThrow(TransportOpenError);
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EmulatorControl,
  type EmulatorServer,
  type ModemEmulatorOptions,
  startEmulator,
} from '../../src/lib/emulator/index.js';

/**
 * Real gammu (Debian 1.42) against the emulator on a pseudo-terminal. Each gammu call spends ~3 s
 * in its own init pauses, so the cases run concurrently, each on its own emulator.
 */
const hasGammu = spawnSync('gammu', ['--version']).status === 0;
const dirs: string[] = [];
const servers: EmulatorServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function emulator(modem: ModemEmulatorOptions = {}): Promise<{ server: EmulatorServer; rc: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgate-gammu-'));
  dirs.push(dir);
  const device = join(dir, 'modem');
  const server = await startEmulator({ device, modem: { seed: 7, ...modem } });
  servers.push(server);
  const rc = join(dir, 'gammurc');
  writeFileSync(rc, `[gammu]\ndevice = ${device}\nconnection = at\n`);
  return { server, rc };
}

function gammu(rc: string, args: string[], input = ''): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('gammu', ['-c', rc, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gammu ${args.join(' ')} timed out: ${out}`));
    }, 25_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
    child.stdin.end(input);
  });
}

describe.skipIf(!hasGammu).concurrent('real gammu on the emulated modem', () => {
  it('identify prints the emulated identity', async () => {
    const { rc } = await emulator({
      manufacturer: 'Acme Wireless',
      model: 'AW-900',
      revision: 'R1.2.3',
      imei: '490154203237518',
    });
    const { code, out } = await gammu(rc, ['identify']);
    expect(code).toBe(0);
    expect(out).toMatch(/Manufacturer\s+: Acme Wireless/);
    expect(out).toMatch(/Model\s+: .*AW-900/);
    expect(out).toMatch(/Firmware\s+: R1\.2\.3/);
    expect(out).toMatch(/IMEI\s+: 490154203237518/);
    expect(out).toMatch(/SIM IMSI\s+: 001010123456789/);
  });

  it('getallsms shows a message delivered through the control socket', async () => {
    const { server, rc } = await emulator();
    const reply = await EmulatorControl.once(server.controlPath as string, {
      cmd: 'deliver',
      from: '+4915112345678',
      text: 'Hello from the emulated network',
    });
    expect(reply.ok).toBe(true);
    const { code, out } = await gammu(rc, ['getallsms']);
    expect(code).toBe(0);
    expect(out).toContain('Hello from the emulated network');
    expect(out).toMatch(/Remote number\s+: "\+4915112345678"/);
    expect(out).toContain('1 SMS parts in 1 SMS sequences');
  });

  it('sendsms reaches the emulator as a decoded SUBMIT', async () => {
    const { server, rc } = await emulator();
    const { code, out } = await gammu(rc, ['sendsms', 'TEXT', '+123456'], 'hi\n');
    expect(code).toBe(0);
    expect(out).toMatch(/OK, message reference=1/);
    expect(server.modem.sent).toHaveLength(1);
    expect(server.modem.sent[0]).toMatchObject({ mr: 1, number: '+123456', text: 'hi', coding: 'gsm7' });
  });

  it('sees the PIN request and unlocks the SIM', async () => {
    const { server, rc } = await emulator({ pin: '1234' });
    expect((await gammu(rc, ['getsecuritystatus'])).out).toContain('Waiting for PIN');
    expect((await gammu(rc, ['entersecuritycode', 'PIN', '1234'])).code).toBe(0);
    expect(server.modem.status().sim).toBe('READY');
  });
});

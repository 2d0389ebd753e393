import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, FAST_TIMERS, type Rig } from '../helpers/rig.js';
import { makeSpool, runSmsd, type TempSpool } from '../helpers/spool.js';
import { startEmulator, type EmulatorServer } from '../../src/lib/emulator/server.js';

describe('smsd monitor, the script-facing output', () => {
  let rig: Rig | undefined;
  let gammu: { spool: TempSpool; emulator: EmulatorServer; kill: () => void } | undefined;
  afterEach(async () => {
    await rig?.close();
    gammu?.kill();
    await gammu?.emulator.close();
    gammu?.spool.cleanup();
  });

  it('prints the same -n 1 -C fields, in the same order, as gammu-smsd-monitor for the same state', async () => {
    rig = await startRig({ config: FAST_TIMERS + 'PhoneID = mon1\n' });
    const r = rig;
    await waitFor(
      () =>
        fs.existsSync(path.join(r.statusDir, 'mon1.json')) &&
        JSON.parse(fs.readFileSync(path.join(r.statusDir, 'mon1.json'), 'utf8')).signalPercent >= 0,
      10_000,
      'status',
      r,
    );
    const ours = runSmsd(['monitor', '-c', r.spool.config, '-n', '1', '-C']);
    expect(ours.status, ours.stderr).toBe(0);
    const ourFields = ours.stdout.trim().split(';');
    expect(ourFields[0]).toMatch(/^smsgate .* on Linux, kernel /);

    if (spawnSync('gammu-smsd-monitor', ['-v']).error && !process.env.CI) return;
    const spool = makeSpool('PhoneID = mon1\n');
    const device = path.join(spool.dir, 'modem');
    fs.writeFileSync(
      spool.config,
      fs.readFileSync(spool.config, 'utf8').replace('device = /dev/null', `device = ${device}`),
    );
    const emulator = await startEmulator({ device, control: null });
    const d = spawn('gammu-smsd', ['-c', spool.config], { stdio: 'ignore' });
    gammu = { spool, emulator, kill: () => d.kill('SIGKILL') };
    const theirs = await waitFor(
      () => {
        const g = spawnSync('gammu-smsd-monitor', ['-c', spool.config, '-n', '1', '-d', '0', '-C'], {
          encoding: 'utf8',
        });
        const line = g.stdout.trim().split('\n').pop() ?? '';
        const f = line.split(';');
        // Wait until gammu-smsd has read the identity and the first battery/signal values.
        return g.status === 0 && f.length === 9 && f[2] !== '' && f[7] !== '0' && f[8] !== '0'
          ? line
          : undefined;
      },
      20_000,
      'gammu-smsd status',
    );
    expect(ourFields.slice(1)).toEqual(theirs.split(';').slice(1));
  }, 40_000);

  it('prints the plain block with Gammu field names, and fails with exit 3 without a daemon', async () => {
    rig = await startRig({ config: FAST_TIMERS + 'PhoneID = mon2\n' });
    const r = rig;
    const file = path.join(r.statusDir, 'mon2.json');
    await waitFor(
      () => fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).signalPercent >= 0,
      10_000,
      'status',
      r,
    );
    const plain = runSmsd(['monitor', '-c', r.spool.config, '-n', '1']);
    expect(plain.stdout).toMatch(
      /^Client: smsgate .*\nPhoneID: mon2\nIMEI: \d{15}\nIMSI: \d+\nSent: 0\nReceived: 0\nFailed: 0\nBatterPercent: \d+\nNetworkSignal: \d+\n\n$/,
    );
    await r.stopDaemon('SIGTERM');
    const none = runSmsd(['monitor', '-c', r.spool.config, '-n', '1']);
    expect(none.stderr).toMatch(/Failed to get status: smsd has stopped/);
    expect(none.status).toBe(3);
  });
});

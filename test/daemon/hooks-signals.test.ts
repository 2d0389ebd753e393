import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, FAST_TIMERS, readInbox, type Rig } from '../helpers/rig.js';
import { runSmsd, listFiles } from '../helpers/spool.js';

describe('smsd run hooks, status and signals', () => {
  let rig: Rig;
  afterEach(async () => rig?.close());

  it('runs RunOnReceive with the file names as arguments and the message in the environment, never through the shell', async () => {
    const log = path.join(fs.mkdtempSync('/tmp/smsgate-hook-'), 'hook.log');
    const script = path.join(path.dirname(log), 'hook.sh');
    fs.writeFileSync(
      script,
      `#!/bin/sh\n{ echo "ARGS=$*"; env | grep -E '^(SMS_|DECODED_|PHONE_ID)' | sort; } >> ${log}\n`,
      { mode: 0o755 },
    );
    const sent = path.join(path.dirname(log), 'sent.log');
    rig = await startRig({
      config:
        FAST_TIMERS +
        `PhoneID = hooktest\nRunOnReceive = ${script}\nRunOnSent = echo sent >> ${sent}; echo\n`,
    });
    const evil = 'hi $(touch /tmp/smsgate-pwned) `id` ; rm -rf /';
    rig.emulator.modem.deliver({ from: '+420123', text: evil });
    await waitFor(
      () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('DECODED_1_TEXT'),
      10_000,
      'hook ran',
      rig,
    );
    const out = fs.readFileSync(log, 'utf8');
    const [inboxFile] = readInbox(rig);
    expect(out).toContain(`ARGS=${inboxFile?.name}`);
    expect(out).toContain('PHONE_ID=hooktest');
    expect(out).toContain('SMS_MESSAGES=1');
    expect(out).toContain('SMS_1_NUMBER=+420123');
    expect(out).toContain(`SMS_1_TEXT=${evil}`);
    expect(out).toContain(`DECODED_1_TEXT=${evil}`);
    expect(out).toContain('SMS_1_CLASS=-1');
    expect(fs.existsSync('/tmp/smsgate-pwned')).toBe(false);
    expect(runSmsd(['inject', '-c', rig.spool.config, 'TEXT', '+420123', '-text', 'out']).status).toBe(0);
    await waitFor(() => fs.existsSync(sent), 10_000, 'RunOnSent ran', rig);
    expect(rig.output()).toMatch(/Process finished successfully/);
  });

  it('publishes its status for smsd monitor', async () => {
    rig = await startRig({
      config: FAST_TIMERS.replace('StatusFrequency = 0', 'StatusFrequency = 1') + 'PhoneID = statustest\n',
      modem: { rssi: 20, battery: 77, operatorName: 'EmuNet' },
    });
    const file = path.join(rig.statusDir, 'statustest.json');
    const status = await waitFor(
      () => {
        if (!fs.existsSync(file)) return undefined;
        const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
        return s.state === 'connected' && s.signalPercent === 60 ? s : undefined;
      },
      10_000,
      'status file',
      rig,
    );
    expect(status).toMatchObject({
      phoneId: 'statustest',
      batteryPercent: 77,
      operatorName: 'EmuNet',
      pid: rig.daemon?.pid,
    });
    expect(status.imei).toMatch(/^\d{15}$/);
  });

  it('USR1 suspends and releases the device, USR2 resumes; a PID file is written and removed', async () => {
    rig = await startRig({ startDaemon: false });
    const pidFile = path.join(rig.spool.dir, 'smsd.pid');
    rig.startDaemon(['--pid', pidFile]);
    await waitFor(() => rig.output().includes('connected to'), 10_000, 'connected', rig);
    expect(fs.readFileSync(pidFile, 'utf8').trim()).toBe(String(rig.daemon?.pid));
    rig.daemon?.kill('SIGUSR1');
    await waitFor(
      () => rig.output().includes('phone communication closed (suspended)'),
      5_000,
      'suspended',
      rig,
    );
    expect(
      runSmsd(['inject', '-c', rig.spool.config, 'TEXT', '+420123', '-text', 'queued while suspended'])
        .status,
    ).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(listFiles(rig.spool.sent)).toEqual([]);
    rig.daemon?.kill('SIGUSR2');
    await waitFor(() => listFiles(rig.spool.sent).length === 1, 10_000, 'sent after resume', rig);
    expect(await rig.stopDaemon('SIGTERM')).toBe(0);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('HUP re-reads the config without stopping', async () => {
    rig = await startRig();
    await waitFor(() => rig.output().includes('connected to'), 10_000, 'connected', rig);
    fs.appendFileSync(rig.spool.config, '\n[exclude_numbers]\nn = +420666\n');
    fs.writeFileSync(
      rig.spool.config,
      fs.readFileSync(rig.spool.config, 'utf8').replace('CommTimeout = 1', 'CommTimeout = 2'),
    );
    rig.daemon?.kill('SIGHUP');
    await waitFor(() => rig.output().includes('configuration reloaded'), 5_000, 'reloaded', rig);
    await waitFor(() => (rig.output().match(/connected to/g) ?? []).length >= 2, 10_000, 'reconnected', rig);
    expect(
      runSmsd(['inject', '-c', rig.spool.config, 'TEXT', '+420123', '-text', 'after reload']).status,
    ).toBe(0);
    await waitFor(() => listFiles(rig.spool.sent).length === 1, 10_000, 'sent after reload', rig);
    // The new [exclude_numbers] applies: that sender's message stays on the SIM.
    rig.emulator.modem.deliver({ from: '+420666', text: 'now excluded' });
    await waitFor(
      () => rig.output().includes('Message excluded because of sender: +420666'),
      10_000,
      'excluded after reload',
      rig,
    );
    expect(listFiles(rig.spool.inbox)).toEqual([]);
  });
});

describe('smsd run and the SIM PIN', () => {
  let rig: Rig;
  afterEach(async () => rig?.close());

  it('enters the configured PIN and works', async () => {
    rig = await startRig({ config: FAST_TIMERS + 'PIN = 4321\n', modem: { pin: '4321' } });
    expect(runSmsd(['inject', '-c', rig.spool.config, 'TEXT', '+420123', '-text', 'after PIN']).status).toBe(
      0,
    );
    await waitFor(() => listFiles(rig.spool.sent).length === 1, 10_000, 'sent', rig);
  });

  it('stops at a wrong PIN with a clear error and does not burn the other attempts', async () => {
    rig = await startRig({ config: FAST_TIMERS + 'PIN = 0000\n', modem: { pin: '4321' } });
    await waitFor(() => /phone communication failed: .*PIN/i.test(rig.output()), 10_000, 'PIN error', rig);
    await new Promise((r) => setTimeout(r, 3000));
    const status = rig.emulator.modem.status();
    expect(status.pinAttemptsLeft).toBe(2); // one wrong try, not a retry storm into PUK
    expect(status.sim).toBe('SIM PIN');
    expect((rig.output().match(/phone communication failed/g) ?? []).length).toBe(1); // logged once
  });
});

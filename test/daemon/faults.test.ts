import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, FAST_TIMERS, type Rig } from '../helpers/rig.js';
import { runSmsd, listFiles } from '../helpers/spool.js';
import { joinSent } from '../../src/lib/emulator/records.js';

describe('smsd run survives modem faults', () => {
  const rigs: Rig[] = [];
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.close();
  });

  const inject = (rig: Rig, ...args: string[]) => {
    const r = runSmsd(['inject', '-c', rig.spool.config, ...args]);
    expect(r.status, r.stderr).toBe(0);
  };

  it('retries after +CMS ERROR: 500 and ends in error/ with the reason after MaxRetries', async () => {
    const rig = await startRig({ modem: { faults: { cmsErrorEvery: 1 } } });
    rigs.push(rig);
    inject(rig, 'TEXT', '+420500000001', '-text', 'doomed');
    await waitFor(() => listFiles(rig.spool.error).length === 2, 15_000, 'message in error/', rig);
    const [name] = listFiles(rig.spool.error).filter((n) => !n.endsWith('.reason'));
    expect(fs.readFileSync(path.join(rig.spool.error, `${name}.reason`), 'utf8')).toMatch(
      /\+CMS ERROR: 500.*\(after 2 attempts\)/,
    );
    expect(rig.emulator.modem.sendAttempts).toHaveLength(2); // MaxRetries = 1: two tries in all
    // The claim (`<file>.lock`) is released just after the move: nothing may stay behind.
    await waitFor(() => listFiles(rig.spool.outbox).length === 0, 5_000, 'outbox empty, claim released', rig);
  });

  it('detects a hung modem within SendTimeout, recovers, and sends the rest', async () => {
    const rig = await startRig({ config: FAST_TIMERS + 'SendTimeout = 2\n' });
    rigs.push(rig);
    await waitFor(() => rig.output().includes('connected to'), 10_000, 'connected', rig);
    rig.emulator.modem.setFault({ hang: true });
    const hungAt = Date.now();
    for (let i = 0; i < 3; i++) inject(rig, 'TEXT', `+42060000000${i}`, '-text', `after hang ${i}`);
    await waitFor(() => /modem problem, reconnecting/.test(rig.output()), 10_000, 'hang detected', rig);
    // SendTimeout for a send or a short command, twice that if the hang hits a SIM listing.
    expect(Date.now() - hungAt).toBeLessThan(2 * 2_000 + 1_500);
    rig.emulator.modem.setFault({ hang: false });
    await waitFor(() => listFiles(rig.spool.sent).length === 3, 20_000, 'all three sent after recovery', rig);
    expect(new Set(joinSent(rig.emulator.modem.sent).map((s) => s.text)).size).toBe(3);
  });

  it('ResetFrequency reconnects without rebooting; HardResetFrequency reboots with AT+CFUN=1,1', async () => {
    const soft = await startRig({ config: FAST_TIMERS + 'ResetFrequency = 1\n' });
    rigs.push(soft);
    const reboots: string[] = [];
    soft.emulator.modem.on('reset', (reason: string) => reboots.push(reason));
    await waitFor(
      () => (soft.output().match(/connected to/g) ?? []).length >= 2,
      10_000,
      'reconnected after a soft reset',
      soft,
    );
    expect(soft.output()).toMatch(/periodic soft reset of the phone \(ResetFrequency\)/);
    expect(reboots).toEqual([]);
    const hard = await startRig({ config: FAST_TIMERS + 'HardResetFrequency = 1\n' });
    rigs.push(hard);
    const hardReboots: string[] = [];
    hard.emulator.modem.on('reset', (reason: string) => hardReboots.push(reason));
    await waitFor(() => hardReboots.includes('cfun'), 10_000, 'AT+CFUN=1,1', hard);
    expect(hard.output()).toMatch(/periodic hard reset of the phone \(HardResetFrequency\): AT\+CFUN=1,1/);
    inject(hard, 'TEXT', '+420700000002', '-text', 'after a reboot');
    await waitFor(() => listFiles(hard.spool.sent).length === 1, 20_000, 'sent after the reboot', hard);
  });

  it('waits for a vanished device and goes on when it comes back', async () => {
    const rig = await startRig();
    rigs.push(rig);
    await waitFor(() => rig.output().includes('connected to'), 10_000, 'connected', rig);
    const back = rig.emulator.vanish(2_000);
    await new Promise((r) => setTimeout(r, 300));
    inject(rig, 'TEXT', '+420700000001', '-text', 'while the modem was gone');
    await back;
    await waitFor(
      () => listFiles(rig.spool.sent).length === 1,
      20_000,
      'sent after the device returned',
      rig,
    );
    expect(rig.output()).toMatch(/modem problem, reconnecting|phone communication failed/);
  });

  it('loses nothing when killed with SIGKILL in the middle of 200 sends (at most the one in flight twice)', async () => {
    const rig = await startRig({ modem: { faults: { latencyMs: 2 } } });
    rigs.push(rig);
    const batch = path.join(rig.spool.dir, 'b.csv');
    fs.writeFileSync(
      batch,
      Array.from({ length: 200 }, (_, i) => `+4208${String(i).padStart(8, '0')},kill test ${i}`).join('\n'),
    );
    const r = runSmsd(['inject', '-c', rig.spool.config, '--batch', batch]);
    expect(r.status, r.stderr).toBe(0);
    await waitFor(() => listFiles(rig.spool.sent).length >= 60, 30_000, 'some sent', rig);
    await rig.stopDaemon('SIGKILL');
    const sentBefore = rig.emulator.modem.sent.length;
    expect(sentBefore).toBeLessThan(200);
    rig.startDaemon();
    await waitFor(() => listFiles(rig.spool.sent).length === 200, 60_000, 'all 200 in sent/', rig);
    const texts = rig.emulator.modem.sent.map((s) => s.text);
    const distinct = new Set(texts);
    expect(distinct.size).toBe(200);
    expect(texts.length - distinct.size).toBeLessThanOrEqual(1);
    expect(listFiles(rig.spool.outbox).filter((n) => !n.endsWith('.lock'))).toEqual([]);
    // The claim the killed daemon held is swept once stale.
    await waitFor(() => listFiles(rig.spool.outbox).length === 0, 20_000, 'orphan claim swept', rig);
  }, 120_000);

  it('INT finishes the send in progress and exits 0', async () => {
    const rig = await startRig({ modem: { faults: { latencyMs: 20 } } });
    rigs.push(rig);
    await waitFor(() => rig.output().includes('connected to'), 10_000, 'connected', rig);
    inject(rig, 'TEXT', '+420900000001', '-text', 'x'.repeat(600), '-len', '600');
    await waitFor(() => rig.emulator.modem.sent.length >= 1, 10_000, 'first part sent', rig);
    expect(await rig.stopDaemon('SIGINT')).toBe(0);
    const files = [...listFiles(rig.spool.sent), ...listFiles(rig.spool.outbox)];
    expect(files).toHaveLength(1);
  });
});

describe('smsd run resumes a partly sent multipart message', () => {
  let rig: Rig | undefined;
  afterEach(async () => rig?.close());

  it('sends only the parts still unsent after a failure in the middle', async () => {
    rig = await startRig({
      config: FAST_TIMERS + 'MaxRetries = 3\n',
      modem: { faults: { cmsErrorEvery: 2 } },
    });
    const r = runSmsd([
      'inject',
      '-c',
      rig.spool.config,
      'TEXT',
      '+420111',
      '-text',
      'abcdefghij'.repeat(45),
      '-len',
      '450',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const current = rig;
    await waitFor(() => listFiles(current.spool.sent).length === 1, 15_000, 'sent after retries', current);
    const ok = current.emulator.modem.sent;
    // Three parts, each accepted exactly once although every second AT+CMGS failed.
    expect(ok.map((s) => s.concat?.seq).sort()).toEqual([1, 2, 3]);
    expect(current.emulator.modem.sendAttempts.length).toBeGreaterThan(3);
    expect(joinSent(ok)[0]).toMatchObject({ text: 'abcdefghij'.repeat(45), complete: true });
  });
});

import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, FAST_TIMERS, type Rig } from '../helpers/rig.js';
import { runSmsd, SMSD_BIN } from '../helpers/spool.js';

const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
const haveTmux = tmux('-V').status === 0;

/** The live monitor in a real terminal (tmux), while a daemon sends and receives through the emulator. */
describe.runIf(haveTmux || process.env.CI)('smsd monitor live view', () => {
  let rig: Rig | undefined;
  const session = `smsgate-mon-${process.pid}`;
  afterEach(async () => {
    tmux('kill-session', '-t', session);
    await rig?.close();
  });

  it('shows counters changing as messages go and come, and suspends/resumes a daemon with its keys', async () => {
    rig = await startRig({
      config: FAST_TIMERS.replace('StatusFrequency = 0', 'StatusFrequency = 1') + 'PhoneID = livemon\n',
    });
    const r = rig;
    await waitFor(() => r.output().includes('connected to'), 10_000, 'daemon connected', r);
    expect(
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '140',
        '-y',
        '35',
        `${process.execPath} ${SMSD_BIN} monitor -c ${r.spool.config}`,
      ).status,
    ).toBe(0);
    const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
    await waitFor(
      () => /livemon\s+connected.*sent 0 received 0 failed 0/.test(screen()),
      10_000,
      `first screen:\n${screen()}`,
    );
    expect(runSmsd(['inject', '-c', r.spool.config, 'TEXT', '+420123', '-text', 'watched']).status).toBe(0);
    r.emulator.modem.deliver({ from: '+420777', text: 'incoming while watched' });
    await waitFor(() => /sent 1 received 1 failed 0/.test(screen()), 10_000, `counters:\n${screen()}`);
    expect(screen()).toMatch(/sent OUTC\d{8}_\d{6}_00_\+420123_sms0\.smsbackup/);
    expect(screen()).toMatch(/received IN\d{8}_\d{6}_00_\+420777_00\.txt/);
    tmux('send-keys', '-t', session, 's');
    await waitFor(() => /livemon\s+suspended/.test(screen()), 10_000, `suspended:\n${screen()}`);
    tmux('send-keys', '-t', session, 'r');
    await waitFor(() => /livemon\s+connected/.test(screen()), 10_000, `resumed:\n${screen()}`);
    tmux('send-keys', '-t', session, 'q');
    await waitFor(() => tmux('has-session', '-t', session).status !== 0, 5_000, 'monitor quit on q');
  }, 60_000);
});

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, readInbox, FAST_TIMERS, type Rig } from '../helpers/rig.js';

/**
 * The number an MO arrived on (what smppd puts in deliver_sm's destination_addr): OwnNumber, else
 * the SIM's own number (AT+CNUM), else empty. Recorded in inbox/.smsgate/<inbox file>.json.
 */
describe('receiving number of an MO', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  const receiveOne = async (r: Rig) => {
    await waitFor(() => r.output().includes('connected to'), 10_000, 'connected', r);
    r.emulator.modem.deliver({ from: '+420111222333', text: 'to whom?' });
    const [file] = await waitFor(
      () => (readInbox(r).length === 1 ? readInbox(r) : undefined),
      10_000,
      'MO',
      r,
    );
    const record = path.join(r.spool.inbox, '.smsgate', `${file?.name}.json`);
    return JSON.parse(fs.readFileSync(record, 'utf8')) as { phoneId: string; receiver?: string };
  };

  it('without OwnNumber: the SIM’s number from AT+CNUM', async () => {
    rig = await startRig({ modem: { ownNumber: '+420999888777' } });
    expect(await receiveOne(rig)).toEqual({ phoneId: '', receiver: '+420999888777' });
    expect(rig.output()).toContain('own number from the SIM (AT+CNUM): +420999888777');
  });

  it('OwnNumber wins over the SIM', async () => {
    rig = await startRig({
      config: `${FAST_TIMERS}OwnNumber = +420555000111\n`,
      modem: { ownNumber: '+420999888777' },
    });
    expect((await receiveOne(rig)).receiver).toBe('+420555000111');
  });

  it('a SIM without its number and no OwnNumber: left empty, said once', async () => {
    rig = await startRig({ modem: { ownNumber: '' } });
    expect(await receiveOne(rig)).toEqual({ phoneId: '' });
    expect(rig.output()).toMatch(/the SIM does not tell its number \(AT\+CNUM\) and OwnNumber is not set/);
  });
});

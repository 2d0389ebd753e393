import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, readInbox, FAST_TIMERS, type Rig } from '../helpers/rig.js';
import { parseBackup } from '../../src/lib/smsbackup/reader.js';

describe('smsd run receives through a real pseudo-terminal', () => {
  let rig: Rig;
  afterEach(async () => rig?.close());

  it('stores GSM-7, UCS-2, 8-bit and alphanumeric-sender messages with Gammu names', async () => {
    rig = await startRig();
    const m = rig.emulator.modem;
    m.deliver({
      from: '+420111222333',
      text: 'Hello @ {world}',
      timestamp: '2026-03-04T05:06:07Z',
      tzMinutes: 60,
    });
    m.deliver({ from: '+420111222333', text: 'Zoë Привет 😀', coding: 'ucs2' });
    m.deliver({ from: '+420111222333', coding: '8bit', data: 'DEADBEEF' });
    m.deliver({ from: 'MyBank', text: 'Your code is 1234' });
    const files = await waitFor(
      () => (readInbox(rig).length === 4 ? readInbox(rig) : undefined),
      10_000,
      'four inbox files',
      rig,
    );
    const byText = (t: string) => files.find((f) => f.content.toString('utf8') === t);
    expect(byText('Hello @ {world}')?.name).toBe('IN20260304_060607_00_+420111222333_00.txt');
    expect(byText('Zoë Привет 😀')).toBeDefined();
    expect(files.find((f) => f.name.endsWith('.bin'))?.content.toString('hex')).toBe('deadbeef');
    expect(files.find((f) => f.name.includes('_MyBank_'))?.content.toString()).toBe('Your code is 1234');
    // Deleted from the SIM only once stored.
    await waitFor(() => m.messages('SM').length === 0, 5_000, 'SIM emptied', rig);
  });

  it('stores messages the modem routes with +CMT (AT+CNMI mt=2), a long one joined from its parts', async () => {
    rig = await startRig({ config: `${FAST_TIMERS}\n[gammu]\natgen_setcnmi = 2,2,0,1,0\n` });
    const m = rig.emulator.modem;
    await waitFor(() => m.status().state.cnmi[1] === 2, 10_000, 'CNMI mt=2', rig);
    const long = 'Routed straight to the daemon, never stored on the SIM card. '.repeat(4);
    const r1 = m.deliver({ from: '+420111222333', text: 'routed one' });
    const r2 = m.deliver({ from: '+420111222444', text: long });
    expect(r1.routed + r2.routed).toBeGreaterThanOrEqual(3);
    const files = await waitFor(
      () => (readInbox(rig).length >= 3 ? readInbox(rig) : undefined),
      10_000,
      'routed messages in the inbox',
      rig,
    );
    expect(files.find((f) => f.name.includes('_+420111222333_'))?.content.toString()).toBe('routed one');
    expect(
      files
        .filter((f) => f.name.includes('_+420111222444_'))
        .map((f) => f.content.toString())
        .join(''),
    ).toBe(long);
    expect(m.messages('SM')).toHaveLength(0);
  });

  it('reads the phone memory too: a modem that stores received messages in ME', async () => {
    rig = await startRig({ modem: { memories: ['ME', 'SM'] } });
    const m = rig.emulator.modem;
    const r = m.deliver({ from: '+420111222555', text: 'kept in the phone memory' });
    expect(r.stored.map((x) => x.memory)).toEqual(['ME']);
    const files = await waitFor(
      () => (readInbox(rig).length === 1 ? readInbox(rig) : undefined),
      10_000,
      'the ME message in the inbox',
      rig,
    );
    expect(files[0]?.content.toString()).toBe('kept in the phone memory');
    await waitFor(() => m.messages('ME').length === 0, 5_000, 'ME emptied', rig);
  });

  it('reassembles a 3-part message arriving out of order across two polls into one inbox message', async () => {
    rig = await startRig({
      config: FAST_TIMERS.replace('MultipartTimeout = 3', 'MultipartTimeout = 60') + 'InboxFormat = detail\n',
    });
    const m = rig.emulator.modem;
    const text = 'Part of a long message. '.repeat(18); // 432 chars: 3 parts
    m.deliver({ from: '+420999', text, ref: 77, partOrder: [3, 1] });
    await waitFor(() => rig.output().includes('Starting phone communication'), 10_000, 'daemon up', rig);
    await new Promise((r) => setTimeout(r, 2500)); // at least two polls see the incomplete message
    expect(readInbox(rig)).toHaveLength(0);
    m.deliver({ from: '+420999', text, ref: 77, partOrder: [2] });
    const [file] = await waitFor(
      () => (readInbox(rig).length > 0 ? readInbox(rig) : undefined),
      10_000,
      'inbox message',
      rig,
    );
    expect(readInbox(rig)).toHaveLength(1);
    const entries = parseBackup(file?.content ?? '');
    expect(entries.map((e) => e.text).join('')).toBe(text);
    expect(file?.name).toMatch(/^IN\d{8}_\d{6}_00_\+420999_00\.txt$/);
  });

  it('stores an incomplete message after MultipartTimeout', async () => {
    rig = await startRig();
    rig.emulator.modem.deliver({ from: '+420888', text: 'x'.repeat(400), partOrder: [1, 3] });
    const files = await waitFor(
      () => (readInbox(rig).length === 2 ? readInbox(rig) : undefined),
      15_000,
      'incomplete message stored',
      rig,
    );
    expect(files.map((f) => f.name.slice(-6))).toEqual(['00.txt', '01.txt']);
    expect(rig.output()).toMatch(/Incomplete multipart message .* processing after timeout/);
  });

  it('leaves messages from excluded senders on the SIM', async () => {
    rig = await startRig({ config: FAST_TIMERS + '\n[exclude_numbers]\nnumber1 = +420666\n' });
    const m = rig.emulator.modem;
    m.deliver({ from: '+420666', text: 'spam' });
    m.deliver({ from: '+420777', text: 'ham' });
    await waitFor(() => readInbox(rig).length === 1, 10_000, 'ham stored', rig);
    await new Promise((r) => setTimeout(r, 1500));
    expect(readInbox(rig).map((f) => f.content.toString())).toEqual(['ham']);
    expect(m.messages('SM')).toHaveLength(1);
    expect(rig.output()).toMatch(/Message excluded because of sender: \+420666/);
  });
});

describe('smsd run inbox formats and reports in the inbox', () => {
  let rig: Rig;
  afterEach(async () => rig?.close());

  it('InboxFormat = unicode writes a BOM and UCS-2 big-endian', async () => {
    rig = await startRig({ config: FAST_TIMERS + 'InboxFormat = unicode\n' });
    rig.emulator.modem.deliver({ from: '+420111', text: 'Zoë 😀' });
    const [f] = await waitFor(
      () => (readInbox(rig).length === 1 ? readInbox(rig) : undefined),
      10_000,
      'inbox file',
      rig,
    );
    expect(f?.content.subarray(0, 2).toString('hex')).toBe('feff');
    expect(
      Buffer.from(f?.content.subarray(2) ?? Buffer.alloc(0))
        .swap16()
        .toString('utf16le'),
    ).toBe('Zoë 😀');
  });

  it('DeliveryReport = sms also stores the report in the inbox as "Delivered"', async () => {
    rig = await startRig({ config: FAST_TIMERS + 'DeliveryReport = sms\n' });
    const { runSmsd } = await import('../helpers/spool.js');
    expect(
      runSmsd(['inject', '-c', rig.spool.config, 'TEXT', '+420222', '-text', 'report to inbox']).status,
    ).toBe(0);
    const [f] = await waitFor(
      () => (readInbox(rig).length === 1 ? readInbox(rig) : undefined),
      10_000,
      'report in inbox',
      rig,
    );
    expect(f?.name).toMatch(/_\+420222_00\.txt$/);
    expect(f?.content.toString()).toBe('Delivered');
  });
});

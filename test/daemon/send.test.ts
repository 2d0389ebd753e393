import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, waitForOutput, FAST_TIMERS, type Rig } from '../helpers/rig.js';
import { runSmsd, listFiles } from '../helpers/spool.js';
import { joinSent } from '../../src/lib/emulator/records.js';
import { decodeSubmit } from '../../src/lib/sms/index.js';

describe('smsd run sends what is queued', () => {
  let rig: Rig;
  afterEach(async () => rig?.close());

  const inject = (...args: string[]) => {
    const r = runSmsd(['inject', '-c', rig.spool.config, ...args]);
    expect(r.status, r.stderr).toBe(0);
  };

  it('sends single, multipart, UCS-2, flash and report messages; the modem gets what was queued', async () => {
    rig = await startRig();
    const long = 'A long message with {braces} and € signs. '.repeat(6);
    inject('TEXT', '+420100000001', '-text', 'single');
    inject('TEXT', '+420100000002', '-text', long, '-len', '1000');
    inject('TEXT', '+420100000003', '-unicode', '-text', 'Zoë Привет 😀');
    inject('TEXT', '+420100000004', '-text', 'flash!', '-flash');
    inject('TEXT', '+420100000005', '-text', 'report me', '-report', '-validity', 'DAY');
    const m = rig.emulator.modem;
    await waitFor(() => listFiles(rig.spool.sent).length === 5, 30_000, 'five messages in sent/', rig);
    // The claim (`<file>.lock`) is released just after the file moved to sent/.
    await waitFor(() => listFiles(rig.spool.outbox).length === 0, 10_000, 'an empty outbox', rig);
    const sent = joinSent(m.sent);
    const by = (n: string) => sent.find((s) => s.number === n);
    expect(by('+420100000001')?.text).toBe('single');
    expect(by('+420100000002')).toMatchObject({ text: long, parts: 2, complete: true });
    expect(by('+420100000003')).toMatchObject({ text: 'Zoë Привет 😀', coding: 'ucs2' });
    const raw = (n: string) => m.sent.filter((r) => r.number === n).map((r) => decodeSubmit(r.pdu));
    expect(raw('+420100000004')[0]?.messageClass).toBe(0);
    expect(raw('+420100000005')[0]).toMatchObject({
      flags: { statusReportRequest: true },
      validity: { value: 0xa7 },
    });
    expect(raw('+420100000001')[0]?.flags.statusReportRequest).toBe(false);
  });

  it('sends a file written by the real gammu-smsd-inject', async () => {
    rig = await startRig();
    const g = spawnSync(
      'gammu-smsd-inject',
      ['-c', rig.spool.config, 'TEXT', '+420200000001', '-text', 'from Gammu {ok}', '-autolen', '400'],
      { encoding: 'utf8' },
    );
    if (g.error && !process.env.CI) return; // gammu-smsd not installed on this machine
    expect(g.status, g.stdout).toBe(0);
    await waitFor(() => listFiles(rig.spool.sent).length === 1, 10_000, 'sent', rig);
    expect(joinSent(rig.emulator.modem.sent)[0]).toMatchObject({
      number: '+420200000001',
      text: 'from Gammu {ok}',
    });
  });

  it('sends .txt files of every name form and encoding, with TransmitFormat auto', async () => {
    rig = await startRig({ config: FAST_TIMERS + 'TransmitFormat = auto\n' });
    const w = (name: string, data: Buffer | string) =>
      fs.writeFileSync(path.join(rig.spool.outbox, name), data);
    w('OUT+420300000001.txt', 'short form');
    w(
      'OUTA_+420300000002_01.txt',
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('UTF-16BE Ж', 'utf16le').swap16()]),
    );
    w(
      'OUTB20260101_000000_00_+420300000003_x.txtd',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('LE with report', 'utf16le')]),
    );
    await waitFor(() => listFiles(rig.spool.sent).length === 3, 10_000, 'three sent', rig);
    const sent = joinSent(rig.emulator.modem.sent);
    expect(sent.map((s) => s.text).sort()).toEqual(['LE with report', 'UTF-16BE Ж', 'short form']);
    const report = rig.emulator.modem.sent.find((r) => r.number === '+420300000003');
    expect(decodeSubmit(report?.pdu ?? '').flags.statusReportRequest).toBe(true);
  });

  it('sends a bookmark file (flag b) as a WAP push Service Indication', async () => {
    rig = await startRig();
    fs.writeFileSync(
      path.join(rig.spool.outbox, 'OUT+420300000009.txtb'),
      'Example,http://example.com/page\n',
    );
    fs.writeFileSync(path.join(rig.spool.outbox, 'OUT+420300000008.txtb'), 'no comma here');
    await waitFor(
      () => listFiles(rig.spool.sent).length === 1 && listFiles(rig.spool.error).length === 2,
      10_000,
      'sent and refused',
      rig,
    );
    const [submit] = rig.emulator.modem.sent.map((r) => decodeSubmit(r.pdu));
    expect(submit?.coding).toBe('8bit');
    expect(submit?.udh?.toString('hex').toUpperCase()).toMatch(/^0B05040B8423F00003[0-9A-F]{2}0101$/);
    expect(submit?.data?.toString('latin1')).toContain('http://example.com/page');
    expect(submit?.data?.toString('latin1')).toContain('Example');
    expect(fs.readFileSync(path.join(rig.spool.error, 'OUT+420300000008.txtb.reason'), 'utf8')).toMatch(
      /must hold "Title,URL"/,
    );
  });

  it('dials a USSD code and stores the network answer in the inbox, as Gammu does', async () => {
    rig = await startRig();
    inject('USSD', '*101#');
    await waitFor(
      () => listFiles(rig.spool.sent).length === 1 && listFiles(rig.spool.inbox).length === 1,
      10_000,
      'USSD done',
      rig,
    );
    expect(rig.emulator.modem.ussdRequests).toEqual(['*101#']);
    const [name] = listFiles(rig.spool.inbox);
    expect(name).toMatch(/^IN\d{8}_\d{6}_00_X101#_00\.txt$/);
    expect(fs.readFileSync(path.join(rig.spool.inbox, name ?? ''), 'utf8')).toBe('Reply for *101#');
    expect(rig.emulator.modem.sent).toEqual([]); // no SMS was sent for it
  });

  it('moves a malformed outbox file to error/ with the reason', async () => {
    rig = await startRig();
    fs.writeFileSync(
      path.join(rig.spool.outbox, 'OUTC20260101_000000_00_+420_sms0.smsbackup'),
      '[SMSBackup000]\nNumber = "+420"\nText00 = XYZ\n',
    );
    fs.writeFileSync(path.join(rig.spool.outbox, 'OUT_1.txt'), 'bad name');
    await waitFor(
      () => listFiles(rig.spool.error).length === 4,
      10_000,
      'two files and two reasons in error/',
      rig,
    );
    const reason = fs.readFileSync(
      path.join(rig.spool.error, 'OUTC20260101_000000_00_+420_sms0.smsbackup.reason'),
      'utf8',
    );
    expect(reason).toMatch(/malformed SMS backup: line 3: text00 is not hexadecimal/);
    expect(fs.readFileSync(path.join(rig.spool.error, 'OUT_1.txt.reason'), 'utf8')).toMatch(
      /0, 2 or at least 4 underscores/,
    );
  });

  it('matches a delivery report to its message and records it; keeps an unknown one', async () => {
    rig = await startRig({ config: FAST_TIMERS + 'DeliveryReport = log\n' });
    inject('TEXT', '+420400000001', '-text', 'please report', '-report');
    const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
    const file = await waitFor(
      () => ls(rig.reportsDir).find((f) => f.endsWith('.01.json')),
      10_000,
      'report file',
      rig,
    );
    const rec = JSON.parse(fs.readFileSync(path.join(rig.reportsDir, file), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(rec).toMatchObject({ number: '+420400000001', part: 1, category: 'delivered', status: 0 });
    expect(listFiles(rig.spool.sent)[0]).toBe(rec.id);
    // A report nobody asked for (wrong reference): logged and kept aside.
    const { encodeStatusReport } = await import('../../src/lib/sms/index.js');
    const now = new Date();
    const pdu = encodeStatusReport({
      smsc: '+420603052000',
      mr: 200,
      recipient: '+420999999999',
      scts: now,
      discharge: now,
      status: 0,
    });
    rig.emulator.modem.deliver({ pdu: pdu.hex });
    await waitFor(
      () => ls(path.join(rig.reportsDir, 'unmatched')).length === 1,
      10_000,
      'unmatched report kept',
      rig,
    );
    await waitForOutput(rig, /matches no sent message/);
  });
});

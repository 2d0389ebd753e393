import { afterEach, describe, expect, it } from 'vitest';
import {
  EmulatorError,
  type ModemEmulatorOptions,
  ModemEmulator,
  joinSent,
} from '../../src/lib/emulator/index.js';
import { decodeDeliver, decodeStatusReport, encodeSubmit } from '../../src/lib/sms/index.js';
import { AtHost, sleep } from './harness.js';

const modems: ModemEmulator[] = [];
afterEach(() => {
  for (const m of modems.splice(0)) m.dispose();
});

function setup(opts: ModemEmulatorOptions = {}): { modem: ModemEmulator; host: AtHost } {
  const modem = new ModemEmulator({ seed: 42, tzMinutes: 0, ...opts });
  modems.push(modem);
  return { modem, host: new AtHost(modem) };
}

const ok = '\r\nOK\r\n';
const line = (s: string): string => `\r\n${s}\r\n\r\nOK\r\n`;

const submit = (number: string, text: string, statusReport = false) =>
  encodeSubmit({ number, text, coding: 'gsm7', statusReport });

/** Lines of a multi-line answer, without the blank ones and the final OK. */
function lines(reply: string): string[] {
  return reply.split('\r\n').filter((l) => l !== '' && l !== 'OK');
}

describe('basic commands', () => {
  it('echoes by default, ATE0 / ATE1 switch it, and answers in the 27.007 shape', async () => {
    const { host } = setup();
    expect(await host.raw('AT')).toBe(`AT\r${ok}`);
    expect(await host.raw('ATE0')).toBe(`ATE0\r${ok}`);
    expect(await host.raw('AT+CGMI')).toBe(line('smsgate'));
    expect(await host.raw('ATE1')).toBe(ok);
    expect(await host.raw('at+cgmm')).toBe(`at+cgmm\r${line('SMSGATE-EMU')}`);
  });

  it('accepts CR LF line ends, ignores lines without AT and answers unknown commands with ERROR', async () => {
    const { host } = setup();
    host.write('ATE0\r\n');
    await host.until(0, (s) => s.includes('OK'));
    host.write('hello\r');
    expect(await host.quiet(20)).toBe('');
    expect(await host.cmd('AT+FOO=1')).toBe('\r\nERROR\r\n');
    expect(await host.cmd('ATX9')).toBe('\r\nERROR\r\n');
  });

  it('answers a USSD code with a +CUSD URC after the OK, or ERROR when USSD is off', async () => {
    const { host, modem } = setup();
    host.write('ATE0\r');
    await host.until(0, (s) => s.includes('OK'));
    const mark = host.buf.length;
    host.write('AT+CUSD=1,"*101#",15\r');
    expect(await host.until(mark, (x) => x.includes('15\r\n'))).toBe(
      '\r\nOK\r\n\r\n+CUSD: 0,"Reply for *101#",15\r\n',
    );
    expect(modem.ussdRequests).toEqual(['*101#']);
    modem.set({ ussd: false });
    expect(await host.cmd('AT+CUSD=1')).toBe('\r\nERROR\r\n');
  });

  it('reports identity, signal, battery and SMSC from the settings, also changed at run time', async () => {
    const { host, modem } = setup({ imei: '490154203237518', rssi: 17, battery: 64 });
    expect(await host.cmd('AT+CGSN')).toBe(line('490154203237518'));
    expect(await host.cmd('AT+CIMI')).toBe(line('001010123456789'));
    expect(await host.cmd('AT+CGMR')).toBe(line('smsgate-emulator 1.0'));
    expect(await host.cmd('AT+CSQ')).toBe(line('+CSQ: 17,0'));
    expect(await host.cmd('AT+CBC')).toBe(line('+CBC: 0,64'));
    expect(await host.cmd('ATI')).toBe(
      '\r\nsmsgate\r\nSMSGATE-EMU\r\nRevision: smsgate-emulator 1.0\r\n\r\nOK\r\n',
    );
    expect(await host.cmd('AT+CNUM')).toBe(line('+CNUM: "","+491700000001",145'));
    modem.set({ rssi: 99, battery: 5, model: 'X-2' });
    expect(await host.cmd('AT+CSQ')).toBe(line('+CSQ: 99,0'));
    expect(await host.cmd('AT+CBC')).toBe(line('+CBC: 0,5'));
    expect(await host.cmd('AT+CGMM')).toBe(line('X-2'));
    expect(await host.cmd('AT+CSCA?')).toBe(line('+CSCA: "+491710760000",145'));
    expect(await host.cmd('AT+CSCA="+4912345",145')).toBe(ok);
    expect(await host.cmd('AT+CSCA?')).toBe(line('+CSCA: "+4912345",145'));
    expect(() => modem.set({ rssi: 40 })).toThrow(EmulatorError);
    expect(() => modem.set({ bogus: 1 } as never)).toThrow(/unknown setting "bogus"/);
  });

  it('prints CME errors as ERROR, numbers or text per AT+CMEE', async () => {
    const { host } = setup();
    expect(await host.cmd('AT+CMGR=5')).toBe('\r\nERROR\r\n');
    expect(await host.cmd('AT+CMEE=1')).toBe(ok);
    expect(await host.cmd('AT+CMGR=5')).toBe('\r\n+CMS ERROR: 321\r\n');
    expect(await host.cmd('AT+CMEE=2')).toBe(ok);
    expect(await host.cmd('AT+CMGR=5')).toBe('\r\n+CMS ERROR: invalid memory index\r\n');
    expect(await host.cmd('AT+CMEE?')).toBe(line('+CMEE: 2'));
    expect(await host.cmd('AT+CSCS="KOI8"')).toBe('\r\n+CME ERROR: operation not supported\r\n');
  });

  it('answers the network queries: CREG, COPS in both formats, CFUN', async () => {
    const { host, modem } = setup({ registration: 5 });
    expect(await host.cmd('AT+CREG?')).toBe(line('+CREG: 0,5'));
    expect(await host.cmd('AT+CREG=2')).toBe(ok);
    expect(await host.cmd('AT+CREG?')).toBe(line('+CREG: 2,5,"00A1","0000B2C3"'));
    expect(await host.cmd('AT+COPS=3,2')).toBe(ok);
    expect(await host.cmd('AT+COPS?')).toBe(line('+COPS: 0,2,"00101"'));
    expect(await host.cmd('AT+COPS=3,0')).toBe(ok);
    expect(await host.cmd('AT+COPS?')).toBe(line('+COPS: 0,0,"SMSGATE"'));
    // Registration changes are announced with AT+CREG=2.
    const mark = host.buf.length;
    modem.set({ registration: 2 });
    expect(await host.until(mark, (s) => s.includes('\r\n'))).toBe('\r\n+CREG: 2\r\n');
    expect(await host.cmd('AT+COPS?')).toBe(line('+COPS: 0'));
    expect(await host.cmd('AT+CFUN?')).toBe(line('+CFUN: 1'));
    modem.set({ registration: 1 });
    expect(await host.cmd('AT+CFUN=4')).toBe(ok);
    expect(await host.cmd('AT+CREG?')).toContain('+CREG: 2,0');
    expect(await host.cmd('AT+CSQ')).toBe(line('+CSQ: 99,99'));
  });

  it('prints text fields hex-encoded when the character set is UCS2', async () => {
    const { host } = setup();
    expect(await host.cmd('AT+CSCS="UCS2"')).toBe(ok);
    expect(await host.cmd('AT+CSCS?')).toBe(line('+CSCS: "UCS2"'));
    expect(await host.cmd('AT+CSCA?')).toBe(
      line('+CSCA: "002B003400390031003700310030003700360030003000300030",145'),
    );
    expect(await host.cmd('AT+CSCA="002B0031",145')).toBe(ok);
    expect(await host.cmd('AT+CSCS="GSM"')).toBe(ok);
    expect(await host.cmd('AT+CSCA?')).toBe(line('+CSCA: "+1",145'));
  });
});

describe('SIM PIN', () => {
  it('asks for the PIN, counts wrong ones down to PUK, unlocks with PUK and a new PIN', async () => {
    const { host } = setup({ pin: '1234' });
    await host.cmd('AT+CMEE=1');
    expect(await host.cmd('AT+CPIN?')).toBe(line('+CPIN: SIM PIN'));
    expect(await host.cmd('AT+CMGL=4')).toBe('\r\n+CMS ERROR: 311\r\n');
    expect(await host.cmd('AT+CIMI')).toBe('\r\n+CME ERROR: 11\r\n');
    expect(await host.cmd('AT+CREG?')).toBe(line('+CREG: 0,0'));
    for (let i = 0; i < 3; i++) expect(await host.cmd('AT+CPIN="0000"')).toBe('\r\n+CME ERROR: 16\r\n');
    expect(await host.cmd('AT+CPIN?')).toBe(line('+CPIN: SIM PUK'));
    expect(await host.cmd('AT+CMGL=4')).toBe('\r\n+CMS ERROR: 316\r\n');
    expect(await host.cmd('AT+CPIN="1234"')).toBe('\r\n+CME ERROR: 12\r\n');
    expect(await host.cmd('AT+CPIN="11111111","4321"')).toBe('\r\n+CME ERROR: 16\r\n');
    expect(await host.cmd('AT+CPIN="12345678","4321"')).toBe(ok);
    expect(await host.cmd('AT+CPIN?')).toBe(line('+CPIN: READY'));
    expect(await host.cmd('AT+CPIN="4321"')).toBe('\r\n+CME ERROR: 3\r\n');
    expect(await host.cmd('AT+CREG?')).toBe(line('+CREG: 0,1'));
    // A reset locks the SIM again, now with the new PIN.
    expect(await host.cmd('AT+CFUN=1,1')).toBe(ok);
    expect(await host.cmd('AT+CPIN?')).toBe(line('+CPIN: SIM PIN'));
    expect(await host.cmd('AT+CPIN="4321"')).toBe(ok);
    expect(await host.cmd('AT+CPIN?')).toBe(line('+CPIN: READY'));
  });

  it('reports a missing SIM', async () => {
    const { host } = setup({ simInserted: false });
    await host.cmd('AT+CMEE=1');
    expect(await host.cmd('AT+CPIN?')).toBe('\r\n+CME ERROR: 10\r\n');
    expect(await host.cmd('AT+CPMS?')).toBe('\r\n+CMS ERROR: 310\r\n');
  });
});

describe('resets', () => {
  it('AT+CFUN=1,1 answers OK, then forgets echo, CMEE and CNMI; ATZ restores the profile', async () => {
    const { host, modem } = setup();
    await host.cmd('ATE0');
    await host.cmd('AT+CMEE=1');
    await host.cmd('AT+CNMI=2,1,0,2,0');
    const resets: string[] = [];
    modem.on('reset', (r) => resets.push(r));
    expect(await host.raw('AT+CFUN=1,1')).toBe(ok);
    expect(resets).toEqual(['cfun']);
    expect(await host.raw('AT+CNMI?')).toBe(`AT+CNMI?\r${line('+CNMI: 0,0,0,0,0')}`);
    expect(await host.cmd('AT+CMEE?')).toBe(line('+CMEE: 0'));
    await host.cmd('ATE0');
    expect(await host.raw('ATZ')).toBe(ok);
    expect(await host.raw('AT')).toBe(`AT\r${ok}`);
  });
});

describe('message storage', () => {
  it('stores deliveries in SM, lists by status, marks read, deletes', async () => {
    const { host, modem } = setup();
    await host.cmd('ATE0');
    modem.deliver({ from: '+4911111', text: 'one' });
    modem.deliver({ from: '+4922222', text: 'two' });
    expect(await host.cmd('AT+CPMS?')).toBe(line('+CPMS: "SM",2,30,"SM",2,30,"SM",2,30'));
    expect(await host.cmd('AT+CPMS=?')).toBe(line('+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")'));
    const r = lines(await host.cmd('AT+CMGR=2'));
    expect(r[0]).toMatch(/^\+CMGR: 0,,\d+$/);
    expect(decodeDeliver(r[1] ?? '')).toMatchObject({ text: 'two', originator: { number: '+4922222' } });
    expect(lines(await host.cmd('AT+CMGL=0'))[0]).toMatch(/^\+CMGL: 1,0,,/);
    expect(await host.cmd('AT+CMGL=0')).toBe(ok);
    expect(lines(await host.cmd('AT+CMGL=1'))).toHaveLength(4);
    expect(await host.cmd('AT+CMGD=1')).toBe(ok);
    expect(await host.cmd('AT+CMGD=1')).toBe(ok);
    expect(await host.cmd('AT+CMGD=31')).toBe('\r\nERROR\r\n');
    expect(await host.cmd('AT+CPMS="SM"')).toBe(line('+CPMS: 1,30,1,30,1,30'));
    expect(await host.cmd('AT+CMGD=1,4')).toBe(ok);
    expect(await host.cmd('AT+CMGL=4')).toBe(ok);
    expect(await host.cmd('AT+CPMS="ME","ME","ME"')).toBe(line('+CPMS: 0,100,0,100,0,100'));
    modem.deliver({ from: '+4933333', text: 'to ME' });
    expect(modem.messages('ME')).toHaveLength(1);
    expect(await host.cmd('AT+CPMS="XX"')).toBe('\r\nERROR\r\n');
  });

  it('AT+CMGD flags delete read, sent and all messages', async () => {
    const { host, modem } = setup();
    await host.cmd('ATE0');
    for (let i = 0; i < 3; i++) modem.deliver({ from: '+49111', text: `m${i}` });
    await host.cmd('AT+CMGR=2');
    expect(await host.cmd('AT+CMGD=0,1')).toBe(ok);
    expect(modem.messages().map((m) => m.index)).toEqual([1, 3]);
    expect(await host.cmd('AT+CMGD=?')).toBe(line('+CMGD: (1,3),(0-4)'));
    expect(await host.cmd('AT+CMGD=0,4')).toBe(ok);
    expect(modem.messages()).toEqual([]);
  });

  it('announces +CMTI with CNMI mt=1, stays silent with mt=0, routes +CMT with mt=2', async () => {
    const { host, modem } = setup();
    await host.cmd('ATE0');
    modem.deliver({ from: '+4911111', text: 'silent' });
    expect(await host.quiet(20)).toBe('');
    await host.cmd('AT+CNMI=2,1,0,2,0');
    let mark = host.buf.length;
    expect(modem.deliver({ from: '+4911111', text: 'loud' })).toEqual({
      parts: 1,
      stored: [{ memory: 'SM', index: 2 }],
      routed: 0,
      queued: 0,
    });
    expect(await host.until(mark, (s) => s.endsWith('\r\n'))).toBe('\r\n+CMTI: "SM",2\r\n');
    await host.cmd('AT+CNMI=2,2,0,1,0');
    mark = host.buf.length;
    expect(modem.deliver({ from: '+4911111', text: 'direct' }).routed).toBe(1);
    const cmt = await host.until(mark, (s) => /\r\n[0-9A-F]+\r\n$/.test(s));
    const m = /^\r\n\+CMT: ,(\d+)\r\n([0-9A-F]+)\r\n$/.exec(cmt);
    expect(m).not.toBeNull();
    expect(decodeDeliver(m?.[2] ?? '', { tpduLength: Number(m?.[1]) }).text).toBe('direct');
    expect(modem.messages()).toHaveLength(2);
  });

  it('splits long text into concatenated parts, in any order, in UCS2 and 8-bit too', async () => {
    const { host, modem } = setup();
    await host.cmd('ATE0');
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(8);
    const out = modem.deliver({ from: 'Alerts', text, ref: 77, partOrder: [3, 1] });
    expect(out.parts).toBe(2);
    const pdus = lines(await host.cmd('AT+CMGL=4')).filter((l) => !l.startsWith('+CMGL'));
    const parts = pdus.map((p) => decodeDeliver(p));
    expect(parts.map((p) => p.concat)).toEqual([
      { ref: 77, total: 3, seq: 3, ref16bit: false },
      { ref: 77, total: 3, seq: 1, ref16bit: false },
    ]);
    expect(parts[0]?.originator.number).toBe('Alerts');
    modem.deliver({ from: 'Alerts', text, ref: 77, partOrder: [2] });
    const all = modem.messages().map((m) => decodeDeliver(m.pdu));
    const joined = all
      .sort((a, b) => (a.concat?.seq ?? 0) - (b.concat?.seq ?? 0))
      .map((p) => p.text)
      .join('');
    expect(joined).toBe(text);
    modem.clearMessages();
    modem.deliver({ from: '+4911111', text: 'Grüße ☺ Привет' });
    modem.deliver({ from: '+4911111', data: '0102FF', coding: '8bit' });
    const [ucs2, bin] = modem.messages().map((m) => decodeDeliver(m.pdu));
    expect(ucs2).toMatchObject({ coding: 'ucs2', text: 'Grüße ☺ Привет' });
    expect(bin?.data?.toString('hex')).toBe('0102ff');
    expect(() => modem.deliver({ from: '+49', text: 'x'.repeat(200), parts: 'single' })).toThrow(
      EmulatorError,
    );
    expect(() => modem.deliver({ from: '+49', text: 'x', colour: 'red' } as never)).toThrow(/unknown/);
    expect(() => modem.deliver('0011')).toThrow(/bad incoming PDU/);
  });

  it('queues deliveries while the SIM is full and stores them when space frees', async () => {
    const { host, modem } = setup({ simSize: 2 });
    await host.cmd('ATE0');
    await host.cmd('AT+CNMI=2,1,0,2,0');
    modem.deliver({ from: '+491', text: 'a' });
    modem.deliver({ from: '+491', text: 'b' });
    await sleep(5);
    expect(modem.deliver({ from: '+491', text: 'c' })).toMatchObject({ stored: [], queued: 1 });
    expect(modem.status().queued).toBe(1);
    expect(await host.cmd('AT+CPMS?')).toContain('"SM",2,2');
    const mark = host.buf.length;
    expect(await host.cmd('AT+CMGD=1')).toBe(ok);
    expect(await host.until(mark, (s) => s.includes('+CMTI'))).toContain('\r\n+CMTI: "SM",1\r\n');
    expect(decodeDeliver(modem.messages()[0]?.pdu ?? '').text).toBe('c');
    expect(modem.status().queued).toBe(0);
  });
});

describe('sending', () => {
  it('prompts, takes the PDU up to Ctrl-Z, answers +CMGS with an incrementing MR and records the SUBMIT', async () => {
    const { host, modem } = setup();
    const seen: string[] = [];
    modem.on('submit', (r) => seen.push(r.text ?? ''));
    const a = submit('+123456', 'hi');
    expect(await host.cmd(`AT+CMGS=${a.tpduLength}`)).toBe('\r\n> ');
    const mark = host.buf.length;
    host.write(a.hex.slice(0, 10));
    await sleep(5);
    host.write(`${a.hex.slice(10)}\x1a`);
    // The PDU is echoed as typed, then the answer.
    expect(await host.until(mark, (s) => s.endsWith('OK\r\n'))).toBe(`${a.hex}\r\n+CMGS: 1\r\n\r\nOK\r\n`);
    const b = submit('+123456', 'second');
    expect(await host.send(b.hex, b.tpduLength)).toBe('\r\n+CMGS: 2\r\n\r\nOK\r\n');
    expect(seen).toEqual(['hi', 'second']);
    expect(modem.sent[0]).toMatchObject({
      mr: 1,
      error: null,
      number: '+123456',
      text: 'hi',
      coding: 'gsm7',
      class: -1,
      udh: null,
      srr: false,
      smsc: null,
      announcedLength: a.tpduLength,
      pdu: a.hex,
    });
  });

  it('wraps the message reference after 255', async () => {
    const { host } = setup();
    await host.cmd('ATE0');
    const a = submit('+1', 'x');
    let last = '';
    for (let i = 0; i < 257; i++) last = await host.send(a.hex, a.tpduLength);
    expect(last).toBe('\r\n+CMGS: 1\r\n\r\nOK\r\n');
  });

  it('refuses a wrong length or a malformed PDU with +CMS ERROR: 304; ESC cancels the prompt', async () => {
    const { host, modem } = setup();
    await host.cmd('ATE0');
    await host.cmd('AT+CMEE=1');
    const a = submit('+123456', 'hi');
    expect(await host.send(a.hex, a.tpduLength + 1)).toBe('\r\n+CMS ERROR: 304\r\n');
    expect(await host.send('0011000691214365', 8)).toBe('\r\n+CMS ERROR: 304\r\n');
    expect(await host.send('zz', 1)).toBe('\r\n+CMS ERROR: 304\r\n');
    expect(await host.cmd('AT+CMGS=0')).toBe('\r\n+CMS ERROR: 304\r\n');
    expect(await host.cmd(`AT+CMGS=${a.tpduLength}`)).toBe('\r\n> ');
    const mark = host.buf.length;
    host.write(`${a.hex.slice(0, 6)}\x1b`);
    expect(await host.until(mark, (s) => s.endsWith('OK\r\n'))).toBe('\r\nOK\r\n');
    expect(await host.cmd('AT')).toBe(ok);
    expect(modem.sent).toEqual([]);
    expect(modem.status().counters.badPdus).toBe(3);
  });

  it('joins concatenated sends into messages', async () => {
    const { host, modem } = setup();
    await host.cmd('ATE0');
    for (const seq of [1, 2]) {
      const udh = Buffer.from([5, 0, 3, 9, 2, seq]);
      const p = encodeSubmit({ number: '+49', text: seq === 1 ? 'Hello ' : 'world', coding: 'gsm7', udh });
      await host.send(p.hex, p.tpduLength);
    }
    expect(joinSent(modem.sent)).toEqual([
      { number: '+49', text: 'Hello world', coding: 'gsm7', mrs: [1, 2], parts: 2, complete: true },
    ]);
  });

  it('routes a status report as +CDS with CNMI ds=1', async () => {
    const { host, modem } = setup({ reportDelayMs: 30 });
    await host.cmd('ATE0');
    await host.cmd('AT+CNMI=2,1,0,1,0');
    const a = submit('+123456', 'report me', true);
    expect(await host.send(a.hex, a.tpduLength)).toBe('\r\n+CMGS: 1\r\n\r\nOK\r\n');
    expect(modem.sent[0]?.srr).toBe(true);
    const mark = host.buf.length;
    const cds = await host.until(mark, (s) => /\+CDS: \d+\r\n[0-9A-F]+\r\n$/.test(s));
    const m = /^\r\n\+CDS: (\d+)\r\n([0-9A-F]+)\r\n$/.exec(cds);
    const report = decodeStatusReport(m?.[2] ?? '', { tpduLength: Number(m?.[1]) });
    expect(report).toMatchObject({ mr: 1, recipient: { number: '+123456' }, status: 0 });
    expect(report.smsc?.number).toBe('+491710760000');
    expect(report.discharge.date.getTime()).toBeGreaterThanOrEqual(report.scts.date.getTime());
    expect(modem.messages()).toEqual([]);
  });

  it('stores a status report and announces +CDSI with CNMI ds=2, with the configured status', async () => {
    const { host, modem } = setup({ reportDelayMs: 10, reportStatus: 0x46 });
    await host.cmd('ATE0');
    await host.cmd('AT+CNMI=2,1,0,2,0');
    const a = submit('+123456', 'report me', true);
    await host.send(a.hex, a.tpduLength);
    const mark = host.buf.length;
    expect(await host.until(mark, (s) => s.endsWith('\r\n'))).toBe('\r\n+CDSI: "SM",1\r\n');
    const r = lines(await host.cmd('AT+CMGR=1'));
    expect(decodeStatusReport(r[1] ?? '')).toMatchObject({ mr: 1, status: 0x46 });
    expect(modem.status().counters.reports).toBe(1);
    // No report without TP-SRR.
    const b = submit('+123456', 'no report');
    await host.send(b.hex, b.tpduLength);
    expect(await host.quiet(40)).toBe('');
  });
});

describe('faults', () => {
  it('latencyMs delays every answer', async () => {
    const { host, modem } = setup({ faults: { latencyMs: 60 } });
    let t = Date.now();
    await host.cmd('AT');
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
    modem.setFault({ latencyMs: 0 });
    t = Date.now();
    await host.cmd('AT');
    expect(Date.now() - t).toBeLessThan(50);
  });

  it('cmsErrorEvery fails every Nth send with +CMS ERROR: 500', async () => {
    const { host, modem } = setup({ faults: { cmsErrorEvery: 2 } });
    await host.cmd('ATE0');
    await host.cmd('AT+CMEE=1');
    const a = submit('+1', 'x');
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await host.send(a.hex, a.tpduLength));
    expect(answers).toEqual([
      '\r\n+CMGS: 1\r\n\r\nOK\r\n',
      '\r\n+CMS ERROR: 500\r\n',
      '\r\n+CMGS: 2\r\n\r\nOK\r\n',
      '\r\n+CMS ERROR: 500\r\n',
    ]);
    expect(modem.sent.map((r) => r.mr)).toEqual([1, 2]);
    expect(modem.sendAttempts.filter((r) => r.error === 500)).toHaveLength(2);
  });

  it('a hang ignores everything until cleared', async () => {
    const { host, modem } = setup();
    await host.cmd('AT+CNMI=2,1,0,2,0');
    modem.setFault({ hang: true });
    host.write('AT\r');
    modem.deliver({ from: '+1', text: 'lost notification' });
    expect(await host.quiet(40)).toBe('');
    modem.setFault({ hang: false });
    expect(await host.cmd('AT')).toBe(ok);
    expect(modem.messages()).toHaveLength(1);
  });

  it('a power cycle clears a hang', async () => {
    const { host, modem } = setup({ faults: { hang: true } });
    host.write('AT\r');
    expect(await host.quiet(20)).toBe('');
    modem.powerCycle();
    expect(await host.raw('AT')).toBe(`AT\r${ok}`);
  });

  it('errorStorm answers ERROR to everything', async () => {
    const { host, modem } = setup({ faults: { errorStorm: true } });
    expect(await host.cmd('AT')).toBe('\r\nERROR\r\n');
    expect(await host.cmd('AT+CGMI')).toBe('\r\nERROR\r\n');
    modem.setFault({ errorStorm: false });
    expect(await host.cmd('AT')).toBe(ok);
  });

  it('garbage puts random bytes before answers, never CR or LF', async () => {
    const { host } = setup({ faults: { garbage: true } });
    await host.cmd('ATE0');
    for (let i = 0; i < 5; i++) {
      const r = await host.cmd('AT+CGMI');
      expect(r.endsWith(line('smsgate'))).toBe(true);
      const junk = r.slice(0, -line('smsgate').length);
      expect(junk.length).toBeGreaterThan(0);
      expect(junk).not.toMatch(/[\r\n]/);
    }
    expect(() => new ModemEmulator({ faults: { garbage: 2 } })).toThrow(EmulatorError);
  });

  it('a send fails with +CMS ERROR: 331 while not registered', async () => {
    const { host } = setup({ registration: 2 });
    await host.cmd('ATE0');
    await host.cmd('AT+CMEE=1');
    const a = submit('+1', 'x');
    expect(await host.send(a.hex, a.tpduLength)).toBe('\r\n+CMS ERROR: 331\r\n');
  });
});

import { describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/lib/at/channel.js';
import { AtCommandError, AtTimeoutError, DeviceGoneError } from '../../src/lib/at/errors.js';
import { parseCmgl } from '../../src/lib/at/replies.js';
import type { Urc } from '../../src/lib/at/urc.js';
import { ERROR, FakeModem, OK, type Script, info } from './fake-modem.js';

const PDU1 =
  '0791947101670000000D91945111325476F800004250102103000019C8329BFD0699E5EF36888E2E83CCE17519D47E93CB6D';
const PDU2 =
  '0791947101670000000D91947196999999F90008425010210300001C0047007200FC00DF00650020263A0020041F04400438043204350442';
const SUBMIT = '0791947101670000110006912143650000FF04E8342806';
const REPORT = '07919471016700000672C80D91945111325476F8425010210300004250102103000000';

const basic: Script = (cmd) => {
  switch (cmd) {
    case 'AT':
    case 'ATE0':
      return OK;
    case 'AT+CGMI':
      return info('FakeModem Inc.');
    case 'AT+CSQ':
      return info('+CSQ: 20,99');
    case 'AT+CPMS="SM","SM"':
      return info('+CPMS: 4,30,4,30,4,30');
    case 'AT+CMGL=4':
      return info('+CMGL: 1,0,,42', PDU1, '+CMGL: 2,0,,48', PDU2);
    case 'AT+MODE=2':
      return ERROR;
    case 'AT+CMGS=15':
      return '\r\n> ';
    case `PDU:${SUBMIT}`:
      return info('+CMGS: 7');
    default:
      return ERROR;
  }
};

function setup(
  script: Script = basic,
  echo = false,
): { modem: FakeModem; ch: AtChannel; urcs: Urc[]; stray: string[] } {
  const modem = new FakeModem(script);
  modem.echo = echo;
  const ch = new AtChannel(modem, { defaultTimeoutMs: 500, resyncQuietMs: 20, resyncProbeTimeoutMs: 150 });
  const urcs: Urc[] = [];
  const stray: string[] = [];
  ch.on('urc', (u) => urcs.push(u));
  ch.on('stray', (l) => stray.push(l));
  return { modem, ch, urcs, stray };
}

describe('AtChannel basics', () => {
  for (const echo of [false, true]) {
    it(`collects information lines and strips the echo (echo ${echo ? 'on' : 'off'})`, async () => {
      const { ch } = setup(basic, echo);
      expect(await ch.exec('AT')).toEqual({ command: 'AT', lines: [], final: 'OK' });
      expect((await ch.exec('AT+CGMI')).lines).toEqual(['FakeModem Inc.']);
      const list = await ch.exec('AT+CMGL=4');
      expect(parseCmgl(list.lines).map((m) => [m.index, m.pdu])).toEqual([
        [1, PDU1],
        [2, PDU2],
      ]);
    });
  }

  it('handles answers delivered byte by byte', async () => {
    const { modem, ch } = setup(basic, true);
    modem.chunkSize = 1;
    expect((await ch.exec('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
    const r = await ch.sendPdu(15, SUBMIT);
    expect(r.lines).toEqual(['+CMGS: 7']);
  });

  it('runs strictly one command at a time, in order', async () => {
    const { modem, ch } = setup((cmd) => {
      // Answer slowly so overlapping writes would show in `received` before the answers.
      if (cmd === 'AT+CGMI') return info('A');
      if (cmd === 'AT+CSQ') return info('+CSQ: 1,99');
      return OK;
    });
    const results = await Promise.all([ch.exec('AT+CGMI'), ch.exec('AT+CSQ'), ch.exec('AT')]);
    expect(results.map((r) => r.lines)).toEqual([['A'], ['+CSQ: 1,99'], []]);
    expect(modem.received).toEqual(['AT+CGMI', 'AT+CSQ', 'AT']);
  });

  it('turns final errors into AtCommandError with kind and code', async () => {
    const { ch } = setup((cmd) => {
      if (cmd === 'AT+CMGS=15') return '\r\n+CMS ERROR: 500\r\n';
      if (cmd === 'AT+CPIN?') return '\r\n+CME ERROR: SIM PIN required\r\n';
      if (cmd === 'AT+CMGR=9') return '\r\n+CMS ERROR: 321\r\n';
      if (cmd === 'AT^FOO') return '\r\nCOMMAND NOT SUPPORT\r\n';
      return ERROR;
    });
    await expect(ch.exec('AT+MODE=2')).rejects.toMatchObject({ name: 'AtCommandError', kind: 'ERROR' });
    const cms = await ch.sendPdu(15, SUBMIT).catch((e: unknown) => e);
    expect(cms).toBeInstanceOf(AtCommandError);
    expect(cms).toMatchObject({ kind: 'CMS', cmsCode: 500, description: 'unknown error', code: 500 });
    await expect(ch.exec('AT+CPIN?')).rejects.toMatchObject({
      kind: 'CME',
      cmeCode: 11,
      description: 'SIM PIN required',
    });
    await expect(ch.exec('AT+CMGR=9')).rejects.toMatchObject({
      cmsCode: 321,
      description: 'invalid memory index',
    });
    await expect(ch.exec('AT^FOO')).rejects.toMatchObject({ kind: 'ERROR' });
  });

  it('rejects malformed command lines without sending them', async () => {
    const { modem, ch } = setup();
    await expect(ch.exec('AT\rATZ')).rejects.toThrow(RangeError);
    await expect(ch.exec('hello')).rejects.toThrow(RangeError);
    await expect(ch.sendPdu(14, SUBMIT)).rejects.toThrow(/does not match/);
    expect(modem.received).toEqual([]);
  });
});

describe('AtChannel unsolicited result codes', () => {
  it('emits URCs arriving between commands', async () => {
    const { modem, ch, urcs } = setup();
    modem.send('\r\n+CMTI: "SM",3\r\n\r\n+CDSI: "SR",2\r\n\r\nRING\r\n\r\n+CLIP: "+123456",145,,,,0\r\n');
    modem.send('\r\n^RSSI: 17\r\n\r\n^BOOT:12345,0,0,0,6\r\n\r\n+CUSD: 0,"Balance 5 EUR",15\r\n');
    await ch.exec('AT');
    expect(urcs).toEqual([
      { type: 'cmti', memory: 'SM', index: 3, raw: '+CMTI: "SM",3' },
      { type: 'cdsi', memory: 'SR', index: 2, raw: '+CDSI: "SR",2' },
      { type: 'ring', callType: undefined, raw: 'RING' },
      { type: 'clip', number: '+123456', numberType: 145, raw: '+CLIP: "+123456",145,,,,0' },
      { type: 'cusd', status: 0, text: 'Balance 5 EUR', dcs: 15, raw: '+CUSD: 0,"Balance 5 EUR",15' },
    ]);
  });

  it('keeps URCs and vendor noise out of a response they interrupt', async () => {
    const { ch, urcs } = setup((cmd) =>
      cmd === 'AT+CMGL=4'
        ? '\r\n+CMGL: 1,0,,42\r\n' +
          `${PDU1}\r\n` +
          '\r\n+CMTI: "SM",5\r\n' +
          '\r\n^RSSI: 12\r\n' +
          '\r\n+CDS: 35\r\n' +
          `${REPORT}\r\n` +
          '+CMGL: 2,0,,48\r\n' +
          `${PDU2}\r\n` +
          '\r\n+CMT: ,42\r\n' +
          `${PDU1}\r\n` +
          OK
        : OK,
    );
    const noise: string[] = [];
    ch.on('noise', (l) => noise.push(l));
    const r = await ch.exec('AT+CMGL=4');
    expect(r.lines).toEqual(['+CMGL: 1,0,,42', PDU1, '+CMGL: 2,0,,48', PDU2]);
    expect(urcs).toEqual([
      { type: 'cmti', memory: 'SM', index: 5, raw: '+CMTI: "SM",5' },
      { type: 'cds', length: 35, pdu: REPORT, raw: '+CDS: 35' },
      { type: 'cmt', alpha: undefined, length: 42, pdu: PDU1, raw: '+CMT: ,42' },
    ]);
    expect(noise).toEqual(['^RSSI: 12']);
  });

  it('treats a +CREG line as the answer of AT+CREG? but as a URC otherwise', async () => {
    const { modem, ch, urcs } = setup((cmd) => (cmd === 'AT+CREG?' ? info('+CREG: 2,1,"00C3","0001"') : OK));
    expect((await ch.exec('AT+CREG?')).lines).toEqual(['+CREG: 2,1,"00C3","0001"']);
    modem.send('\r\n+CREG: 5,"00C4","0002"\r\n');
    await ch.exec('AT');
    expect(urcs).toEqual([
      {
        type: 'registration',
        which: 'CREG',
        registration: { state: 5, stateName: 'roaming', lac: '00C4', cid: '0002' },
        raw: '+CREG: 5,"00C4","0002"',
      },
    ]);
  });

  it('does not end a non-dial command on NO CARRIER', async () => {
    const { ch } = setup((cmd) => (cmd === 'AT+CGMI' ? '\r\nNO CARRIER\r\n' + info('X') : OK));
    expect((await ch.exec('AT+CGMI')).lines).toEqual(['X']);
  });
});

describe('AtChannel SMS send', () => {
  it('waits for the prompt, writes PDU + Ctrl-Z, returns +CMGS (URC between prompt and PDU)', async () => {
    const { modem, ch, urcs } = setup((cmd, m) => {
      if (cmd === 'AT+CMGS=15') {
        // As in the transcript: a +CMTI arrives right after the prompt.
        m.sendLater('\r\n+CMTI: "SM",1\r\n', 1);
        return '\r\n> ';
      }
      if (cmd === `PDU:${SUBMIT}`) return info('+CMGS: 1');
      return OK;
    });
    const r = await ch.sendPdu(15, SUBMIT.toLowerCase());
    expect(r.lines).toEqual(['+CMGS: 1']);
    expect(modem.received).toEqual(['AT+CMGS=15', `PDU:${SUBMIT}`]);
    expect(Buffer.concat(modem.raw).toString('latin1')).toBe(`AT+CMGS=15\r${SUBMIT}\x1a`);
    expect(urcs.map((u) => u.type)).toEqual(['cmti']);
  });

  it('handles echo of the command and of the PDU', async () => {
    const { ch } = setup(basic, true);
    expect((await ch.sendPdu(15, SUBMIT)).lines).toEqual(['+CMGS: 7']);
    expect((await ch.exec('AT+CGMI')).lines).toEqual(['FakeModem Inc.']);
  });

  it('sends ESC when the prompt does not come, and stays usable', async () => {
    const { modem, ch } = setup((cmd) => (cmd === 'AT+CMGS=15' ? null : basic(cmd, modem)));
    const err = await ch.sendPdu(15, SUBMIT, 5_000, { promptTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtTimeoutError);
    expect(err).toMatchObject({ phase: 'prompt', command: 'AT+CMGS=15' });
    expect((await ch.exec('AT+CGMI')).lines).toEqual(['FakeModem Inc.']);
    expect(modem.received[1]).toBe('ESC');
    expect(modem.received.slice(-2)).toEqual(['AT', 'AT+CGMI']);
  });

  it('reports a timeout after the PDU as phase "result"', async () => {
    const { modem, ch } = setup((cmd) => (cmd.startsWith('PDU:') ? null : basic(cmd, modem)));
    await expect(ch.sendPdu(15, SUBMIT, 100)).rejects.toMatchObject({
      name: 'AtTimeoutError',
      phase: 'result',
    });
  });
});

describe('AtChannel timeouts and resync', () => {
  it('a hung command times out; its late reply is not given to the next command', async () => {
    let hung = true;
    const { modem, ch, stray } = setup((cmd, m) => {
      if (cmd === 'AT+CSQ' && hung) return null;
      if (cmd === 'AT' && hung) {
        // The modem wakes up: the hung command's answer arrives right after our probe was sent,
        // before the probe's own OK (the case a naive "AT until OK" resync gets wrong).
        hung = false;
        m.send('\r\n+CSQ: 20,99\r\n' + OK);
        return OK;
      }
      return basic(cmd, m);
    });
    const err = await ch.exec('AT+CSQ', { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtTimeoutError);
    expect((err as AtTimeoutError).message).toContain('AT+CSQ');
    expect(ch.needsResync).toBe(true);
    const r = await ch.exec('AT+CGMI');
    expect(r.lines).toEqual(['FakeModem Inc.']);
    expect(ch.needsResync).toBe(false);
    expect(stray).toEqual(['OK']); // the probe's own OK, drained after the late one was consumed
    expect(modem.received).toEqual(['AT+CSQ', 'AT', 'AT+CGMI']);
  });

  it('drops a late reply that arrives while no command is pending', async () => {
    const { ch, stray } = setup((cmd, m) => {
      if (cmd === 'AT+CSQ') {
        m.sendLater('\r\n+CSQ: 20,99\r\n' + OK, 150);
        return null;
      }
      return basic(cmd, m);
    });
    await expect(ch.exec('AT+CSQ', { timeoutMs: 100 })).rejects.toBeInstanceOf(AtTimeoutError);
    // Issue nothing until the late reply is in, so it surely arrives with no command pending.
    for (let i = 0; i < 200 && stray.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await ch.exec('AT+CGMI')).lines).toEqual(['FakeModem Inc.']);
    expect(stray).toEqual(['+CSQ: 20,99', 'OK']);
  });

  it('fails the next command with a resync timeout while the modem stays dead, then recovers', async () => {
    let dead = true;
    const { ch } = setup((cmd, m) => (dead ? null : basic(cmd, m)));
    await expect(ch.exec('AT+CSQ', { timeoutMs: 50 })).rejects.toMatchObject({ phase: 'response' });
    await expect(ch.exec('AT+CGMI')).rejects.toMatchObject({ name: 'AtTimeoutError', phase: 'resync' });
    dead = false;
    expect((await ch.exec('AT+CGMI')).lines).toEqual(['FakeModem Inc.']);
  });
});

describe('AtChannel and a vanishing device', () => {
  it('rejects the pending and queued commands with DeviceGoneError', async () => {
    const { modem, ch } = setup((cmd) => (cmd === 'AT+CMGL=4' ? null : OK));
    const closes: unknown[] = [];
    ch.on('close', (e) => closes.push(e));
    const pending = ch.exec('AT+CMGL=4');
    const queued = ch.exec('AT');
    setTimeout(() => modem.vanish(), 20);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceGoneError);
    expect(err).toMatchObject({ osCode: 'EIO' });
    await expect(queued).rejects.toBeInstanceOf(DeviceGoneError);
    await expect(ch.exec('AT')).rejects.toBeInstanceOf(DeviceGoneError);
    expect(ch.isClosed).toBe(true);
    expect(closes).toHaveLength(1);
  });

  it('close() ends the channel', async () => {
    const { ch } = setup();
    await ch.exec('AT');
    await ch.close();
    await expect(ch.exec('AT')).rejects.toBeInstanceOf(DeviceGoneError);
  });
});

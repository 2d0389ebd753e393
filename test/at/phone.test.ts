import { describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/lib/at/channel.js';
import { AtUnsupportedError, DeviceGoneError, SecurityError } from '../../src/lib/at/errors.js';
import { Phone } from '../../src/lib/at/phone.js';
import { ERROR, FakeModem, OK, info } from './fake-modem.js';

const T1 =
  '0791947101670000000D91945111325476F800004250102103000019C8329BFD0699E5EF36888E2E83CCE17519D47E93CB6D';
const T2 =
  '0791947101670000000D91947196999999F90008425010210300001C0047007200FC00DF00650020263A0020041F04400438043204350442';
const SUBMIT = '0791947101670000110006912143650000FF04E8342806';

/** A small stateful modem in the spirit of the transcript's fakemodem. */
class SimModem {
  pin = '1234';
  puk = '12345678';
  sim: 'READY' | 'SIM PIN' | 'SIM PUK' | 'NONE' = 'READY';
  attempts = 3;
  messages = new Map<number, string>([
    [1, T1],
    [2, T2],
  ]);
  mr = 0;
  private copsFormat = 0;
  extra: Record<string, string> = {};
  readonly modem: FakeModem;

  constructor(echo = false) {
    this.modem = new FakeModem((cmd) => this.answer(cmd));
    this.modem.echo = echo;
  }

  private cpin(cmd: string): string {
    const m = /^AT\+CPIN="(\d+)"(?:,"(\d+)")?$/.exec(cmd);
    if (!m) return ERROR;
    if (this.sim === 'SIM PUK') {
      if (m[1] === this.puk && m[2]) {
        this.pin = m[2];
        this.sim = 'READY';
        return OK;
      }
      return '\r\n+CME ERROR: 16\r\n';
    }
    if (this.sim !== 'SIM PIN') return '\r\n+CME ERROR: 3\r\n';
    if (m[1] === this.pin) {
      this.sim = 'READY';
      return OK;
    }
    this.attempts--;
    if (this.attempts === 0) {
      this.sim = 'SIM PUK';
      return '\r\n+CME ERROR: 12\r\n';
    }
    return '\r\n+CME ERROR: 16\r\n';
  }

  answer(cmd: string): string | null {
    if (cmd in this.extra) return this.extra[cmd] ?? null;
    if (cmd.startsWith('AT+CPIN="')) return this.cpin(cmd);
    if (cmd.startsWith('PDU:')) {
      this.mr = (this.mr + 1) % 256;
      return info(`+CMGS: ${this.mr}`);
    }
    const cmgr = /^AT\+CMGR=(\d+)$/.exec(cmd);
    if (cmgr) {
      const pdu = this.messages.get(Number(cmgr[1]));
      return pdu ? info(`+CMGR: 1,,${pdu.length / 2 - 8}`, pdu) : OK;
    }
    const cmgd = /^AT\+CMGD=(\d+)$/.exec(cmd);
    if (cmgd) {
      this.messages.delete(Number(cmgd[1]));
      return OK;
    }
    if (/^AT\+CMGS=\d+$/.test(cmd)) return '\r\n> ';
    const cops = /^AT\+COPS=3,(\d)$/.exec(cmd);
    if (cops) {
      this.copsFormat = Number(cops[1]);
      return OK;
    }
    switch (cmd) {
      case 'AT':
      case 'ATE0':
      case 'AT+CMEE=1':
      case 'AT+CMGF=0':
      case 'AT+CREG=2':
      case 'AT+CNMI=2,1,0,1,0':
      case 'AT+CFUN=1':
        return OK;
      case 'AT+CPIN?':
        return this.sim === 'NONE' ? '\r\n+CME ERROR: 10\r\n' : info(`+CPIN: ${this.sim}`);
      case 'AT+CGMI':
        return info('+CGMI: "FakeModem Inc."');
      case 'AT+CGMM':
        return info('FAKE-1');
      case 'AT+CGMR':
        return info('Revision: 1.0.0');
      case 'AT+CGSN':
        return info('356938035643809');
      case 'AT+CIMI':
        return this.sim === 'READY' ? info('001010123456789') : '\r\n+CME ERROR: 11\r\n';
      case 'AT+CREG?':
        return info('+CREG: 2,1,"00C3","0001"');
      case 'AT+COPS?':
        return this.copsFormat === 2 ? info('+COPS: 0,2,"26201",7') : info('+COPS: 0,0,"Telekom.de",7');
      case 'AT+CSQ':
        return info('+CSQ: 20,99');
      case 'AT+CBC':
        return ERROR;
      case 'AT+CSCA?':
        return info('+CSCA: "+491710760000",145');
      case 'AT+CPMS=?':
        return info('+CPMS: ("SM"),("SM"),("SM")');
      case 'AT+CPMS="SM","SM"':
      case 'AT+CPMS?':
        return cmd.endsWith('?')
          ? info(
              `+CPMS: "SM",${this.messages.size},30,"SM",${this.messages.size},30,"SM",${this.messages.size},30`,
            )
          : info(`+CPMS: ${this.messages.size},30,${this.messages.size},30,${this.messages.size},30`);
      case 'AT+CMGL=4':
        return info(
          ...[...this.messages].flatMap(([i, pdu]) => [`+CMGL: ${i},0,,${pdu.length / 2 - 8}`, pdu]),
        );
      case 'AT+CNMI=?':
        return info('+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)');
      default:
        return ERROR;
    }
  }
}

function setup(
  echo = false,
  options: ConstructorParameters<typeof Phone>[1] = {},
): { sim: SimModem; phone: Phone } {
  const sim = new SimModem(echo);
  const channel = new AtChannel(sim.modem, {
    defaultTimeoutMs: 500,
    resyncQuietMs: 10,
    resyncProbeTimeoutMs: 100,
  });
  return { sim, phone: new Phone(channel, { pinReadyTimeoutMs: 300, ...options }) };
}

describe('Phone start-up', () => {
  it('init sends ESC, AT, ATE0, AT+CMEE=1, AT+CMGF=0 (echo on)', async () => {
    const { sim, phone } = setup(true);
    await phone.init();
    expect(sim.modem.received).toEqual(['ESC', 'AT', 'ATE0', 'AT+CMEE=1', 'AT+CMGF=0']);
  });

  it('init tolerates optional failures but not a missing PDU mode', async () => {
    const { sim, phone } = setup();
    sim.extra['AT+CMEE=1'] = ERROR;
    sim.extra['AT+CMGF=0'] = '\r\n+CMS ERROR: 303\r\n';
    const err = await phone.init().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtUnsupportedError);
    expect(sim.modem.received).toContain('AT+CMEE=2');
  });

  it('identify strips prefixes; IMSI undefined while locked', async () => {
    const { sim, phone } = setup();
    expect(await phone.identify()).toEqual({
      manufacturer: 'FakeModem Inc.',
      model: 'FAKE-1',
      revision: '1.0.0',
      imei: '356938035643809',
      imsi: '001010123456789',
    });
    sim.sim = 'SIM PIN';
    expect((await phone.identify()).imsi).toBeUndefined();
  });
});

describe('Phone SIM security', () => {
  it('reports states and a missing SIM', async () => {
    const { sim, phone } = setup();
    expect(await phone.securityStatus()).toBe('READY');
    sim.sim = 'SIM PIN';
    expect(await phone.securityStatus()).toBe('SIM PIN');
    sim.sim = 'NONE';
    await expect(phone.securityStatus()).rejects.toMatchObject({ name: 'SecurityError', problem: 'NO_SIM' });
  });

  it('unlock enters the PIN and returns when READY', async () => {
    const { sim, phone } = setup();
    sim.sim = 'SIM PIN';
    await phone.unlock('1234');
    expect(sim.sim).toBe('READY');
    await phone.unlock(); // already READY: no PIN needed
  });

  it('a wrong PIN is never sent twice', async () => {
    const { sim, phone } = setup();
    sim.sim = 'SIM PIN';
    await expect(phone.unlock('0000')).rejects.toMatchObject({ problem: 'WRONG_PIN' });
    await expect(phone.unlock('0000')).rejects.toMatchObject({ problem: 'WRONG_PIN' });
    expect(sim.attempts).toBe(2);
    expect(sim.modem.received.filter((c) => c === 'AT+CPIN="0000"')).toHaveLength(1);
  });

  it('PIN required without a PIN, PUK required', async () => {
    const { sim, phone } = setup();
    sim.sim = 'SIM PIN';
    await expect(phone.unlock()).rejects.toMatchObject({ problem: 'PIN_REQUIRED' });
    sim.sim = 'SIM PUK';
    const err = await phone.unlock('1234').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecurityError);
    expect(err).toMatchObject({ problem: 'PUK_REQUIRED', state: 'SIM PUK' });
    await phone.enterPuk('12345678', '4321');
    expect(await phone.securityStatus()).toBe('READY');
  });
});

describe('Phone status', () => {
  it('network: CREG=2 once, CREG?, operator code and name', async () => {
    const { sim, phone } = setup();
    expect(await phone.network()).toEqual({
      state: 1,
      stateName: 'home',
      lac: '00C3',
      cid: '0001',
      operatorName: 'Telekom.de',
      operatorCode: '26201',
    });
    await phone.network();
    expect(sim.modem.received.filter((c) => c === 'AT+CREG=2')).toHaveLength(1);
  });

  it('signal, battery (ERROR -> undefined), smsc', async () => {
    const { phone } = setup();
    expect(await phone.signal()).toMatchObject({ rssi: 20, dbm: -73, percent: 60 });
    expect(await phone.battery()).toBeUndefined();
    expect(await phone.smsc()).toBe('+491710760000');
  });
});

describe('Phone messages', () => {
  it('memories, selection and status', async () => {
    const { phone } = setup();
    expect(await phone.memories()).toEqual({ read: ['SM'], write: ['SM'], receive: ['SM'] });
    expect(await phone.selectMemory('SM', 'SM')).toEqual([
      { used: 2, total: 30 },
      { used: 2, total: 30 },
      { used: 2, total: 30 },
    ]);
    expect((await phone.memoryStatus())[0]).toEqual({ memory: 'SM', used: 2, total: 30 });
    await expect(phone.selectMemory('S"M')).rejects.toThrow(RangeError);
  });

  it('list, read, delete (transcript flow)', async () => {
    const { sim, phone } = setup();
    const list = await phone.listMessages();
    expect(list.map((m) => [m.index, m.length])).toEqual([
      [1, 42],
      [2, 48],
    ]);
    expect(await phone.readMessage(1)).toEqual({ index: 1, stat: 1, length: 42, pdu: T1 });
    await phone.deleteMessage(1);
    expect(await phone.readMessage(1)).toBeUndefined();
    await phone.deleteMessage(2);
    expect(await phone.listMessages()).toEqual([]);
    sim.extra['AT+CMGL=4'] = '\r\n+CMS ERROR: 321\r\n';
    expect(await phone.listMessages()).toEqual([]);
  });

  it('falls back to bare AT+CMGL when AT+CMGL=4 says ERROR', async () => {
    const { sim, phone } = setup();
    sim.extra['AT+CMGL=4'] = ERROR;
    sim.extra['AT+CMGL'] = info('+CMGL: 1,0,,42', T1);
    expect((await phone.listMessages()).map((m) => m.index)).toEqual([1]);
  });

  it('sendMessage returns the message reference', async () => {
    const { sim, phone } = setup(true);
    expect(await phone.sendMessage(SUBMIT, 15)).toEqual({ mr: 1 });
    expect(await phone.sendMessage(SUBMIT, 15)).toEqual({ mr: 2 });
    expect(sim.modem.received).toEqual(['AT+CMGS=15', `PDU:${SUBMIT}`, 'AT+CMGS=15', `PDU:${SUBMIT}`]);
  });

  it('setNotifications picks 2,1,0,1,0 from the transcript capabilities; override; fast SMS', async () => {
    const { sim, phone } = setup();
    expect(await phone.setNotifications()).toEqual({ command: 'AT+CNMI=2,1,0,1,0', mode: 2, mt: 1, ds: 1 });
    expect(await phone.enableFastSms(true)).toBe(false);
    sim.extra['AT+CMMS=2'] = OK;
    expect(await phone.enableFastSms(true)).toBe(true);

    const o = setup(false, { setCnmi: ',,,2' });
    o.sim.extra['AT+CNMI=2,1,0,2,0'] = OK;
    expect((await o.phone.setNotifications())?.command).toBe('AT+CNMI=2,1,0,2,0');
  });

  it('setNotifications retries with ds=2 when ds=1 is refused', async () => {
    const { sim, phone } = setup();
    sim.extra['AT+CNMI=2,1,0,1,0'] = '\r\n+CMS ERROR: 303\r\n';
    sim.extra['AT+CNMI=2,1,0,2,0'] = OK;
    expect((await phone.setNotifications())?.ds).toBe(2);
  });
});

describe('Phone power', () => {
  it('reboot (AT+CFUN=1,1) closes the channel even when the device vanishes', async () => {
    const { sim, phone } = setup();
    sim.extra['AT+CFUN=1,1'] = OK;
    sim.modem.setScript((cmd) => {
      if (cmd === 'AT+CFUN=1,1') {
        setTimeout(() => sim.modem.vanish(), 5);
        return OK;
      }
      return OK;
    });
    await phone.reboot();
    expect(phone.channel.isClosed).toBe(true);
    await expect(phone.signal()).rejects.toBeInstanceOf(DeviceGoneError);

    const b = setup();
    b.sim.modem.setScript((cmd) => {
      if (cmd === 'AT+CFUN=1,1') {
        b.sim.modem.vanish(); // gone before it could answer
        return null;
      }
      return OK;
    });
    await b.phone.reboot();
    expect(b.phone.channel.isClosed).toBe(true);
  });

  it('setPower', async () => {
    const { sim, phone } = setup();
    await phone.setPower(true);
    expect(sim.modem.received).toEqual(['AT+CFUN=1']);
  });
});

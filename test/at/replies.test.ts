/**
 * Reply parsers against real reply shapes: gammu-smsd's transcript (spec/gammu-at-transcript.txt)
 * and Gammu's test dumps (tests/at-creg, at-creg-corner, at-cpms, at-cnmi, at-smsc).
 */
import { describe, expect, it } from 'vitest';
import { AtCommandError, AtParseError, cmeErrorText, cmsErrorText } from '../../src/lib/at/errors.js';
import {
  chooseCnmi,
  parseCbc,
  parseCmgl,
  parseCmgr,
  parseCmgs,
  parseCnmiOverride,
  parseCnmiSupported,
  parseCops,
  parseCpin,
  parseCpmsStatus,
  parseCpmsSupported,
  parseCreg,
  parseCsca,
  parseCsq,
  parseIdentification,
  parseImei,
  parseImsi,
  parseRange,
  splitFields,
} from '../../src/lib/at/replies.js';
import { classifyLine, commandContext } from '../../src/lib/at/urc.js';

/** A Gammu .dump file body -> the information lines (command echo and final result removed). */
function dump(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim());
  return lines.slice(1).filter((l) => l !== '' && l !== 'OK');
}

describe('field helpers', () => {
  it('splits on top-level commas only', () => {
    expect(splitFields('1,"a,b",(0,1),,3')).toEqual(['1', '"a,b"', '(0,1)', '', '3']);
  });
  it('parses ranges', () => {
    expect(parseRange('(0-2)')).toEqual([0, 1, 2]);
    expect(parseRange('(0,1,3)')).toEqual([0, 1, 3]);
    expect(parseRange('(0-1,3)')).toEqual([0, 1, 3]);
    expect(parseRange('(2)')).toEqual([2]);
    expect(parseRange('0-3')).toEqual([0, 1, 2, 3]);
    expect(parseRange('()')).toEqual([]);
  });
});

describe('identification', () => {
  it('strips prefixes and quotes', () => {
    expect(parseIdentification(['FakeModem Inc.'])).toBe('FakeModem Inc.');
    expect(parseIdentification(['+CGMI: "huawei"'])).toBe('huawei');
    expect(parseIdentification(['+CGMM: E3372'])).toBe('E3372');
    expect(parseIdentification(['Revision: 21.110.99.02.00'])).toBe('21.110.99.02.00');
    expect(parseIdentification(['Manufacturer: QUALCOMM INCORPORATED'])).toBe('QUALCOMM INCORPORATED');
    expect(parseIdentification([])).toBeUndefined();
  });
  it('extracts IMEI and IMSI', () => {
    expect(parseImei(['356938035643809'])).toBe('356938035643809');
    expect(parseImei(['+CGSN: "356938035643809"'])).toBe('356938035643809');
    expect(parseImei(['IMEI: 356938035643809'])).toBe('356938035643809');
    expect(parseImsi(['001010123456789'])).toBe('001010123456789');
    expect(parseImsi(['+CIMI: 262011234567890'])).toBe('262011234567890');
  });
});

describe('AT+CPIN?', () => {
  it('parses states with and without quotes', () => {
    expect(parseCpin(['+CPIN: READY'])).toBe('READY');
    expect(parseCpin(['+CPIN: SIM PIN'])).toBe('SIM PIN');
    expect(parseCpin(['+CPIN: "SIM PUK"'])).toBe('SIM PUK');
    expect(parseCpin(['+CPIN:PH-SIM PIN'])).toBe('PH-SIM PIN');
    expect(parseCpin(['+CPIN: SIM PIN2'])).toBe('SIM PIN2');
    expect(() => parseCpin(['+CPIN: WHATEVER'])).toThrow(AtParseError);
    expect(() => parseCpin([])).toThrow(AtParseError);
  });
});

describe('AT+CREG? (Gammu tests/at-creg, at-creg-corner)', () => {
  it('huawei: unquoted hex LAC/CID', () => {
    expect(parseCreg(dump('AT+CREG?\n+CREG: 2,1,4CA,81DE445\nOK\n'))).toEqual({
      n: 2,
      state: 1,
      stateName: 'home',
      lac: '4CA',
      cid: '81DE445',
    });
  });
  it('none: not registered, no LAC', () => {
    expect(parseCreg(dump('AT+CREG?\n+CREG: 0,0\nOK\n\n'))).toEqual({
      n: 0,
      state: 0,
      stateName: 'not-registered',
    });
  });
  it('siemens: n=0 yet LAC/CID given', () => {
    expect(parseCreg(dump('AT+CREG?\n+CREG: 0,1,"5E25","605F"\nOK\n'))).toMatchObject({
      state: 1,
      lac: '5E25',
      cid: '605F',
    });
  });
  it('sierra/telit: with access technology', () => {
    expect(parseCreg(dump('AT+CREG?\n+CREG: 2,5,"2AF5","0B88E350",2\nOK\n'))).toEqual({
      n: 2,
      state: 5,
      stateName: 'roaming',
      lac: '2AF5',
      cid: '0B88E350',
      act: 2,
    });
    expect(parseCreg(dump('AT+CREG?\n+CREG: 0,1,"5E25","605F",2\nOK\n'))).toMatchObject({ act: 2 });
  });
  it('empty answer (just OK)', () => {
    expect(parseCreg(dump('AT+CREG?\nOK\n\n\n'))).toBeUndefined();
  });
  it('corner cases: empty LAC, mismatched quotes, single quote', () => {
    expect(parseCreg(dump('AT+CREG?\n+CREG: 2,1,"","605F"\nOK\n'))).toEqual({
      n: 2,
      state: 1,
      stateName: 'home',
      cid: '605F',
    });
    expect(parseCreg(dump('AT+CREG?\n+CREG: 2,1,"0B,"0100701",7\nOK\n'))).toMatchObject({
      state: 1,
      lac: '0B',
      cid: '0100701',
      act: 7,
    });
    expect(parseCreg(dump('AT+CREG?\n+CREG: 2,1,"5E25\nOK\n'))).toEqual({
      n: 2,
      state: 1,
      stateName: 'home',
      lac: '5E25',
    });
  });
  it('unsolicited form used as an answer', () => {
    expect(parseCreg(['+CREG: 1,"00C3","0001"'])).toEqual({
      state: 1,
      stateName: 'home',
      lac: '00C3',
      cid: '0001',
    });
    expect(parseCreg(['+CREG: 1'])).toEqual({ state: 1, stateName: 'home' });
  });
});

describe('AT+COPS?', () => {
  it('parses name, code and the unregistered form', () => {
    expect(parseCops(['+COPS: 0,0,"Telekom.de",7'])).toEqual({
      mode: 0,
      format: 0,
      operator: 'Telekom.de',
      act: 7,
    });
    expect(parseCops(['+COPS: 0,2,"26201",2'])).toEqual({ mode: 0, format: 2, operator: '26201', act: 2 });
    expect(parseCops(['+COPS: 0'])).toEqual({ mode: 0 });
  });
});

describe('AT+CSQ', () => {
  it('computes Gammu-style figures', () => {
    expect(parseCsq(['+CSQ: 31,0'])).toEqual({ rssi: 31, ber: 0, dbm: -51, percent: 93, berPercent: 0 });
    expect(parseCsq(['+CSQ: 20,5'])).toEqual({ rssi: 20, ber: 5, dbm: -73, percent: 60, berPercent: 5 });
    expect(parseCsq(['+CSQ: 14,99'])).toMatchObject({ dbm: -85, percent: 42, berPercent: -1 });
    expect(parseCsq(['+CSQ: 99,99'])).toEqual({ rssi: 99, ber: 99, dbm: -1, percent: -1, berPercent: -1 });
    expect(parseCsq(['+CSQ:0,7'])).toMatchObject({ dbm: -113, percent: 0, berPercent: 18 });
  });
});

describe('AT+CBC', () => {
  it('parses 2- and 3-field forms', () => {
    expect(parseCbc(['+CBC: 0,100'])).toEqual({ bcs: 0, percent: 100, chargeState: 'battery-powered' });
    expect(parseCbc(['+CBC: 1,75,4012'])).toEqual({
      bcs: 1,
      percent: 75,
      chargeState: 'battery-connected',
      voltageMv: 4012,
    });
  });
});

describe('AT+CSCA? (Gammu tests/at-smsc)', () => {
  it('01: UCS2 hex without quotes', () => {
    expect(
      parseCsca(dump('AT+CSCA?\n+CSCA: 002B00390037003200350034003100320030003000330032,145\nOK\n')),
    ).toEqual({
      number: '+97254120032',
      type: 145,
    });
  });
  it('02: plain international', () => {
    expect(parseCsca(dump('AT+CSCA?\n+CSCA: "+79168999100",145\nOK\n'))).toEqual({
      number: '+79168999100',
      type: 145,
    });
  });
  it('03: type 145 without +', () => {
    expect(parseCsca(dump('AT+CSCA?\n+CSCA: "6281100000",145\nOK\n'))?.number).toBe('+6281100000');
  });
  it('05: UCS2 hex in quotes', () => {
    expect(
      parseCsca(dump('AT+CSCA?\n+CSCA: "002B003400340037003800300032003000390032003000330035",145\nOK\n'))
        ?.number,
    ).toBe('+447802092035');
  });
  it('without type; transcript shape', () => {
    expect(parseCsca(['+CSCA: "+4917"'])).toEqual({ number: '+4917' });
    expect(parseCsca(['+CSCA: "+491710760000",145'])?.number).toBe('+491710760000');
  });
  it('failing 04: empty number -> undefined; garbage -> error', () => {
    expect(parseCsca(dump('AT+CSCA?\n+CSCA: "",129\nOK\n'))).toBeUndefined();
    expect(() => parseCsca(['+CSCA: "hello",129'])).toThrow(AtParseError);
  });
});

describe('AT+CPMS (Gammu tests/at-cpms and the transcript)', () => {
  it('supported memories', () => {
    expect(parseCpmsSupported(['+CPMS: ("SM"),("SM"),("SM")'])).toEqual({
      read: ['SM'],
      write: ['SM'],
      receive: ['SM'],
    });
    expect(parseCpmsSupported(['+CPMS: ("SM","ME"),("SM","ME"),("SM")'])).toEqual({
      read: ['SM', 'ME'],
      write: ['SM', 'ME'],
      receive: ['SM'],
    });
    expect(
      parseCpmsSupported(dump('AT+CPMS=?\n+CPMS: ("SM","ME"), ("SM","ME"), ("SM","ME")\nOK\n\n')).write,
    ).toEqual(['SM', 'ME']);
    expect(
      parseCpmsSupported(
        dump(
          'AT+CPMS=?\n\n+CPMS: ("SM", "ME", "SM_P", "ME_P", "MT"), ("SM", "ME", "SM_P", "ME_P", "MT"), ("SM", "ME", "SM_P", "ME_P", "MT")\nOK\n',
        ),
      ).read,
    ).toEqual(['SM', 'ME', 'SM_P', 'ME_P', 'MT']);
    expect(
      parseCpmsSupported(['+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM","SR"),("ME","MT","SM","SR")'])
        .receive,
    ).toContain('SR');
    expect(parseCpmsSupported(dump('AT+CPMS=?\n+CPMS: \nOK\n'))).toEqual({
      read: [],
      write: [],
      receive: [],
    });
    expect(parseCpmsSupported(['+CPMS: "SM","ME"'])).toEqual({
      read: ['SM', 'ME'],
      write: ['SM', 'ME'],
      receive: ['SM', 'ME'],
    });
  });
  it('usage after a selection and from a query', () => {
    expect(parseCpmsStatus(['+CPMS: 4,30,4,30,4,30'])).toEqual([
      { used: 4, total: 30 },
      { used: 4, total: 30 },
      { used: 4, total: 30 },
    ]);
    expect(parseCpmsStatus(['+CPMS: 1,20'])).toEqual([{ used: 1, total: 20 }]);
    expect(parseCpmsStatus(['+CPMS: "SM",0,30,"SM",0,30,"SM",0,30'])).toEqual([
      { memory: 'SM', used: 0, total: 30 },
      { memory: 'SM', used: 0, total: 30 },
      { memory: 'SM', used: 0, total: 30 },
    ]);
    expect(parseCpmsStatus(['+CPMS:"SM",3,30,"ME",1,100'])[1]).toEqual({ memory: 'ME', used: 1, total: 100 });
    expect(() => parseCpmsStatus(['+CPMS: nonsense'])).toThrow(AtParseError);
  });
});

const T1 =
  '0791947101670000000D91945111325476F800004250102103000019C8329BFD0699E5EF36888E2E83CCE17519D47E93CB6D';
const T2 =
  '0791947101670000000D91947196999999F90008425010210300001C0047007200FC00DF00650020263A0020041F04400438043204350442';

describe('AT+CMGL / AT+CMGR / AT+CMGS', () => {
  it('parses the transcript listing', () => {
    expect(parseCmgl(['+CMGL: 1,0,,42', T1, '+CMGL: 2,0,,48', T2])).toEqual([
      { index: 1, stat: 0, length: 42, pdu: T1 },
      { index: 2, stat: 0, length: 48, pdu: T2 },
    ]);
  });
  it('tolerates an empty list, blank lines, lowercase, alpha with commas, wrapped and glued PDUs', () => {
    expect(parseCmgl([])).toEqual([]);
    expect(parseCmgl(['', '+CMGL: 0,1,,42', '', T1.toLowerCase(), ''])).toEqual([
      { index: 0, stat: 1, length: 42, pdu: T1 },
    ]);
    expect(parseCmgl(['+CMGL: 3,1,"Doe, John",42', T1])[0]).toMatchObject({ alpha: 'Doe, John', pdu: T1 });
    expect(parseCmgl(['+CMGL: 3,1,42', T1])[0]).toMatchObject({ index: 3, length: 42 });
    expect(parseCmgl(['+CMGL: 4,0,,42', T1.slice(0, 40), T1.slice(40)])[0]?.pdu).toBe(T1);
    expect(parseCmgl(['+CMGL: 1,0,,42', `${T1}+CMGL: 2,0,,48`, T2]).map((m) => m.index)).toEqual([1, 2]);
    expect(parseCmgl(['+CMGL: 1,"REC UNREAD",,42', T1])[0]?.stat).toBe(0);
  });
  it('rejects lines that cannot be part of a PDU listing', () => {
    expect(() => parseCmgl(['+CMGL: x', T1])).toThrow(AtParseError);
    expect(() => parseCmgl(['+CMGL: 1,0,,42', 'Hello world'])).toThrow(AtParseError);
  });
  it('parses AT+CMGR and empty locations', () => {
    expect(parseCmgr(['+CMGR: 1,,42', T1], 1)).toEqual({ index: 1, stat: 1, length: 42, pdu: T1 });
    expect(parseCmgr([], 5)).toBeUndefined();
    expect(parseCmgr(['+CMGR: 0,,0'], 5)).toBeUndefined();
  });
  it('parses the message reference', () => {
    expect(parseCmgs(['+CMGS: 1'])).toBe(1);
    expect(parseCmgs(['+CMGS: 255,"0011"'])).toBe(255);
    expect(() => parseCmgs([])).toThrow(AtParseError);
  });
});

describe('AT+CNMI (Gammu tests/at-cnmi and the transcript)', () => {
  const choose = (line: string, override?: string): number[] | undefined =>
    chooseCnmi(parseCnmiSupported([line]), override === undefined ? [] : parseCnmiOverride(override));
  it('prefers mode 2, mt 1, bm 0, ds 1 (+CDS), bfr 0', () => {
    expect(choose('+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)')).toEqual([2, 1, 0, 1, 0]); // transcript
    expect(choose('+CNMI: (2),(0-1,3),(0,2),(0-1),(0)')).toEqual([2, 1, 0, 1, 0]); // 01
    expect(choose('+CNMI: (0-2),(0,1,3),(0),(0,1),(0,1)')).toEqual([2, 1, 0, 1, 0]); // 02
    expect(choose('+CNMI:(0-3),(0-3),(0-3),(0,1),(0,1)')).toEqual([2, 1, 0, 1, 0]); // 03
  });
  it('falls back: ds 2, mode 1, bfr as offered or absent', () => {
    expect(choose('+CNMI: (0-3),(0,1),(0,2,3),(0,2),(1)')).toEqual([2, 1, 0, 2, 1]); // Cinterion MC75i
    expect(choose('+CNMI: (0,1),(0,1),(0),(0),(0)')).toEqual([1, 1, 0, 0, 0]);
    expect(choose('+CNMI: (0-3),(0,1),(0,2,3),(0,2)')).toEqual([2, 1, 0, 2]);
    expect(choose('+CNMI: (0),(0),(0),(0),(0)')).toBeUndefined();
  });
  it('applies atgen_setCNMI where the modem accepts the value', () => {
    expect(choose('+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)', ',,,2')).toEqual([2, 1, 0, 2, 0]);
    expect(choose('+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)', '1,2,0,0')).toEqual([1, 2, 0, 0, 0]);
    expect(choose('+CNMI: (0-3),(0,1),(0,2,3),(0,2),(1)', ',,,,0')).toEqual([2, 1, 0, 2, 1]); // 0 not offered
    expect(choose('+CNMI: (0-9),(0-9),(0-9),(0-9),(0-9)', '9,8,7,6,5')).toEqual([9, 8, 7, 6, 5]);
    expect(() => parseCnmiOverride('a,b')).toThrow(RangeError);
  });
});

describe('errors', () => {
  it('has texts for common codes', () => {
    expect(cmsErrorText(304)).toBe('invalid PDU mode parameter');
    expect(cmsErrorText(310)).toBe('SIM not inserted');
    expect(cmsErrorText(311)).toBe('SIM PIN required');
    expect(cmsErrorText(316)).toBe('SIM PUK required');
    expect(cmsErrorText(322)).toBe('memory full');
    expect(cmsErrorText(330)).toBe('SMSC address unknown');
    expect(cmsErrorText(500)).toBe('unknown error');
    expect([10, 11, 12, 13, 14, 15, 16].map((c) => cmeErrorText(c))).toEqual([
      'SIM not inserted',
      'SIM PIN required',
      'SIM PUK required',
      'SIM failure',
      'SIM busy',
      'SIM wrong',
      'incorrect password',
    ]);
  });
  it('maps verbose errors back to codes', () => {
    const e = new AtCommandError(
      'AT+CMGS=15',
      'CMS',
      '+CMS ERROR: SMSC address unknown',
      undefined,
      'SMSC address unknown',
    );
    expect(e.cmsCode).toBe(330);
    expect(e.message).toBe('AT+CMGS=15: +CMS ERROR 330 (SMSC address unknown)');
    const n = new AtCommandError('AT+CPIN="1234"', 'CME', '+CME ERROR: 16', 16);
    expect(n.description).toBe('incorrect password');
    expect(n.cmeCode).toBe(16);
  });
});

describe('line classification', () => {
  const none = commandContext(undefined);
  it('knows which lines are unsolicited', () => {
    expect(classifyLine('+CMTI: "ME",12', none)).toMatchObject({
      kind: 'urc',
      urc: { type: 'cmti', memory: 'ME', index: 12 },
    });
    expect(classifyLine('+CDS: 25', none)).toMatchObject({
      kind: 'urc-header',
      header: { type: 'cds', length: 25 },
    });
    expect(classifyLine('+CMT: "",24', none)).toMatchObject({
      kind: 'urc-header',
      header: { type: 'cmt', length: 24 },
    });
    expect(classifyLine('+CMT: "Bob",24', none)).toMatchObject({ header: { alpha: 'Bob' } });
    expect(classifyLine('^RSSI: 17', none)).toEqual({ kind: 'noise' });
    expect(classifyLine('^SYSINFO: 2,3,0,5,1', commandContext('AT^SYSINFO'))).toEqual({ kind: 'response' });
    expect(classifyLine('+CPIN: READY', none)).toEqual({ kind: 'noise' });
    expect(classifyLine('+CPIN: READY', commandContext('AT+CPIN?'))).toEqual({ kind: 'response' });
    expect(classifyLine('+CUSD: 1', commandContext('AT+CUSD?'))).toEqual({ kind: 'response' });
    expect(classifyLine('+CRING: VOICE', none)).toMatchObject({ urc: { type: 'ring', callType: 'VOICE' } });
    expect(classifyLine('SMS Ready', none)).toEqual({ kind: 'noise' });
    expect(classifyLine('+CMGL: 1,0,,42', commandContext('AT+CMGL=4'))).toEqual({ kind: 'response' });
  });
  it('names commands', () => {
    expect(commandContext('AT+CPMS="SM"')).toEqual({ name: '+CPMS', query: false });
    expect(commandContext('AT+CNMI=?')).toEqual({ name: '+CNMI', query: true });
    expect(commandContext('ATE0')).toEqual({ name: 'E', query: false });
    expect(commandContext('ATD+123;')).toEqual({ name: 'D', query: false });
    expect(commandContext('AT')).toEqual({ name: undefined, query: false });
  });
});

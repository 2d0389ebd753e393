import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as replies from '../../src/lib/at/replies.js';
import { AtParseError } from '../../src/lib/at/errors.js';
import { classifyLine, commandContext } from '../../src/lib/at/urc.js';
import { ModemEmulator } from '../../src/lib/emulator/index.js';
import { AtHost } from '../emulator/harness.js';
import { onlyThrows, params, timed } from './props.js';

// The AT side: the reply parsers of src/lib/at (what a real modem, or a broken one, prints) and the
// emulator's command parser (what a host, or line noise, types). Parsers throw only AtParseError; the
// emulator never fails and still answers AT with OK after any input.

const REPLY_FRAGMENTS = [
  '+CMGL: ',
  '+CMGR: ',
  '+CMGS: ',
  '+CSQ: ',
  '+CBC: ',
  '+CREG: ',
  '+CGREG: ',
  '+COPS: ',
  '+CPIN: ',
  '+CSCA: ',
  '+CPMS: ',
  '+CNMI: ',
  '+CUSD: ',
  '+CMS ERROR: ',
  'READY',
  'SIM PIN',
  '"SM"',
  '"ME"',
  '"+420123"',
  '"',
  ',',
  ',,',
  '(',
  ')',
  '(0-3)',
  '(0,1,2)',
  '-',
  '0',
  '1',
  '2',
  '5',
  '99',
  '145',
  '255',
  '65536',
  '-1',
  '07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07',
  'FF',
  'zz',
  ' ',
  ':',
  '^RSSI:',
  'OK',
  'ERROR',
];
const line = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...REPLY_FRAGMENTS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    ),
    { maxLength: 10 },
  )
  .map((p) => p.join(''));
const lines = fc.array(line, { maxLength: 6 });

type LinesParser = (l: readonly string[]) => unknown;
const LINE_PARSERS: Record<string, LinesParser> = {
  parseIdentification: replies.parseIdentification,
  parseImei: replies.parseImei,
  parseImsi: replies.parseImsi,
  parseCpin: replies.parseCpin,
  parseCreg: (l) => replies.parseCreg(l),
  parseCgreg: (l) => replies.parseCreg(l, '+CGREG'),
  parseCops: replies.parseCops,
  parseCsq: replies.parseCsq,
  parseCbc: replies.parseCbc,
  parseCsca: replies.parseCsca,
  parseCpmsSupported: replies.parseCpmsSupported,
  parseCpmsStatus: (l) => replies.parseCpmsStatus(l),
  parseCmgl: replies.parseCmgl,
  parseCmgr: (l) => replies.parseCmgr(l, 1),
  parseCmgs: replies.parseCmgs,
  parseCnmiSupported: replies.parseCnmiSupported,
};

describe('AT reply parsers: only AtParseError', () => {
  it.each(Object.keys(LINE_PARSERS))('%s', (name) => {
    const parse = LINE_PARSERS[name] as LinesParser;
    fc.assert(
      fc.property(lines, (l) => {
        onlyThrows(() => parse(l), [AtParseError]);
      }),
      params(400),
    );
  });

  it('single-string helpers and the URC classifier never throw', () => {
    fc.assert(
      fc.property(line, fc.option(line, { nil: undefined }), (s, cmd) => {
        replies.splitFields(s);
        replies.unquote(s);
        replies.parseRange(s);
        replies.parseRegistrationBody(s);
        replies.parseCusdBody(s);
        classifyLine(s, commandContext(cmd === undefined ? undefined : `AT${cmd}`));
      }),
      params(2000),
    );
  });

  it('parseCnmiOverride (a config value) throws only RangeError, naming the value', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123,x -'), maxLength: 14 }), (s) => {
        const r = onlyThrows(() => replies.parseCnmiOverride(s), [RangeError]);
        if (r instanceof Error) expect(r.message).toContain('atgen_setCNMI');
      }),
      params(1000),
    );
  });

  it('bounded time on long hostile lines', () => {
    const long = `+CMGL: ${'1,'.repeat(100_000)}`;
    expect(timed(() => onlyThrows(() => replies.parseCmgl([long]), [AtParseError]))).toBeLessThan(1000);
    const quotes = `+COPS: 0,0,"${'",'.repeat(100_000)}`;
    expect(timed(() => onlyThrows(() => replies.parseCops([quotes]), [AtParseError]))).toBeLessThan(1000);
    const range = `(${'0-1,'.repeat(100_000)})`;
    expect(timed(() => replies.parseRange(range))).toBeLessThan(1000);
    const glued = `${'+CMGL: 1,0,,5'.repeat(20_000)}`;
    expect(timed(() => onlyThrows(() => replies.parseCmgl([glued]), [AtParseError]))).toBeLessThan(1000);
  });
});

const COMMAND_FRAGMENTS = [
  'AT',
  'at',
  'ATE0',
  'ATE1',
  'ATZ',
  'AT&F',
  '+CMGF=0',
  '+CMGF=1',
  '+CMGS=',
  '+CMGS=23',
  '+CMGR=',
  '+CMGL=4',
  '+CMGD=1',
  '+CMGD=1,4',
  '+CPMS="SM","SM","SM"',
  '+CPMS=?',
  '+CPMS?',
  '+CNMI=2,1,0,2,0',
  '+CSCA="+420"',
  '+CSCA?',
  '+CSQ',
  '+CREG?',
  '+COPS=?',
  '+CUSD=1,"*100#",15',
  '+CSCS="UCS2"',
  '+CNMA',
  '+CLIP=1',
  '=?',
  '?',
  '=',
  ',',
  '"',
  ';',
  '0',
  '1',
  '255',
  '-1',
  '99999999999',
  '\r',
  '\r',
  '\n',
  '\x1a',
  '\x1b',
  '\b',
  '\0',
  '0011000B911326880736F40000A70AE8329BFD4697D9EC37',
  '07911326040000F0',
];
const hostInput = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...COMMAND_FRAGMENTS) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
    ),
    { maxLength: 40 },
  )
  .map((p) => p.join(''));

const modems: ModemEmulator[] = [];
afterEach(() => {
  for (const m of modems.splice(0)) m.dispose();
});

/** ESC leaves a pending CMGS prompt, CR ends a half line; once their answers are out, AT is asked. */
async function settled(host: AtHost): Promise<string> {
  host.write('\x1b\r');
  await host.quiet(5);
  return host.raw('AT', 2000);
}

describe("emulator's AT command parser", () => {
  it('any input: no handler fails, and AT still gets OK afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(hostInput, fc.boolean(), async (input, pin) => {
        const failures: string[] = [];
        const modem = new ModemEmulator({
          seed: 7,
          pin: pin ? '1234' : null,
          log: (l) => {
            if (l.startsWith('handler failed')) failures.push(l);
          },
        });
        modems.push(modem);
        const host = new AtHost(modem);
        host.write(input);
        expect(await settled(host)).toMatch(/\r\nOK\r\n$/);
        expect(failures).toEqual([]);
        modem.dispose();
      }),
      params(300),
    );
  });

  it('a flood without CR, or a PDU without Ctrl-Z, is bounded', async () => {
    const modem = new ModemEmulator({ seed: 1 });
    modems.push(modem);
    const host = new AtHost(modem);
    for (let i = 0; i < 200; i++) host.write('A'.repeat(10_000));
    expect(await settled(host)).toMatch(/\r\nOK\r\n$/);
    expect(await host.cmd('AT+CMGS=10')).toBe('\r\n> ');
    for (let i = 0; i < 200; i++) host.write('0'.repeat(10_000));
    expect(await settled(host)).toMatch(/\r\nOK\r\n$/);
    expect(host.buf).toMatch(/> 0+\r\nERROR\r\n/); // CMEE 0: a plain ERROR for +CMS ERROR: 304
  });
});

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ModemEmulator } from '../../src/lib/emulator/index.js';
import { AtHost } from './harness.js';

/**
 * Replays what real gammu-smsd 1.42 sent to a modem (spec/gammu-at-transcript.txt, copied into
 * fixtures) against the emulator configured like the transcript's modem, and expects the same bytes
 * back, apart from the commands the transcript's fake modem did not know and real modems do.
 */
const TRANSCRIPT = readFileSync(new URL('./fixtures/gammu-at-transcript.txt', import.meta.url), 'utf8');

/** Commands the emulator implements where the transcript's fake modem answered ERROR. */
const DEVIATIONS: Record<string, string> = {
  'AT+CHUP=?': '\r\nOK\r\n',
  'AT+CMMS=2': '\r\nOK\r\n',
  'AT+CMMS=0': '\r\nOK\r\n',
};

interface Step {
  dir: '>>' | '<<';
  text: string;
}

function unescape(s: string): string {
  return s.replace(/\\r/g, '\r').replace(/\\n/g, '\n');
}

function parse(): Step[] {
  const steps: Step[] = [];
  for (const line of TRANSCRIPT.split('\n')) {
    const m = /^\s*[\d.]+ (>>|<<) ?(.*)$/.exec(line);
    if (m) steps.push({ dir: m[1] as '>>' | '<<', text: m[2] ?? '' });
  }
  return steps;
}

/** The four PDUs the transcript's SIM was preloaded with: the first AT+CMGL=4 answer. */
function preloaded(steps: Step[]): string[] {
  const i = steps.findIndex((s) => s.dir === '>>' && s.text === 'AT+CMGL=4');
  const reply = unescape(steps[i + 1]?.text ?? '');
  return reply.split('\r\n').filter((l) => /^[0-9A-F]{20,}$/.test(l));
}

let modem: ModemEmulator | undefined;
afterEach(() => modem?.dispose());

describe('gammu-smsd transcript replay', () => {
  it('answers every command of the transcript byte for byte', async () => {
    const steps = parse();
    const preload = preloaded(steps);
    expect(preload).toHaveLength(4);
    // The message that arrives during the AT+CMGS prompt, read back later by AT+CMGL.
    const lateCmgl = steps.filter((s) => s.dir === '<<' && s.text.includes('+CMGL: 1,0,,36'))[0];
    const late = unescape(lateCmgl?.text ?? '')
      .split('\r\n')
      .find((l) => /^[0-9A-F]{20,}$/.test(l));
    expect(late).toBeDefined();

    modem = new ModemEmulator({
      manufacturer: 'FakeModem Inc.',
      model: 'FAKE-1',
      revision: '1.0.0',
      imei: '356938035643809',
      imsi: '001010123456789',
      smsc: '+491710760000',
      memories: ['SM'],
      // The transcript's fake modem had no USSD (AT+CUSD=1 -> ERROR).
      ussd: false,
      preload,
      seed: 1,
    });
    const host = new AtHost(modem);
    let checked = 0;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as Step;
      if (step.dir === '<<') {
        // An unsolicited result code not caused by a command: the network delivers a message.
        expect(step.text).toMatch(/^\\r\\n\+CMTI:/);
        const mark = host.buf.length;
        modem.deliver(late as string);
        expect(await host.until(mark, (s) => s.length >= unescape(step.text).length)).toBe(
          unescape(step.text),
        );
        continue;
      }
      const next = steps[i + 1];
      const expected = next?.dir === '<<' && !next.text.includes('+CMTI') ? unescape(next.text) : '';
      if (expected) i++;
      if (step.text === '\x1b') {
        // Gammu's ESC CR (escape a pending prompt): no answer.
        host.write('\x1b\r');
        expect(await host.quiet(20)).toBe('');
        continue;
      }
      if (step.text.endsWith('<CTRL-Z>')) {
        const pdu = step.text.slice(0, -'<CTRL-Z>'.length);
        const mark = host.buf.length;
        host.write(`${pdu}\x1a`);
        const got = await host.until(mark, (s) => s.endsWith('OK\r\n'));
        expect(got).toBe(pdu + expected);
        checked++;
        continue;
      }
      const got = await host.cmd(step.text);
      expect({ cmd: step.text, got }).toEqual({ cmd: step.text, got: DEVIATIONS[step.text] ?? expected });
      checked++;
    }
    expect(checked).toBe(steps.filter((s) => s.dir === '>>' && s.text !== '\x1b').length);
    expect(modem.sent).toHaveLength(1);
    expect(modem.sent[0]).toMatchObject({ mr: 1, number: '+123456', text: 'hi 1', announcedLength: 15 });
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSpool, runSmsd, listFiles, type TempSpool } from '../helpers/spool.js';

/**
 * Byte comparison with the real gammu-smsd-inject (Debian's gammu-smsd): the same config, the same
 * arguments, and the files must be identical apart from the time of injection (file name stamp,
 * DateTime line, and the concatenation reference that Gammu derives from the clock) and the
 * free-text comment lines.
 */

const GAMMU = 'gammu-smsd-inject';
const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(9).slice(0, 400);

const cases: { name: string; args: string[]; config?: string; input?: string }[] = [
  { name: 'plain ASCII', args: ['TEXT', '+420123456789', '-text', 'All your base are belong to us'] },
  { name: 'GSM extension characters', args: ['TEXT', '+420123456789', '-text', 'x{}[]~^|€\\y'] },
  {
    name: 'UCS-2 accents, Cyrillic, emoji',
    args: ['TEXT', '+420123456789', '-unicode', '-text', 'Zoë Привет 😀'],
  },
  { name: 'default coding keeps non-GSM text', args: ['TEXT', '+420123456789', '-text', 'Zoë Привет 😀'] },
  { name: '-len 400', args: ['TEXT', '+420123456789', '-text', LONG, '-len', '400'] },
  { name: '-autolen 400', args: ['TEXT', '+420123456789', '-text', LONG, '-autolen', '400'] },
  {
    name: '-autolen 400 -16bit',
    args: ['TEXT', '+420123456789', '-text', LONG, '-autolen', '400', '-16bit'],
  },
  {
    name: '-autolen with unicode text',
    args: ['TEXT', '+420123456789', '-textutf8', `Ελληνικά ${LONG}`, '-autolen', '400'],
  },
  {
    name: 'escape at a part boundary',
    args: ['TEXT', '+420123456789', '-text', `${'a'.repeat(152)}{${'b'.repeat(10)}`, '-len', '400'],
  },
  { name: 'truncation to one message', args: ['TEXT', '+420123456789', '-text', `${'a'.repeat(159)}{`] },
  { name: '-flash', args: ['TEXT', '+420123456789', '-text', 'flash!', '-flash'] },
  { name: '-report', args: ['TEXT', '+420123456789', '-text', 'report me', '-report'] },
  { name: '-validity DAY', args: ['TEXT', '+420123456789', '-text', 'valid a day', '-validity', 'DAY'] },
  {
    name: '-smscnumber',
    args: ['TEXT', '+420123456789', '-text', 'via smsc', '-smscnumber', '+420603052000'],
  },
  { name: 'newlines in text', args: ['TEXT', '123456', '-text', 'line1\nline2\r\nline3'] },
  { name: 'empty text', args: ['TEXT', '123456', '-text', ''] },
  { name: 'national number, star', args: ['TEXT', '*100#', '-text', 'code'] },
  { name: 'USSD', args: ['USSD', '*101#'] },
  { name: 'WAPINDICATOR', args: ['WAPINDICATOR', '+420123456789', 'http://example.com/x', 'Title here'] },
  {
    name: 'WAPINDICATOR long',
    args: ['WAPINDICATOR', '123', `http://example.com/${'x'.repeat(150)}`, 'Tïtle'],
  },
  {
    name: 'MMSINDICATOR',
    args: ['MMSINDICATOR', '+420123456789', 'http://mms.example.com/m1', 'Pic', '+4477'],
  },
  // Gammu prints `N / M` for -len/-autolen with M the bytes of -text read BEFORE that option.
  { name: '-len before -text', args: ['TEXT', '+420123456789', '-len', '400', '-text', LONG] },
  { name: '-autolen before -text', args: ['TEXT', '+420123456789', '-autolen', '400', '-text', 'hi'] },
  {
    name: '-text, -autolen, -text again',
    args: ['TEXT', '+420123456789', '-text', 'Zoë', '-autolen', '400', '-text', 'abcdefghij'],
  },
  {
    name: '-len 3 before -text: not cut',
    args: ['TEXT', '+420123456789', '-len', '3', '-text', 'hello world'],
  },
  { name: '-len shorter than -text', args: ['TEXT', '+420123456789', '-text', 'hello world', '-len', '5'] },
  {
    name: '-autolen, text from stdin',
    args: ['TEXT', '+420123456789', '-autolen', '400'],
    input: 'stdin text\n',
  },
  { name: '-len, text from stdin', args: ['TEXT', '+420123456789', '-len', '3'], input: 'from stdin' },
  {
    name: 'OutboxFormat unicode',
    args: ['TEXT', '+420123456789', '-text', LONG, '-len', '400'],
    config: 'outboxformat = unicode\n',
  },
  {
    name: 'OutboxFormat standard',
    args: ['TEXT', '+420123456789', '-text', 'Zoë Привет 😀'],
    config: 'outboxformat = standard\n',
  },
];

/** Blank out what depends on the moment of injection; drop comment lines. */
function normalise(name: string, content: Buffer): string {
  const text = content.toString('latin1');
  const lines = text.split('\n').filter((l) => !l.startsWith(';'));
  return (
    name.replace(/^OUTC\d{8}_\d{6}_/, 'OUTC<stamp>_') +
    '\n' +
    lines
      .join('\n')
      .replace(/DateTime = \d{8}T\d{6}Z?/g, 'DateTime = <now>')
      .replace(/UDH = 050003[0-9A-F]{2}/g, 'UDH = 050003RR')
      .replace(/UDH = 060804[0-9A-F]{4}/g, 'UDH = 060804RRRR')
      .replace(/UDH = 0B05040B8423F00003[0-9A-F]{2}/g, 'UDH = 0B05040B8423F00003RR')
  );
}

function outboxSnapshot(spool: TempSpool): string[] {
  return listFiles(spool.outbox).map((n) => normalise(n, fs.readFileSync(path.join(spool.outbox, n))));
}

const haveGammu = spawnSync(GAMMU, ['-v'], { encoding: 'utf8' }).status !== null;

describe.runIf(haveGammu || process.env.CI)(
  'files written by smsd inject and by gammu-smsd-inject are identical',
  () => {
    const spools: TempSpool[] = [];
    afterAll(() => spools.forEach((s) => s.cleanup()));

    it.each(cases)('$name', ({ args, config, input }) => {
      const ours = makeSpool(config);
      const theirs = makeSpool(config);
      spools.push(ours, theirs);
      const env = { TZ: 'UTC' };
      const g = spawnSync(GAMMU, ['-c', theirs.config, ...args], {
        encoding: 'utf8',
        input: input ?? '',
        env: { ...process.env, ...env },
      });
      expect(g.status, g.stdout + g.stderr).toBe(0);
      const r = runSmsd(['inject', '-c', ours.config, ...args], { env, input: input ?? '' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // Same stdout apart from the folder (and the time in the name).
      const strip = (s: string, dir: string) =>
        s.replaceAll(dir, '<outbox>').replace(/OUTC\d{8}_\d{6}_/g, 'OUTC<stamp>_');
      expect(strip(r.stdout, ours.outbox)).toBe(strip(g.stdout, theirs.outbox));
      expect(outboxSnapshot(ours)).toEqual(outboxSnapshot(theirs));
    });

    it('uses local time without Z outside UTC, like Gammu', () => {
      const ours = makeSpool();
      const theirs = makeSpool();
      spools.push(ours, theirs);
      const env = { TZ: 'Europe/Prague' };
      spawnSync(GAMMU, ['-c', theirs.config, 'TEXT', '123', '-text', 'tz'], {
        env: { ...process.env, ...env },
      });
      runSmsd(['inject', '-c', ours.config, 'TEXT', '123', '-text', 'tz'], { env });
      const [o] = listFiles(ours.outbox);
      const [t] = listFiles(theirs.outbox);
      const dt = (dir: string, n: string | undefined) =>
        /DateTime = (\d{8}T\d{6}Z?)/.exec(fs.readFileSync(path.join(dir, n ?? ''), 'latin1'))?.[1];
      expect(dt(ours.outbox, o)).toMatch(/^\d{8}T\d{6}$/);
      expect(dt(theirs.outbox, t)).toMatch(/^\d{8}T\d{6}$/);
    });
  },
);

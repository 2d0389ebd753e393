import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSpool, runSmsd, listFiles, type TempSpool } from '../helpers/spool.js';

/** Every bad input: a clear message, Gammu's exit code, and nothing left in the outbox. */
describe('smsd inject rejects bad input', () => {
  let spool: TempSpool;
  afterEach(() => spool.cleanup());

  const cases: { name: string; args: (s: TempSpool) => string[]; code: number; message: RegExp }[] = [
    {
      name: 'unknown option',
      args: (s) => ['-x', '-c', s.config, 'TEXT', '123'],
      code: 1,
      message: /unknown option "-x"[\s\S]*Invalid parameter, use -h for help/,
    },
    {
      name: 'unknown message parameter',
      args: (s) => ['-c', s.config, 'TEXT', '123', '-bogus'],
      code: 255,
      message: /Unknown parameter \("-bogus"\)/,
    },
    {
      name: 'missing number',
      args: (s) => ['-c', s.config, 'TEXT'],
      code: 255,
      message: /Not enough parameters!/,
    },
    {
      name: 'missing parameter value',
      args: (s) => ['-c', s.config, 'TEXT', '123', '-text'],
      code: 255,
      message: /Parameter missing!/,
    },
    {
      name: 'not a phone number nor a sender name',
      args: (s) => ['-c', s.config, 'TEXT', 'hello world!!', '-text', 'x'],
      code: 255,
      message: /"hello world!!" is neither a phone number .* nor an alphanumeric sender/,
    },
    {
      name: 'letters mixed in a number',
      args: (s) => ['-c', s.config, 'TEXT', '+12ab', '-text', 'x'],
      code: 255,
      message: /"\+12ab" is neither a phone number/,
    },
    {
      name: 'unknown validity',
      args: (s) => ['-c', s.config, 'TEXT', '123', '-text', 'x', '-validity', 'FORTNIGHT'],
      code: 255,
      message: /Unknown validity string \("FORTNIGHT"\); use HOUR, 6HOURS, DAY, 3DAYS, WEEK or MAX/,
    },
    {
      name: 'bad length',
      args: (s) => ['-c', s.config, 'TEXT', '123', '-text', 'x', '-len', '-3'],
      code: 255,
      message: /Wrong message length \("-3"\)/,
    },
    {
      name: 'too many parts for -maxsms',
      args: (s) => ['-c', s.config, 'TEXT', '123', '-text', 'x'.repeat(400), '-len', '400', '-maxsms', '2'],
      code: 1,
      message: /There are 3 SMS messages packed and the limit is 2\. Exiting/,
    },
    {
      name: 'unsupported message type',
      args: (s) => ['-c', s.config, 'RINGTONE', '123', 'file'],
      code: 255,
      message: /What format of sms \("RINGTONE"\) \? Supported: TEXT, USSD, WAPINDICATOR, MMSINDICATOR/,
    },
    {
      name: 'unreadable config',
      args: (s) => ['-c', path.join(s.dir, 'nope.rc'), 'TEXT', '123', '-text', 'x'],
      code: 2,
      message: /Failed to read config: .*nope\.rc/,
    },
    {
      name: 'bad config value',
      args: (s) => {
        fs.appendFileSync(s.config, 'outboxformat = fancy\n');
        return ['-c', s.config, 'TEXT', '123', '-text', 'x'];
      },
      code: 2,
      message:
        /Failed to read config: .*OutboxFormat = "fancy" is not valid; use detail, unicode or standard/i,
    },
    {
      name: 'missing outbox',
      args: (s) => {
        fs.rmSync(s.outbox, { recursive: true });
        return ['-c', s.config, 'TEXT', '123', '-text', 'x'];
      },
      code: 3,
      message: /Failed to inject message: outbox .* does not exist/,
    },
    {
      name: 'outbox that is a file',
      args: (s) => {
        fs.rmSync(s.outbox, { recursive: true });
        fs.writeFileSync(s.outbox, '');
        return ['-c', s.config, 'TEXT', '123', '-text', 'x'];
      },
      code: 3,
      message: /Failed to inject message: outbox .* is not a directory/,
    },
  ];

  it.each(cases)('$name', ({ args, code, message }) => {
    spool = makeSpool();
    const r = runSmsd(['inject', ...args(spool)]);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/Written message/);
    expect(r.status).toBe(code);
    if (fs.existsSync(spool.outbox) && fs.statSync(spool.outbox).isDirectory())
      expect(fs.readdirSync(spool.outbox)).toEqual([]);
  });

  it('refuses an unwritable outbox (as a non-root user)', () => {
    spool = makeSpool();
    fs.chmodSync(spool.outbox, 0o555);
    fs.chmodSync(spool.dir, 0o755);
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const r = runSmsdAs(uid, ['inject', '-c', spool.config, 'TEXT', '123', '-text', 'x']);
    expect(r.stderr).toMatch(/Failed to inject message: outbox .* is not writable \(EACCES\)/);
    expect(r.status).toBe(3);
    expect(listFiles(spool.outbox)).toEqual([]);
  });

  it('warns about an unknown config key with file and line, and still queues', () => {
    spool = makeSpool('OutboxFromat = detail\n');
    const r = runSmsd(['inject', '-c', spool.config, 'TEXT', '123', '-text', 'x']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/smsdrc:1\d: .*OutboxFromat.*OutboxFormat/);
    expect(listFiles(spool.outbox)).toHaveLength(1);
  });
});

import { spawnSync } from 'node:child_process';
import { SMSD_BIN } from '../helpers/spool.js';

function runSmsdAs(uid: number | undefined, args: string[]) {
  return spawnSync(process.execPath, [SMSD_BIN, ...args], { encoding: 'utf8', uid, gid: uid, input: '' });
}

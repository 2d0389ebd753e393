import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/config/errors.js';
import { editDistance, suggest } from '../../src/lib/config/suggest.js';
import {
  FALSE_WORDS,
  parseBool,
  parseEnum,
  parseInteger,
  resolveConfigPath,
  TRUE_WORDS,
} from '../../src/lib/config/values.js';

const src = (value: string, rawKey = 'CheckSecurity') => ({ file: 'smsdrc', line: 7, rawKey, value });

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseBool', () => {
  it("accepts Gammu's words in any case", () => {
    for (const w of TRUE_WORDS) {
      expect(parseBool(src(w))).toBe(true);
      expect(parseBool(src(w.toUpperCase()))).toBe(true);
    }
    for (const w of FALSE_WORDS) {
      expect(parseBool(src(w))).toBe(false);
      expect(parseBool(src(w.toUpperCase()))).toBe(false);
    }
    expect(parseBool(src('Yes'))).toBe(true);
  });

  it('rejects any other word (Gammu silently keeps the default; we do not)', () => {
    // gammu-smsd 1.42 logs CheckSecurity=1 for "on", "2" and "enabled": the default, silently.
    for (const word of ['on', 'off', '2', 'enabled', '']) {
      const err = errorOf(() => parseBool(src(word)));
      expect(err).toMatchObject({ file: 'smsdrc', line: 7, key: 'CheckSecurity', value: word });
      expect(err.allowed).toEqual([...TRUE_WORDS, ...FALSE_WORDS]);
    }
    expect(errorOf(() => parseBool(src('on'))).message).toBe(
      'smsdrc:7: CheckSecurity = "on" is not valid; use true, yes, y, t or 1 to enable, ' +
        'or false, no, f, n or 0 to disable (Gammu would silently keep the default)',
    );
  });
});

describe('parseInteger', () => {
  it('accepts whole numbers with an optional sign', () => {
    expect(parseInteger(src('30'))).toBe(30);
    expect(parseInteger(src('+7'))).toBe(7);
    expect(parseInteger(src('-5'))).toBe(-5);
    expect(parseInteger(src('007'))).toBe(7);
  });

  it('rejects what atoi() would turn into a surprise', () => {
    // Gammu: "12abc" -> 12, "abc" -> 0, "0x10" -> 0, "1e3" -> 1 (seen in gammu-smsd 1.42's log).
    for (const v of ['12abc', 'abc', '0x10', '1e3', '1.5', '', '99999999999']) {
      expect(() => parseInteger(src(v, 'CommTimeout'))).toThrow(ConfigError);
    }
    expect(
      errorOf(() => parseInteger(src('12abc', 'CommTimeout'), { min: 0, unit: 'seconds' })).message,
    ).toBe('smsdrc:7: CommTimeout = "12abc" is not valid; use a whole number of seconds, 0 or more');
  });

  it('enforces a minimum', () => {
    expect(() => parseInteger(src('-1', 'LoopSleep'), { min: 0 })).toThrow('use a whole number, 0 or more');
    expect(parseInteger(src('0', 'LoopSleep'), { min: 0 })).toBe(0);
  });
});

describe('parseEnum', () => {
  it('matches case-insensitively and returns the canonical spelling', () => {
    expect(parseEnum(src('LOG', 'DeliveryReport'), ['no', 'log', 'sms'] as const)).toBe('log');
  });

  it('names key, value and the allowed words', () => {
    const err = errorOf(() => parseEnum(src('maybe', 'DeliveryReport'), ['no', 'log', 'sms']));
    expect(err.message).toBe('smsdrc:7: DeliveryReport = "maybe" is not valid; use no, log or sms');
    expect(err).toMatchObject({ key: 'DeliveryReport', value: 'maybe', allowed: ['no', 'log', 'sms'] });
  });
});

describe('resolveConfigPath', () => {
  it('gives the same path with or without a trailing slash, keeping what was written', () => {
    const a = resolveConfigPath('/var/spool/gammu/inbox/', '/cwd', 3);
    const b = resolveConfigPath('/var/spool/gammu/inbox', '/cwd', 3);
    expect(a.path).toBe('/var/spool/gammu/inbox');
    expect(b.path).toBe(a.path);
    expect(a.raw).toBe('/var/spool/gammu/inbox/');
    expect(path.join(a.path, 'IN1.txt')).toBe('/var/spool/gammu/inbox/IN1.txt');
  });

  it('resolves relative paths against the working directory; empty means the working directory', () => {
    expect(resolveConfigPath('out/', '/run/here').path).toBe('/run/here/out');
    expect(resolveConfigPath('', '/run/here')).toEqual({ path: '/run/here', raw: '', line: undefined });
  });
});

describe('suggest', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('DeliveryReprot', 'deliveryreport')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('', 'ab')).toBe(2);
  });

  it('finds near misses but not far ones, and is careful with short names', () => {
    expect(suggest('commtimout', ['CommTimeout', 'SendTimeout'])).toBe('CommTimeout');
    expect(suggest('hots', ['Host', 'PC'])).toBe('Host');
    expect(suggest('xy', ['PC'])).toBeUndefined();
    expect(suggest('completely', ['CommTimeout'])).toBeUndefined();
  });
});

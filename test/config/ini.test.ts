import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/config/errors.js';
import { parseIni } from '../../src/lib/config/ini.js';

function parse(text: string, options = {}) {
  return parseIni(text, 'smsdrc', options);
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseIni: Gammu INI dialect', () => {
  it('reads sections and entries with line numbers; names are case-insensitive, spelling kept', () => {
    const { document: doc, warnings } = parse('[Gammu]\nDevice = /dev/ttyACM0\n\n[SMSD]\nSERVICE = files\n');
    expect(warnings).toEqual([]);
    expect(doc.sections.map((s) => [s.name, s.rawName, s.line])).toEqual([
      ['gammu', 'Gammu', 1],
      ['smsd', 'SMSD', 4],
    ]);
    expect(doc.get('smsd', 'Service')).toEqual({
      key: 'service',
      rawKey: 'SERVICE',
      value: 'files',
      line: 5,
    });
    expect(doc.value('GAMMU', 'device')).toBe('/dev/ttyACM0');
    expect(doc.value('smsd', 'nothing')).toBeUndefined();
  });

  it('accepts LF, CRLF and lone CR line ends and counts lines the same way', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const { document: doc } = parse(['[smsd]', '; c', 'a = 1', 'b = 2'].join(eol) + eol);
      expect(doc.get('smsd', 'b')).toMatchObject({ value: '2', line: 4 });
    }
  });

  it('ignores a UTF-8 BOM', () => {
    expect(parse('\uFEFF[smsd]\nx = 1\n').document.value('smsd', 'x')).toBe('1');
  });

  it('treats ; and # as comments only at the start of a line (after blanks)', () => {
    const { document: doc } = parse(
      '[smsd]\n; a = 1\n  # b = 2\n\t; c = 3\nd = /x/ ; not a comment\ne = a#b\n',
    );
    expect(doc.section('smsd')?.entries.map((e) => e.key)).toEqual(['d', 'e']);
    expect(doc.value('smsd', 'd')).toBe('/x/ ; not a comment');
    expect(doc.value('smsd', 'e')).toBe('a#b');
  });

  it('strips spaces and tabs around keys and values, keeps inner ones and quotes verbatim', () => {
    const { document: doc } = parse(
      '[smsd]\n\tOutbox Path\t=\t /a b/ \t\nservice=\t"files"\npassword = x=y\n  user   =   me  \n',
    );
    expect(doc.get('smsd', 'outbox path')).toMatchObject({ rawKey: 'Outbox Path', value: '/a b/' });
    expect(doc.value('smsd', 'service')).toBe('"files"');
    expect(doc.value('smsd', 'password')).toBe('x=y');
    expect(doc.value('smsd', 'user')).toBe('me');
  });

  it('takes section names verbatim: [ smsd ] is not [smsd]', () => {
    const { document: doc } = parse('[ smsd ]\nservice = files\n');
    expect(doc.has('smsd')).toBe(false);
    expect(doc.value(' smsd ', 'service')).toBe('files');
  });

  it('treats "key =" as unset, without clearing an earlier value', () => {
    const { document: doc, warnings } = parse('[smsd]\na =\nb = 1\nb =   \n');
    expect(doc.get('smsd', 'a')).toBeUndefined();
    expect(doc.section('smsd')?.entries.find((e) => e.key === 'a')).toMatchObject({ value: '', line: 2 });
    expect(doc.value('smsd', 'b')).toBe('1');
    expect(warnings.map((w) => w.message)).toEqual([
      'smsdrc:4: b is empty and Gammu ignores empty values; the value from line 3 stays',
    ]);
  });

  it('lets the last duplicate key win, with a warning naming both lines', () => {
    const { document: doc, warnings } = parse('[smsd]\nOutboxPath = /a/\noutboxpath = /b/\n');
    expect(doc.get('smsd', 'outboxpath')).toMatchObject({ value: '/b/', line: 3 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: 3, key: 'outboxpath', section: 'smsd' });
    expect(warnings[0]?.message).toBe(
      'smsdrc:3: outboxpath is set again (first at line 2); the value on this line is used',
    );
  });

  it('reads a key from the first instance of a repeated section that sets it (as Gammu)', () => {
    const { document: doc, warnings } = parse('[smsd]\na = 1\n[gammu]\n[smsd]\na = 2\nb = 3\n');
    expect(doc.value('smsd', 'a')).toBe('1');
    expect(doc.value('smsd', 'b')).toBe('3');
    expect(doc.sectionsNamed('smsd')).toHaveLength(2);
    expect(warnings.map((w) => w.line)).toEqual([4, 5]);
    expect(warnings[0]?.message).toContain('section [smsd] appears again (first at line 1)');
    expect(warnings[1]?.message).toBe(
      'smsdrc:5: a is ignored: Gammu takes it from the first [smsd] section (line 2)',
    );
  });

  it('list sections: every value counts, repeated keys are fine, a repeated section is ignored', () => {
    const isListSection = (n: string) => n === 'include_numbers';
    const { document: doc, warnings } = parse(
      '[include_numbers]\nn = +1\nn = +2\nother = +3\nempty =\n[include_numbers]\nn = +4\n',
      { isListSection },
    );
    expect(doc.values('include_numbers')).toEqual(['+1', '+2', '+3']);
    expect(warnings.map((w) => w.message)).toEqual([
      'smsdrc:6: section [include_numbers] appears again (first at line 1); Gammu reads only the first one, so the entries below are ignored',
    ]);
  });

  it('raw sections get no warnings at all', () => {
    const { document: doc, warnings } = parse('[smppd]\na = 1\na = 2\n[smppd]\nb = 1\n', {
      isRawSection: (n: string) => n.startsWith('smppd'),
    });
    expect(warnings).toEqual([]);
    expect(doc.sectionsNamed('smppd').map((s) => s.entries.length)).toEqual([2, 1]);
  });

  it('warns about text after "]" and keys outside any section (Gammu ignores both)', () => {
    const { document: doc, warnings } = parse('stray = 1\n[smsd] junk\n[gammu] ; fine\nx = 1\n');
    expect(doc.has('smsd')).toBe(true);
    expect(warnings.map((w) => w.message)).toEqual([
      'smsdrc:1: stray is outside any section and is ignored (as Gammu does)',
      'smsdrc:2: text after [smsd] is ignored: "junk"',
    ]);
  });

  it('rejects a line that is not a section, comment or key = value, with file:line', () => {
    const err = errorOf(() => parse('[smsd]\nservice = files\nthis is junk\n'));
    expect(err.message).toBe(
      'smsdrc:3: cannot parse "this is junk": expected [section], key = value, or a comment starting with ; or #',
    );
    expect(err).toMatchObject({ file: 'smsdrc', line: 3 });
  });

  it('rejects an unclosed or empty section header and a missing key', () => {
    expect(errorOf(() => parse('[smsd\n')).message).toBe(
      'smsdrc:1: section header "[smsd" has no closing "]"',
    );
    expect(errorOf(() => parse('\n[]\n')).message).toBe('smsdrc:2: empty section name "[]"');
    expect(errorOf(() => parse('[smsd]\n = x\n')).message).toBe('smsdrc:2: "= x" has no key name before "="');
  });
});

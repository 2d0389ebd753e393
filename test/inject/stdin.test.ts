import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSpool, runSmsd, listFiles, type TempSpool } from '../helpers/spool.js';
import { parseBackup } from '../../src/lib/smsbackup/reader.js';

describe('smsd inject reads the text from standard input', () => {
  let spool: TempSpool;
  afterEach(() => spool.cleanup());

  const textOf = (s: TempSpool) =>
    parseBackup(fs.readFileSync(path.join(s.outbox, listFiles(s.outbox)[0] ?? '')))[0]?.text;

  it('drops up to two trailing newlines, as gammu-smsd-inject does', () => {
    spool = makeSpool();
    const r = runSmsd(['inject', '-c', spool.config, 'TEXT', '123'], { input: 'from stdin\n\n' });
    expect(r.status, r.stderr).toBe(0);
    expect(textOf(spool)).toBe('from stdin');
  });

  it('takes UTF-16 with a byte-order mark with -inputunicode', () => {
    spool = makeSpool();
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Zoë 😀\n', 'utf16le')]);
    const r = runSmsd(['inject', '-c', spool.config, 'TEXT', '123', '-inputunicode', '-unicode'], {
      input: le,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(textOf(spool)).toBe('Zoë 😀');
  });

  it('refuses -inputunicode input without a byte-order mark', () => {
    spool = makeSpool();
    const r = runSmsd(['inject', '-c', spool.config, 'TEXT', '123', '-inputunicode'], { input: 'plain' });
    expect(r.stderr).toMatch(/does not start with a UTF-16 byte-order mark/);
    expect(r.status).toBe(255);
    expect(listFiles(spool.outbox)).toEqual([]);
  });

  it('warns on empty input and still queues, like Gammu', () => {
    spool = makeSpool();
    const r = runSmsd(['inject', '-c', spool.config, 'TEXT', '123'], { input: '' });
    expect(r.stderr).toMatch(/No chars read, assuming it is okay!/);
    expect(r.status).toBe(0);
    expect(textOf(spool)).toBe('');
  });
});

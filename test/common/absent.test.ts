import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ifExists,
  isAbsent,
  readdirIfExists,
  readIfExists,
  statIfExists,
} from '../../src/lib/common/absent.js';
import { readMaterializedCount } from '../../src/lib/spool/journal.js';
import { readReceivedRecord } from '../../src/lib/spool/received.js';

/** Absent means ENOENT: every other error (here EISDIR, ENOTDIR) surfaces instead of passing for "not there". */
describe('read if it exists', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-absent-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'content');

  it('gives undefined only for what does not exist', () => {
    expect(readIfExists(path.join(dir, 'nothing'))).toBeUndefined();
    expect(readIfExists(path.join(dir, 'nothing'), 'utf8')).toBeUndefined();
    expect(readdirIfExists(path.join(dir, 'nothing'))).toBeUndefined();
    expect(statIfExists(path.join(dir, 'nothing'))).toBeUndefined();
    expect(readIfExists(file, 'utf8')).toBe('content');
    expect(readdirIfExists(dir)).toEqual(['a-file']);
    expect(statIfExists(file)?.isFile()).toBe(true);
  });

  it('throws every other error', () => {
    expect(() => readIfExists(dir)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    expect(() => readdirIfExists(file)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => statIfExists(path.join(file, 'below'))).toThrow(
      expect.objectContaining({ code: 'ENOTDIR' }),
    );
    expect(() =>
      ifExists(() => {
        throw Object.assign(new Error('disk'), { code: 'EIO' });
      }),
    ).toThrow('disk');
    expect(isAbsent(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe(false);
    expect(isAbsent(undefined)).toBe(false);
  });

  it('the spool readers built on it: absent is a default, a broken path is an error', () => {
    expect(readMaterializedCount(path.join(dir, 'seg.wal'))).toBe(0);
    expect(() => readMaterializedCount(path.join(file, 'seg.wal'))).toThrow(/ENOTDIR/);
    expect(readReceivedRecord(dir, 'IN-none.txt')).toBeUndefined();
    // The inbox "folder" is a file: not a missing record but a broken spool.
    expect(() => readReceivedRecord(file, 'IN-none.txt')).toThrow(/ENOTDIR/);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  JournalSegment,
  recoverJournals,
  readSegment,
  JOURNAL_DIR,
  encodeRecord,
  materializedFile,
  openSegmentFile,
} from '../../src/lib/spool/journal.js';

/** A segment as a crashed machine would have left it: another boot id, a dead writer. */
function fakeCrashedSegment(outbox: string, records: { name: string; data: Buffer }[], tornTail = false): string {
  const seg = new JournalSegment(outbox);
  seg.commit(records);
  const raw = fs.readFileSync(seg.file);
  const hlen = raw.readUInt16BE(4);
  const header = Buffer.from(JSON.stringify({ bootId: 'another-boot', pid: 999999 }));
  const len = Buffer.alloc(2);
  len.writeUInt16BE(header.length);
  let body = raw.subarray(6 + hlen);
  if (tornTail) body = Buffer.concat([body, Buffer.from([0, 0, 1, 0, 1, 2, 3])]);
  fs.writeFileSync(seg.file, Buffer.concat([raw.subarray(0, 4), len, header, body]));
  return seg.file;
}

describe('batch journal (group commit)', () => {
  let dir: string;
  let outbox: string;
  let sent: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-journal-'));
    outbox = path.join(dir, 'outbox');
    sent = path.join(dir, 'sent');
    fs.mkdirSync(outbox);
    fs.mkdirSync(sent);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads back committed records and ignores a torn tail', () => {
    const file = fakeCrashedSegment(outbox, [
      { name: 'OUTA.txt', data: Buffer.from('one') },
      { name: 'OUTB.txt', data: Buffer.from('two') },
    ], true);
    const { records, header } = readSegment(fs.readFileSync(file));
    expect(header.bootId).toBe('another-boot');
    expect(records.map((r) => r.name)).toEqual(['OUTA.txt', 'OUTB.txt']);
  });

  it('after a machine crash restores missing and truncated files, never ones already sent', () => {
    const data = (s: string) => Buffer.from(`content of ${s}`);
    fs.writeFileSync(path.join(outbox, 'OUT1.txt'), data('1')); // survived
    fs.writeFileSync(path.join(outbox, 'OUT2.txt'), ''); // truncated by the crash
    fs.writeFileSync(path.join(sent, 'OUT4.txt'), data('4')); // sent before the crash
    fakeCrashedSegment(outbox, ['1', '2', '3', '4'].map((n) => ({ name: `OUT${n}.txt`, data: data(n) })));
    const report = recoverJournals(outbox, [sent]);
    expect(report.restored.sort()).toEqual(['OUT2.txt', 'OUT3.txt']);
    expect(fs.readFileSync(path.join(outbox, 'OUT2.txt'), 'utf8')).toBe('content of 2');
    expect(fs.readFileSync(path.join(outbox, 'OUT3.txt'), 'utf8')).toBe('content of 3');
    expect(fs.existsSync(path.join(outbox, 'OUT4.txt'))).toBe(false);
    expect(fs.readdirSync(path.join(outbox, JOURNAL_DIR))).toEqual([]);
  });

  it('after a machine crash completes a file cut short, but keeps one rewritten on purpose (replace_sm)', () => {
    const data = (s: string) => Buffer.from(`the whole content of ${s}`);
    fs.writeFileSync(path.join(outbox, 'OUT1.txt'), data('1').subarray(0, 7)); // a prefix: cut by the crash
    fs.writeFileSync(path.join(outbox, 'OUT2.txt'), 'replaced'); // shorter but other content
    fs.writeFileSync(path.join(outbox, 'OUT3.txt'), 'replaced with a much longer text than the record');
    fakeCrashedSegment(outbox, ['1', '2', '3'].map((n) => ({ name: `OUT${n}.txt`, data: data(n) })));
    expect(recoverJournals(outbox, [sent]).restored).toEqual(['OUT1.txt']);
    expect(fs.readFileSync(path.join(outbox, 'OUT1.txt'), 'utf8')).toBe('the whole content of 1');
    expect(fs.readFileSync(path.join(outbox, 'OUT2.txt'), 'utf8')).toBe('replaced');
    expect(fs.readFileSync(path.join(outbox, 'OUT3.txt'), 'utf8')).toMatch(/^replaced with/);
  });

  it('skips a segment that vanishes between listing and reading (smppd retiring it); other errors surface', () => {
    const dir = path.join(outbox, JOURNAL_DIR);
    fakeCrashedSegment(outbox, [{ name: 'OUTV.txt', data: Buffer.from('v') }]);
    // Listed, then gone when read: a dangling symlink reads as ENOENT, like a segment retired meanwhile.
    fs.symlinkSync(path.join(dir, 'retired-meanwhile.wal'), path.join(dir, '1-vanished-1.wal'));
    const report = recoverJournals(outbox, [sent]);
    expect(report.restored).toEqual(['OUTV.txt']);
    fs.rmSync(path.join(dir, '1-vanished-1.wal'));
    fs.mkdirSync(path.join(dir, '2-not-a-file-1.wal'));
    expect(() => recoverJournals(outbox, [sent])).toThrow(/EISDIR/);
  });

  it('leaves the segment of a live writer alone and retires one of a killed writer without replaying', () => {
    const live = new JournalSegment(outbox);
    live.commit([{ name: 'OUTL.txt', data: Buffer.from('x') }]);
    // Same boot, the writer (this process) is alive: but recoverJournals skips only *other* live pids,
    // so fake a live foreign writer with our parent's pid.
    const raw = fs.readFileSync(live.file);
    const hlen = raw.readUInt16BE(4);
    const hdr = JSON.parse(raw.subarray(6, 6 + hlen).toString()) as { bootId: string; pid: number };
    const mk = (pid: number) => {
      const h = Buffer.from(JSON.stringify({ ...hdr, pid }));
      const l = Buffer.alloc(2);
      l.writeUInt16BE(h.length);
      return Buffer.concat([raw.subarray(0, 4), l, h, raw.subarray(6 + hlen)]);
    };
    fs.writeFileSync(live.file, mk(process.ppid));
    expect(recoverJournals(outbox, [sent]).segments).toBe(0);
    fs.writeFileSync(live.file, mk(999999));
    const report = recoverJournals(outbox, [sent]);
    expect(report).toEqual({ segments: 1, restored: [] });
    expect(fs.existsSync(path.join(outbox, 'OUTL.txt'))).toBe(false);
  });

  it('restores the records a killed deferred writer had not created yet, and no other', () => {
    const errorDir = path.join(dir, 'error');
    fs.mkdirSync(errorDir);
    const rec = (n: number) => ({ name: `OUT${n}.smsbackup`, data: Buffer.from(`message ${n}`) });
    // A deferred segment (records first, files after) of a dead writer on this boot: 6 records, the
    // first 3 counted as created.
    const { fd, file } = openSegmentFile(outbox, '-smppd', { deferred: true });
    fs.writeSync(fd, Buffer.concat([1, 2, 3, 4, 5, 6].map((n) => encodeRecord(rec(n)))));
    fs.closeSync(fd);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(3);
    fs.writeFileSync(materializedFile(file), count);
    const raw = fs.readFileSync(file);
    const hlen = raw.readUInt16BE(4);
    const header = JSON.parse(raw.subarray(6, 6 + hlen).toString()) as { deferred?: boolean };
    expect(header.deferred).toBe(true);
    const dead = Buffer.from(JSON.stringify({ ...header, pid: 999999 }));
    const len = Buffer.alloc(2);
    len.writeUInt16BE(dead.length);
    fs.writeFileSync(file, Buffer.concat([raw.subarray(0, 4), len, dead, raw.subarray(6 + hlen)]));
    // 1 was sent, 2 cancelled (moved to error/), 3 deleted by someone: counted, never brought back.
    fs.writeFileSync(path.join(sent, 'OUT1.smsbackup'), rec(1).data);
    fs.writeFileSync(path.join(errorDir, 'OUT2.smsbackup'), rec(2).data);
    // 4 was created just before the kill (the count not rewritten yet); 5 and 6 never were.
    fs.writeFileSync(path.join(outbox, 'OUT4.smsbackup'), rec(4).data);
    // A count left behind by a writer killed while retiring (its segment already deleted).
    fs.writeFileSync(path.join(outbox, JOURNAL_DIR, '999999-abc-1-smppd.wal.materialized'), count);

    const report = recoverJournals(outbox, [sent, errorDir]);
    expect(report.segments).toBe(1);
    expect(report.restored.sort()).toEqual(['OUT5.smsbackup', 'OUT6.smsbackup']);
    expect(fs.readFileSync(path.join(outbox, 'OUT6.smsbackup'), 'utf8')).toBe('message 6');
    for (const n of [1, 2, 3]) expect(fs.existsSync(path.join(outbox, `OUT${n}.smsbackup`))).toBe(false);
    expect(fs.readdirSync(path.join(outbox, JOURNAL_DIR))).toEqual([]);
    expect(fs.readdirSync(outbox).filter((n) => n.startsWith('.'))).toEqual([JOURNAL_DIR]);
  });

  it('after a machine crash restores every missing record of a deferred segment not handled', () => {
    const rec = (n: number) => ({ name: `OUT${n}.smsbackup`, data: Buffer.from(`message ${n}`) });
    const file = fakeCrashedSegment(outbox, [1, 2, 3].map(rec));
    const count = Buffer.alloc(4);
    count.writeUInt32BE(3); // all created before the crash, but maybe never written to disk
    fs.writeFileSync(materializedFile(file), count);
    fs.writeFileSync(path.join(sent, 'OUT1.smsbackup'), rec(1).data);
    expect(recoverJournals(outbox, [sent]).restored.sort()).toEqual(['OUT2.smsbackup', 'OUT3.smsbackup']);
  });
});


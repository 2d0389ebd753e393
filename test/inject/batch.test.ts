import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSpool, runSmsd, listFiles, type TempSpool } from '../helpers/spool.js';
import { parseBackup } from '../../src/lib/smsbackup/reader.js';

describe('smsd inject --batch', () => {
  let spool: TempSpool;
  afterEach(() => spool.cleanup());

  it('queues every good CSV line, reports bad ones with their line number, and keeps going', () => {
    spool = makeSpool();
    const lines = [
      'number,text',
      '+420111,Hello one',
      '+420222,"Quoted, with comma and ""quotes"""',
      'no comma here',
      '+420333,' + 'long text '.repeat(30),
      '+420444,"unterminated',
      '',
      '# a comment',
      'not a number!!!!!!,text',
      '+420555,Zoë Привет 😀',
    ];
    const file = path.join(spool.dir, 'batch.csv');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const r = runSmsd(['inject', '-c', spool.config, '--batch', file]);
    expect(r.stderr).toMatch(/batch\.csv:4: expected "number,text"/);
    expect(r.stderr).toMatch(/batch\.csv:6: unterminated or malformed quoted text/);
    expect(r.stderr).toMatch(/batch\.csv:9: "not a number!!!!!!" is neither a phone number/);
    expect(r.stdout).toMatch(/^Queued 4 messages \(4 files\) in [\d.]+ s, \d+ messages\/s; 3 lines failed$/m);
    expect(r.status).toBe(1);
    const files = listFiles(spool.outbox);
    expect(files).toHaveLength(4);
    const byNumber = new Map(
      files.map((f) => [parseBackup(fs.readFileSync(path.join(spool.outbox, f)))[0]?.number, f]),
    );
    const entries = (n: string) =>
      parseBackup(fs.readFileSync(path.join(spool.outbox, byNumber.get(n) ?? '')));
    expect(entries('+420222')[0]?.text).toBe('Quoted, with comma and "quotes"');
    expect(entries('+420333')).toHaveLength(2); // 300 chars: two concatenated parts
    expect(entries('+420555')[0]?.coding).toBe('Unicode_No_Compression');
    // The journal is retired when the batch ends.
    expect(fs.readdirSync(path.join(spool.outbox, '.smsgate-journal'))).toEqual([]);
  });

  it('takes JSON lines from stdin with per-message options', () => {
    spool = makeSpool();
    const input = [
      JSON.stringify({ number: '+420111', text: 'json one', report: true, flash: true }),
      JSON.stringify({ number: '+420222', text: 'json two', validity: 'WEEK' }),
      JSON.stringify({ number: '+420333', text: 'x', colour: 'red' }),
      '{broken',
    ].join('\n');
    const r = runSmsd(['inject', '-c', spool.config, '--batch', '-'], { input });
    expect(r.stderr).toMatch(/stdin:3: unknown key "colour"/);
    expect(r.stderr).toMatch(/stdin:4: not JSON/);
    expect(r.stdout).toMatch(/Queued 2 messages/);
    const contents = listFiles(spool.outbox).map((f) => fs.readFileSync(path.join(spool.outbox, f), 'utf8'));
    expect(contents.some((c) => c.includes('PDU = Status_Report') && c.includes('Class = 0'))).toBe(true);
    expect(contents.some((c) => c.includes('; smsgate: RelativeValidity = 173'))).toBe(true);
  });

  it('gives many messages to one number in one second distinct names', () => {
    spool = makeSpool();
    const file = path.join(spool.dir, 'same.csv');
    fs.writeFileSync(file, Array.from({ length: 300 }, (_, i) => `+420999,message ${i}`).join('\n'));
    const r = runSmsd(['inject', '-c', spool.config, '--batch', file]);
    expect(r.status, r.stderr).toBe(0);
    const files = listFiles(spool.outbox);
    expect(files).toHaveLength(300);
    const texts = files.map((f) => parseBackup(fs.readFileSync(path.join(spool.outbox, f)))[0]?.text).sort();
    expect(new Set(texts).size).toBe(300);
  });

  it('names a missing batch file', () => {
    spool = makeSpool();
    const r = runSmsd(['inject', '-c', spool.config, '--batch', path.join(spool.dir, 'missing.csv')]);
    expect(r.stderr).toMatch(/Failed to read batch .*missing\.csv/);
    expect(r.status).toBe(1);
  });
});

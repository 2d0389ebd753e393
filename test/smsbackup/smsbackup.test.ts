import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import {
  formatBackup,
  formatEntry,
  parseBackup,
  parseBackupExtensions,
  BackupFormatError,
  type BackupEntry,
} from '../../src/lib/smsbackup/index.js';
import { makeSpool, listFiles, type TempSpool } from '../helpers/spool.js';

const base: BackupEntry = {
  pdu: 'Submit',
  dateTime: { year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, utc: true },
  state: 'Sent',
  number: '+123',
  name: '',
  text: 'hi',
  coding: 'Default_No_Compression',
  folder: 1,
  length: 2,
  messageClass: -1,
  replySmsc: false,
  rejectDuplicates: false,
  replaceMessage: 0,
  messageReference: 0,
};

describe('SMS backup format', () => {
  const spools: TempSpool[] = [];
  afterAll(() => spools.forEach((s) => s.cleanup()));

  it('writes the mixed line endings Gammu writes', () => {
    const out = formatEntry(base, 0).toString('latin1');
    expect(out).toBe(
      '[SMSBackup000]\n; hi\nPDU = Submit\nDateTime = 20240102T030405Z\r\nState = Sent\nNumber = "+123"\r\nNumberUnicode = 002B003100320033\r\nName = ""\r\nNameUnicode = \r\nText00 = 00680069\r\nCoding = Default_No_Compression\nFolder = 1\nLength = 2\nClass = -1\nReplySMSC = False\nRejectDuplicates = False\nReplaceMessage = 0\nMessageReference = 0\n\n',
    );
  });

  it('writes SMSC lines for a received message and the status of a report', () => {
    const deliver = formatEntry(
      { ...base, pdu: 'Deliver', smsc: '+4477', smscReply: true, state: 'UnRead' },
      1,
    ).toString();
    expect(deliver).toContain(
      'SMSC = "+4477"\r\nSMSCUnicode = 002B0034003400370037\r\nSMSCReply = TRUE\nPDU = Deliver\n',
    );
    const report = formatEntry({ ...base, pdu: 'Status_Report', deliveryStatus: 0 }, 2).toString();
    expect(report).toContain('PDU = Status_Report\nDeliveryStatus = 0\n');
  });

  it('wraps comments at 76 bytes and text hex at 200 characters', () => {
    const text = 'a'.repeat(120);
    const out = formatEntry({ ...base, text, length: 120 }, 0).toString();
    expect(out).toContain(`; ${'a'.repeat(76)}\n; ${'a'.repeat(44)}\n`);
    expect(out).toMatch(/Text00 = (0061){50}\r\nText01 = (0061){50}\r\nText02 = (0061){20}\r\n/);
  });

  it('round-trips every field', () => {
    const entries: BackupEntry[] = [
      {
        ...base,
        udh: Buffer.from('050003AA0201', 'hex'),
        text: 'Zoë 😀',
        length: 6,
        coding: 'Unicode_No_Compression',
      },
      {
        ...base,
        pdu: 'Deliver',
        smsc: '+4477',
        state: 'Read',
        name: 'Alice',
        text: '',
        coding: '8bit',
        data: Buffer.from([1, 2, 0xff]),
        length: 3,
        messageClass: 1,
        replySmsc: true,
        rejectDuplicates: true,
        replaceMessage: 3,
        messageReference: 42,
      },
    ];
    const file = formatBackup(entries, new Date(), { RelativeValidity: 167 });
    const back = parseBackup(file);
    expect(back).toEqual(entries.map((e) => ({ ...e, ...(e.coding === '8bit' ? { text: '' } : {}) })));
    expect(parseBackupExtensions(file)).toEqual({ RelativeValidity: '167' });
  });

  it('names what is wrong in a malformed file', () => {
    expect(() => parseBackup('[SMSBackup000]\nNumber = "1"\nText00 = 0G\n')).toThrow(
      /line 3: text00 is not hexadecimal/,
    );
    expect(() => parseBackup('[SMSBackup000]\nNumber = "1"\nPDU = Bogus\n')).toThrow(BackupFormatError);
    expect(() => parseBackup('[SMSBackup000\n')).toThrow(/line 1: unterminated section header/);
    expect(() => parseBackup('[SMSBackup000]\nNumber = "1"\nCoding = Unicode\nText00 = 006100\n')).toThrow(
      /not whole UCS-2/,
    );
  });

  it('reads what gammu-smsd-inject wrote, and writes it back byte for byte', () => {
    const which = spawnSync('gammu-smsd-inject', ['-v']);
    if (which.error && !process.env.CI) return;
    const spool = makeSpool();
    spools.push(spool);
    const r = spawnSync(
      'gammu-smsd-inject',
      [
        '-c',
        spool.config,
        'TEXT',
        '+420123',
        '-text',
        'Zoë {x} '.repeat(40),
        '-len',
        '400',
        '-report',
        '-flash',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stdout).toBe(0);
    const [name] = listFiles(spool.outbox);
    const raw = fs.readFileSync(path.join(spool.outbox, name ?? ''));
    const entries = parseBackup(raw);
    expect(entries).toHaveLength(3);
    expect(entries.map((e) => e.text).join('')).toBe('Zoë {x} '.repeat(40));
    // Same bytes apart from the 'Saved' header line (its time is not part of the entries).
    const dropSaved = (b: Buffer) => b.toString('latin1').replace(/^; Saved .*\n/m, '');
    expect(dropSaved(formatBackup(entries, new Date()))).toBe(dropSaved(raw));
  });
});

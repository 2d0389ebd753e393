import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BackupFormatError,
  formatBackup,
  parseBackup,
  type BackupEntry,
} from '../../src/lib/smsbackup/index.js';
import { parseIni } from '../../src/lib/config/ini.js';
import { ConfigError } from '../../src/lib/config/errors.js';
import { knownKeys, loadSmsdConfig, parseSmsdConfig } from '../../src/lib/config/smsd-config.js';
import { readSmppdConfig } from '../../src/lib/smpp/config.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';
import {
  INBOX_NAME_RE,
  inboxName,
  outboxName,
  parseOutboxName,
  unescapeNumber,
} from '../../src/lib/spool/names.js';
import { bytesFrom, onlyThrows, params, strayValues, timed } from './props.js';

// The spool's text formats: SMS backup files, the INI dialect and the smsd config built on it, outbox
// files and spool file names. Hostile bytes give the module's typed error (or a failed result), never
// another exception; what our writers write reads back the same.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-fuzz-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const BACKUP_FRAGMENTS = [
  '; This file format was designed for Gammu and is compatible with Gammu+\n',
  '[SMSBackup000]\n',
  '[SMSBackup001]\r\n',
  '[smsbackup',
  '[',
  ']',
  '\n',
  '\r\n',
  '\r',
  '=',
  ' = ',
  'Number = "+123"\n',
  'NumberUnicode = 002B0031\n',
  'NumberUnicode = 0',
  'Name = ""\n',
  'Text00 = 00680069\n',
  'Text01 = D83D\n',
  'Text00 = ',
  'UDH = 050003AA0201\n',
  'UDH = 0\n',
  'Coding = Default_No_Compression\n',
  'Coding = 8bit\n',
  'Coding = Unicode_No_Compression\n',
  'Coding = constructor\n',
  'Coding = __proto__\n',
  'Coding = toString\n',
  'PDU = Status_Report\n',
  'PDU = Deliver\n',
  'PDU = Nonsense\n',
  'DateTime = 20240102T030405Z\n',
  'DateTime = 99999999T999999\n',
  'Sent = 2024\n',
  'Class = 127\n',
  'Class = -99999999999999999999\n',
  'Folder = x\n',
  'DeliveryStatus = 70\n',
  'State = Sent\n',
  '; smsgate: PhoneID = a\n',
  '; smsgate: RelativeValidity = 99999\n',
  '; smsgate: SMSC = "+1"\n',
  '\u0000',
  '\u00ff\u00fe',
];

const BACKUP_KEYS: Record<string, readonly string[]> = {
  Number: ['"+123"', '"Shop"', '""', '"', '+1'],
  NumberUnicode: ['002B0031', '', '0', 'zz'],
  PDU: ['Submit', 'Deliver', 'Status_Report', 'constructor', 'x'],
  Coding: [
    'Default_No_Compression',
    'Unicode_No_Compression',
    '8bit',
    'Default',
    'constructor',
    '__proto__',
    'toString',
    '',
  ],
  Text00: ['00680069', 'D83D', '', '0', 'FFFF', '00'],
  Text01: ['0041'],
  UDH: ['050003AA0201', '', '00', 'FF', '0500'],
  Class: ['-1', '0', '1', '127', 'x', '99999999999999999999'],
  State: ['Sent', 'Read', 'constructor'],
  DateTime: ['20240102T030405Z', '20241399T999999', 'x'],
  SMSC: ['"+1"', '""'],
  DeliveryStatus: ['0', '70', '-5'],
  ReplySMSC: ['True', 'constructor'],
  RejectDuplicates: ['False', 'yes'],
};
/** Files shaped like SMS backups: sections of known keys with good and bad values. */
const structuredBackup = fc
  .tuple(
    fc.constantFrom(
      '',
      '; smsgate: PhoneID = a\n',
      '; smsgate: RelativeValidity = 300\n; smsgate: SMSC = "+1"\n',
    ),
    fc.array(
      fc.array(
        fc
          .constantFrom(...Object.keys(BACKUP_KEYS))
          .chain((k) => fc.constantFrom(...(BACKUP_KEYS[k] ?? [])).map((v) => `${k} = ${v}`)),
        { maxLength: 10 },
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([head, sections]) =>
    Buffer.from(
      head + sections.map((lines, i) => `[SMSBackup00${i}]\nNumber = "+1"\n${lines.join('\n')}\n`).join('\n'),
    ),
  );
const backupFile = fc.oneof(bytesFrom(BACKUP_FRAGMENTS), structuredBackup);

describe('SMS backup reader', () => {
  it('hostile files give BackupFormatError or entries', () => {
    fc.assert(
      fc.property(backupFile, (b) => {
        onlyThrows(() => parseBackup(b), [BackupFormatError]);
      }),
      params(2000),
    );
  });

  const text = fc.string({ unit: 'binary', maxLength: 200 });
  const entry: fc.Arbitrary<BackupEntry> = fc
    .record({
      pdu: fc.constantFrom('Deliver', 'Submit', 'Status_Report'),
      state: fc.constantFrom('UnRead', 'Read', 'Sent', 'UnSent'),
      number: fc.string({ unit: 'binary', maxLength: 30 }),
      name: fc.string({ unit: 'binary', maxLength: 30 }),
      coding: fc.constantFrom('Default_No_Compression', 'Unicode_No_Compression', '8bit'),
      text,
      data: fc.uint8Array({ maxLength: 140 }).map((u) => Buffer.from(u)),
      udh: fc.option(
        fc.uint8Array({ minLength: 1, maxLength: 20 }).map((u) => Buffer.from(u)),
        { nil: undefined },
      ),
      smsc: fc.string({ unit: 'binary', maxLength: 20 }),
      smscReply: fc.boolean(),
      deliveryStatus: fc.integer({ min: 0, max: 255 }),
      dateTime: fc.option(
        fc.record({
          year: fc.integer({ min: 1, max: 9999 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 31 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
          second: fc.integer({ min: 0, max: 59 }),
          utc: fc.boolean(),
        }),
        { nil: undefined },
      ),
      folder: fc.integer({ min: 0, max: 9 }),
      messageClass: fc.integer({ min: -1, max: 127 }),
      replySmsc: fc.boolean(),
      rejectDuplicates: fc.boolean(),
      replaceMessage: fc.integer({ min: 0, max: 7 }),
      messageReference: fc.integer({ min: 0, max: 255 }),
    })
    .map((r) => {
      const e: BackupEntry = {
        pdu: r.pdu,
        state: r.state,
        number: r.number,
        name: r.name,
        coding: r.coding,
        text: r.coding === '8bit' ? '' : r.text,
        length: r.coding === '8bit' ? r.data.length : r.text.length,
        folder: r.folder,
        messageClass: r.messageClass,
        replySmsc: r.replySmsc,
        rejectDuplicates: r.rejectDuplicates,
        replaceMessage: r.replaceMessage,
        messageReference: r.messageReference,
      };
      if (r.coding === '8bit') e.data = r.data;
      if (r.udh) e.udh = r.udh;
      if (r.dateTime) e.dateTime = r.dateTime;
      if (r.pdu === 'Deliver') e.smsc = r.smsc;
      if (r.pdu === 'Deliver' && r.smscReply) e.smscReply = true;
      if (r.pdu === 'Status_Report') e.deliveryStatus = r.deliveryStatus;
      return e;
    });

  it('parseBackup(formatBackup(entries)) = entries', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), (entries) => {
        fc.pre(entries.every((e) => e.number !== '' || entries.length === 1));
        const back = parseBackup(formatBackup(entries, new Date(0)));
        // An empty Number still counts as a Number key: every entry reads back.
        expect(back).toEqual(entries);
      }),
      params(1000),
    );
  });

  it('bounded time on a big file', () => {
    const big = `[SMSBackup000]\nNumber = "1"\n${'Text00 = 0041\n'.repeat(100_000)}`;
    expect(timed(() => parseBackup(big))).toBeLessThan(2000);
    const sections = '[SMSBackup000]\nNumber = "1"\n'.repeat(50_000);
    expect(timed(() => parseBackup(sections))).toBeLessThan(2000);
  });
});

const { gammu, smsd } = knownKeys();
const KEYS = [...gammu, ...smsd];
const VALUES = [
  'constructor',
  '__proto__',
  'toString',
  'native_mysql',

  '',
  '0',
  '-1',
  '1',
  '99999999999999999999',
  '1e3',
  '0x10',
  'yes',
  'no',
  'files',
  'sql',
  '/',
  '.',
  '../x',
  '"x"',
  'at',
  'at19200',
  '$HOME',
  'a;b',
  ' ',
  '\u0000',
  'ü',
];
const iniLine = fc.oneof(
  fc.constantFrom(
    'SqlDriver = constructor',
    'Driver = native_pgsql',
    'SQL = constructor',
    'AccountsSource = sql',
    'RoutesSource = sql',
    '[gammu]',
    '[smsd]',
    '[include_numbers]',
    '[exclude_smsc]',
    '[smppd]',
    '[]',
    '[',
    '[ smsd ]',
    '; c',
    '# c',
    '=',
    '=x',
    'k',
    '',
  ),
  fc
    .tuple(fc.constantFrom(...KEYS), fc.constantFrom(' = ', '=', ' =\t'), fc.constantFrom(...VALUES))
    .map(([k, eq, v]) => k + eq + v),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const iniText = fc
  .tuple(fc.array(iniLine, { maxLength: 30 }), fc.constantFrom('\n', '\r\n', '\r'))
  .map(([ls, nl]) => ls.join(nl));

describe('INI parser and smsd config', () => {
  it('parseIni: ConfigError or a document', () => {
    fc.assert(
      fc.property(iniText, (t) => {
        onlyThrows(() => parseIni(t, 'fuzz.ini'), [ConfigError]);
      }),
      params(2000),
    );
  });

  it('parseSmsdConfig: ConfigError or a config', () => {
    fc.assert(
      fc.property(iniText, (t) => {
        const r = onlyThrows(
          () =>
            parseSmsdConfig(`[gammu]\ndevice = /dev/null\n[smsd]\nservice = files\n${t}`, 'fuzz.ini', {
              cwd: tmp,
            }),
          [ConfigError],
        );
        expect(strayValues(r)).toEqual([]);
      }),
      params(1500),
    );
  });

  it('readSmppdConfig ([smppd] of the same file): ConfigError (file:line, key, value) or a config', () => {
    const smppdKeys = [
      'Port',
      'Listen',
      'AccountsSource',
      'RoutesSource',
      'SqlDriver',
      'SqlDatabase',
      'AdminPort',
      'AdminPassword',
      'MaxPduLength',
      'Window',
      'NodeId',
      'SystemId',
      'AccountsFile',
      'RoutesFile',
    ];
    const smppdLine = fc.oneof(
      iniLine,
      fc.tuple(fc.constantFrom(...smppdKeys), fc.constantFrom(...VALUES)).map(([k, v]) => `${k} = ${v}`),
    );
    fc.assert(
      fc.property(fc.array(smppdLine, { maxLength: 12 }), (ls) => {
        const text = `[smppd]\n${ls.join('\n')}`;
        const doc = onlyThrows(() => parseIni(text, 'fuzz.ini', { isRawSection: () => true }), [ConfigError]);
        if (doc instanceof Error) return;
        const r = onlyThrows(() => readSmppdConfig(doc.document.sections, 'fuzz.ini', tmp), [ConfigError]);
        expect(strayValues(r)).toEqual([]);
      }),
      params(1500),
    );
  });

  it('loadSmsdConfig of arbitrary bytes on disk: ConfigError or a config', () => {
    const file = path.join(tmp, 'smsdrc');
    fc.assert(
      fc.property(
        fc.oneof(
          iniText.map((t) => Buffer.from(t, 'utf8')),
          fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
        ),
        (b) => {
          fs.writeFileSync(file, b);
          const r = onlyThrows(() => loadSmsdConfig(file, { cwd: tmp }), [ConfigError]);
          expect(strayValues(r)).toEqual([]);
        },
      ),
      params(500),
    );
  });

  it('bounded time on many sections and keys', () => {
    // Linear takes well under a second here; quadratic (a search per header) took 7.7 s for 50,000.
    const sections = Array.from({ length: 100_000 }, (_, i) => `[s${i}]\nk = v`).join('\n');
    expect(timed(() => parseIni(sections, 'big.ini'))).toBeLessThan(5000);
    const keys = `[smsd]\n${Array.from({ length: 100_000 }, (_, i) => `k${i} = v`).join('\n')}`;
    expect(timed(() => parseIni(keys, 'big.ini'))).toBeLessThan(2000);
    const config = `[gammu]\ndevice = /dev/null\n[smsd]\nservice = files\n${sections}\n[include_numbers]\n${'n = 1\n'.repeat(50_000)}`;
    expect(
      timed(() => onlyThrows(() => parseSmsdConfig(config, 'big.ini', { cwd: tmp }), [ConfigError])),
    ).toBeLessThan(6000);
  });
});

const NAME_FRAGMENTS = [
  'OUT',
  'out',
  'IN',
  '_',
  '.',
  'txt',
  'smsbackup',
  'A',
  'X',
  '+',
  '420',
  '*',
  '#',
  'd',
  'f',
  'b',
  '..',
  '20240101',
  '120000',
  '',
];
const fileName = fc
  .array(fc.oneof(fc.constantFrom(...NAME_FRAGMENTS), fc.string({ maxLength: 4 })), { maxLength: 12 })
  .map((p) => p.join(''));
const outboxContent: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 2, arbitrary: backupFile },
  fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)),
  fc.string({ unit: 'binary', maxLength: 400 }).map((s) => Buffer.from(s, 'utf8')),
);

describe('outbox files and spool names', () => {
  it('readOutboxFile never throws: a message or a reason', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fileName,
          fc.constantFrom('OUT+1.txt', 'OUT+1.txtd', 'OUT+1.txtb', 'OUTA20240101_120000_00_+1_x.smsbackup'),
        ),
        outboxContent,
        fc.constantFrom('auto', 'unicode', '7bit'),
        fc.nat(255),
        (name, content, transmit, ref) => {
          const r = readOutboxFile(name, content, transmit, ref);
          if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
        },
      ),
      params(2000),
    );
  });

  it('parseOutboxName never throws', () => {
    fc.assert(
      fc.property(fileName, (n) => {
        expect(typeof parseOutboxName(n).ok).toBe('boolean');
      }),
      params(2000),
    );
  });

  const stamp = fc.record({
    date: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 8, maxLength: 8 }),
    time: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 6, maxLength: 6 }),
  });
  const phone = fc
    .string({ unit: fc.constantFrom(...'0123456789*#'), minLength: 1, maxLength: 20 })
    .chain((d) => fc.constantFrom(d, `+${d}`));

  it('parseOutboxName(outboxName(x)) gives the number and flags back', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...'ABCZ'),
        stamp,
        fc.nat(100_000),
        phone,
        fc.string({ unit: fc.constantFrom(...'abcxyz0189'), maxLength: 8 }),
        fc.constantFrom('smsbackup', 'txt', 'txtd', 'txtf', 'txtdf'),
        (priority, s, serial, number, note, ext) => {
          const r = parseOutboxName(outboxName({ priority, stamp: s, serial, number, note, ext }));
          expect(r.ok && r.info).toMatchObject({
            number,
            priority,
            deliveryReport: ext.includes('d'),
            flash: ext.includes('f'),
          });
        },
      ),
      params(1000),
    );
  });

  it('INBOX_NAME_RE reads inboxName(x) back: sender, part, extension', () => {
    const sender = fc.oneof(phone, fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }));
    fc.assert(
      fc.property(
        stamp,
        fc.nat(100_000),
        sender,
        fc.nat(1000),
        fc.constantFrom('txt', 'bin'),
        (s, serial, from, part, ext) => {
          const name = inboxName({ stamp: s, serial, sender: from, part, ext });
          const m = INBOX_NAME_RE.exec(name);
          expect(m, name).not.toBeNull();
          expect(Number(m?.[3])).toBe(part);
          expect(m?.[4]).toBe(ext);
          if (/^\+?[0-9*#]+$/.test(from)) expect(unescapeNumber(m?.[2] ?? '')).toBe(from);
        },
      ),
      params(1000),
    );
  });

  it('INBOX_NAME_RE is linear on long hostile names', () => {
    const name = `IN20240101_120000_00_${'_1'.repeat(50_000)}.tx`;
    expect(timed(() => INBOX_NAME_RE.exec(name))).toBeLessThan(500);
  });
});

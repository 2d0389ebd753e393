import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBatchLine } from '../../src/lib/inject/batch-lines.js';
import { buildMessage } from '../../src/lib/inject/message.js';
import { InjectError } from '../../src/lib/inject/errors.js';
import { renderOutboxFiles, type OutboxFormat } from '../../src/lib/spool/outbox-files.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';
import { onlyThrows, params } from './props.js';

// `smsd inject --batch` lines (CSV and JSON lines, often made by other programs from web forms): a
// line gives a request or a reason; a request that builds gives outbox files that read back as the
// same recipient, text and SMSC, whatever the text and SMSC hold.

const FRAGMENTS = [
  '+420123456789',
  '123',
  ',',
  '"',
  '""',
  '\\n',
  '\n',
  '\r',
  '#',
  '{',
  '}',
  ':',
  '[SMSBackup000]',
  'Number = "+999"',
  '; smsgate: PhoneID = x',
  'é',
  '😀',
  '\u0000',
  ' ',
];
const loose = fc
  .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 5 })), { maxLength: 12 })
  .map((p) => p.join(''));
const phone = fc
  .string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 15 })
  .map((d) => `+${d}`);
const jsonLine = fc
  .record(
    {
      number: fc.oneof({ weight: 4, arbitrary: phone }, { weight: 1, arbitrary: loose }),
      text: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), loose),
      unicode: fc.boolean(),
      flash: fc.boolean(),
      report: fc.boolean(),
      validity: fc.constantFrom('HOUR', 'day', 'MAX', 'constructor', 'x'),
      smsc: fc.oneof(phone, loose),
      maxsms: fc.oneof(fc.nat(10), fc.constant(-1), fc.constant(1.5)),
    },
    { requiredKeys: ['number', 'text'] },
  )
  .map((o) => JSON.stringify(o));
const csvLine = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: phone }, { weight: 1, arbitrary: loose }),
    fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), loose),
  )
  .map(([n, t]) => `${n},${t}`);

let roundTrips = 0;

describe('inject --batch lines', () => {
  it('parse, build, render, read back: same recipient, text and SMSC', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonLine.map((l) => [l, 'jsonl'] as const),
          csvLine.map((l) => [l, 'csv'] as const),
          loose.map((l) => [l, 'csv'] as const),
        ),
        fc.constantFrom<OutboxFormat>('detail', 'unicode', 'standard'),
        ([line, format], outFormat) => {
          const parsed = parseBatchLine(line, format, 2);
          if (parsed.ok !== true) return;
          const req = parsed.request;
          const built = onlyThrows(
            () => buildMessage({ type: 'text', ...req }, { now: new Date(0), ref: 1 }),
            [InjectError],
          );
          if (built instanceof Error) return;
          // Alphanumeric recipients with `.` or `_` do not survive Gammu's file names (as with
          // gammu-smsd-inject); one cannot send to an alphanumeric address anyway.
          if (!/^\+?[0-9*#]+$/.test(req.number)) return;
          roundTrips++;
          const files = renderOutboxFiles(built, outFormat, new Date(0));
          let text = '';
          for (const f of files) {
            const read = readOutboxFile(f.nameFor(0), f.data, 'auto', 1);
            expect(read.ok, read.ok ? '' : read.reason).toBe(true);
            if (!read.ok) return;
            expect(read.message.number).toBe(req.number);
            text += read.message.parts.map((p) => p.text ?? '').join('');
            if (req.smsc !== undefined && files.length === 1 && f.nameFor(0).endsWith('.smsbackup'))
              expect(read.message.parts[0]?.smsc ?? '').toBe(req.smsc);
          }
          // A .txt file ends at U+0000 as in Gammu; the rest must come back whole.
          const expected = files.some((f) => !f.nameFor(0).endsWith('.smsbackup'))
            ? req.text.split('\u0000')[0]
            : req.text;
          if (req.maxSms === undefined) expect(text).toBe(expected);
        },
      ),
      params(1500),
    );
    expect(roundTrips).toBeGreaterThan(300); // the generators reach the files, not only the refusals
  });
});

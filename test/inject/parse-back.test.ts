import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSpool, runSmsd, listFiles, type TempSpool } from '../helpers/spool.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';
import { decodeSubmit, encodeSubmit, concatInfo } from '../../src/lib/sms/index.js';

/** What smsd inject writes must come back through the codec as what was asked for. */
describe('a file written by smsd inject parses back through the codec', () => {
  const spools: TempSpool[] = [];
  afterAll(() => spools.forEach((s) => s.cleanup()));

  const LONG = 'Lorem ipsum dolor sit amet, {consectetur} adipiscing elit [sed] do eiusmod tempor €. '.repeat(
    5,
  );

  const cases = [
    {
      name: 'GSM text',
      args: ['-text', 'Hello @ world {}'],
      text: 'Hello @ world {}',
      coding: 'gsm7',
      parts: 1,
    },
    {
      name: 'UCS-2',
      args: ['-unicode', '-text', 'Zoë Привет 😀'],
      text: 'Zoë Привет 😀',
      coding: 'ucs2',
      parts: 1,
    },
    {
      name: 'long GSM, 8-bit ref',
      args: ['-text', LONG, '-len', '1000'],
      text: LONG,
      coding: 'gsm7',
      parts: 3,
    },
    {
      name: 'long auto, 16-bit ref',
      args: ['-text', `Ж ${LONG}`, '-autolen', '1000', '-16bit'],
      text: `Ж ${LONG}`,
      coding: 'ucs2',
      parts: 7,
      ref16: true,
    },
    {
      name: 'flash + report + validity + smsc',
      args: ['-text', 'urgent', '-flash', '-report', '-validity', 'DAY', '-smscnumber', '+420603052000'],
      text: 'urgent',
      coding: 'gsm7',
      parts: 1,
      flash: true,
      report: true,
      validity: 0xa7,
      smsc: '+420603052000',
    },
  ] as const;

  it.each(cases)('$name', (c) => {
    const spool = makeSpool();
    spools.push(spool);
    const r = runSmsd(['inject', '-c', spool.config, 'TEXT', '+420123456789', ...c.args]);
    expect(r.status, r.stderr).toBe(0);
    const [name] = listFiles(spool.outbox);
    expect(name).toBeDefined();
    const read = readOutboxFile(name ?? '', fs.readFileSync(path.join(spool.outbox, name ?? '')), '7bit', 0);
    if (!read.ok) throw new Error(read.reason);
    expect(read.message.parts).toHaveLength(c.parts);
    const decoded = read.message.parts.map((p) => decodeSubmit(encodeSubmit(p).hex));
    expect(decoded.map((d) => d.text).join('')).toBe(c.text);
    for (const [i, d] of decoded.entries()) {
      expect(d.recipient.number).toBe('+420123456789');
      expect(d.coding).toBe(c.coding);
      expect(d.messageClass).toBe('flash' in c ? 0 : -1);
      expect(d.flags.statusReportRequest).toBe('report' in c);
      expect(d.validity).toMatchObject({ format: 'relative', value: 'validity' in c ? c.validity : 0xff });
      expect(d.smsc?.number).toBe('smsc' in c ? c.smsc : undefined);
      const concat = d.udh ? concatInfo(d.udh) : undefined;
      if (c.parts === 1) expect(d.udh).toBeUndefined();
      else expect(concat).toMatchObject({ total: c.parts, seq: i + 1, ref16bit: 'ref16' in c });
    }
    if (c.parts > 1)
      expect(new Set(decoded.map((d) => concatInfo(d.udh ?? Buffer.alloc(0))?.ref)).size).toBe(1);
  });
});

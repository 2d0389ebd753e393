import { describe, expect, it } from 'vitest';
import { formatBackup, parseBackup, type BackupEntry } from '../../src/lib/smsbackup/index.js';
import { parseIni } from '../../src/lib/config/ini.js';

// Inputs the fuzz lane found, kept as plain tests so they stay found whatever the seed.

const entry: BackupEntry = {
  pdu: 'Deliver',
  state: 'UnRead',
  number: 'Shop\nNews',
  name: '\r',
  smsc: '',
  text: 'hi',
  coding: 'Default_No_Compression',
  folder: 0,
  length: 2,
  messageClass: -1,
  replySmsc: false,
  rejectDuplicates: false,
  replaceMessage: 0,
  messageReference: 0,
};

describe('found by fuzzing', () => {
  it('an SMS backup whose Number or Name holds a line break (an alphanumeric sender may) reads back', () => {
    const file = formatBackup([entry], new Date(0));
    expect(file.toString('utf8')).toContain('Number = "Shop News"');
    expect(parseBackup(file)).toEqual([entry]);
  });

  it('an INI file of 50,000 sections parses in linear time', () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `[s${i}]\nk = v`).join('\n');
    const t = performance.now();
    expect(parseIni(text, 'many.ini').document.sections).toHaveLength(50_000);
    expect(performance.now() - t).toBeLessThan(2000);
  });
});

describe('found by fuzzing: SMPP framer', () => {
  it('a 64 KiB PDU arriving one octet at a time is joined once, not once per octet', async () => {
    const { Framer } = await import('../../src/lib/smpp/pdu.js');
    const pdu = Buffer.alloc(64 * 1024);
    pdu.writeUInt32BE(pdu.length, 0);
    pdu.writeUInt32BE(0x15, 4);
    const framer = new Framer(pdu.length);
    const t = performance.now();
    const out = [];
    for (let i = 0; i < pdu.length; i++) out.push(...framer.push(pdu.subarray(i, i + 1)));
    expect(performance.now() - t).toBeLessThan(400);
    expect(out).toHaveLength(1);
    expect(out[0]?.kind === 'pdu' && out[0].buf.equals(pdu)).toBe(true);
  });
});

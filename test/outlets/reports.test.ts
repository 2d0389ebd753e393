import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutletReports } from '../../src/lib/daemon/outlet-reports.js';
import { receiptKeys, submitKeys } from '../../src/lib/outlets/message-id.js';
import type { MessageIdFormat } from '../../src/lib/outlets/types.js';

const matches = (resp: string, receipt: string, f: MessageIdFormat) =>
  receiptKeys(receipt, f).some((k) => submitKeys(resp, f).includes(k));

describe('receipt ids against submit_sm_resp ids', () => {
  it.each([
    ['1A2B', '6699', 'hex', true],
    ['1A2B', '6699', 'auto', true],
    ['1A2B', '6699', 'same', false],
    ['00B8BE19', 'b8be19', 'same', true],
    ['6699', '1a2b', 'dec', true],
    ['6699', '1A2B', 'auto', true],
    ['6699', '1a2b', 'hex', false],
    ['812FC7470000001B', '9308878062554710043', 'auto', true],
    ['f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6', 'auto', true],
    ['12', '13', 'auto', false],
  ] as const)('resp %s, receipt %s, MessageIdFormat %s: %s', (resp, receipt, f, want) => {
    expect(matches(resp, receipt, f)).toBe(want);
  });
});

describe('OutletReports', () => {
  it('matches, writes the report file, and rebuilds report files from its journal after a crash', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-outlet-reports-'));
    const r = new OutletReports(dir, 'up1', 'auto');
    await r.record({
      id: 'OUTA.txt',
      part: 1,
      parts: 1,
      number: '+1',
      messageId: '1A2B',
      sentAt: new Date().toISOString(),
      phoneId: 'up1',
    });
    const sent = await r.match({ messageId: '6699', state: 'delivered', at: new Date() });
    expect(sent?.id).toBe('OUTA.txt');
    const rec = r.write({ messageId: '6699', state: 'delivered', at: new Date() }, sent);
    await r.durable();
    expect(rec?.category).toBe('delivered');
    const file = path.join(dir, 'OUTA.txt.01.json');
    const body = fs.readFileSync(file, 'utf8');
    // The file never reached the disk (power cut): the journal brings it back at the next start.
    fs.rmSync(file);
    r.close();
    const again = new OutletReports(dir, 'up1', 'auto');
    expect(fs.readFileSync(file, 'utf8')).toBe(body);
    // A final receipt drops the part from the index.
    expect(again.size).toBe(0);
    again.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutletReports } from '../../src/lib/daemon/outlet-reports.js';
import { receiptKeys, submitKeys } from '../../src/lib/outlets/message-id.js';
import type { MessageIdFormat } from '../../src/lib/outlets/types.js';
import { renderOutletMetrics } from '../../src/lib/daemon/metrics.js';

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

describe('outlet metrics', () => {
  it('exposes bind state, window, rate, throttling and counters with the phone and connection labels', () => {
    const text = renderOutletMetrics({
      pid: 1,
      phoneId: 'up1',
      device: 'smpp:127.0.0.1:2775',
      state: 'connected',
      client: 'x',
      signalPercent: -1,
      batteryPercent: -1,
      sent: 5,
      received: 1,
      failed: 0,
      startedAt: '',
      updatedAt: '',
      outlet: {
        connection: 'smpp',
        state: 'bound',
        inFlight: 3,
        window: 10,
        submitted: 9,
        accepted: 8,
        temporaryErrors: 2,
        permanentErrors: 1,
        resentUnanswered: 4,
        moReceived: 1,
        reportsReceived: 6,
        throttledUntil: new Date().toISOString(),
        submitRate: 12.5,
        queued: 0,
      },
    });
    const l = '{phone_id="up1",connection="smpp"}';
    for (const line of [
      `smsgate_outlet_bound${l} 1`,
      `smsgate_outlet_window_in_use${l} 3`,
      `smsgate_outlet_window${l} 10`,
      `smsgate_outlet_submit_rate${l} 12.5`,
      `smsgate_outlet_throttled${l} 1`,
      `smsgate_outlet_temporary_errors_total${l} 2`,
      `smsgate_outlet_permanent_errors_total${l} 1`,
      `smsgate_outlet_resent_unanswered_total${l} 4`,
      `smsgate_outlet_reports_total${l} 6`,
    ])
      expect(text).toContain(line);
  });
});

describe('OutletReports across daemons on one reports/ folder', () => {
  it('matches a receipt for a part another daemon on the same reports/ sent; the sender drops it once told', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-outlet-reports-'));
    const a = new OutletReports(dir, 'kbA', 'same');
    const b = new OutletReports(dir, 'kbB', 'same');
    const sentAt = new Date().toISOString();
    const part = (n: number, id: string) => ({
      id: 'OUTB.txt',
      part: n,
      parts: 2,
      number: '+2',
      messageId: id,
      sentAt,
      phoneId: 'kbA',
    });
    await a.record(part(1, 'uuid-1'));
    // Recorded by A after the receipt reached B: B finds it while it waits (journal read again).
    const early = b.match({ messageId: 'uuid-2', state: 'delivered', at: new Date() });
    await new Promise((r) => setTimeout(r, 150));
    await a.record(part(2, 'uuid-2'));
    const first = await b.match({ messageId: 'uuid-1', state: 'delivered', at: new Date() });
    expect(first).toMatchObject({ id: 'OUTB.txt', part: 1, origin: 'kbA' });
    const second = await early;
    expect(second).toMatchObject({ id: 'OUTB.txt', part: 2, origin: 'kbA' });
    expect(b.write({ messageId: 'uuid-1', state: 'delivered', at: new Date() }, first)?.category).toBe(
      'delivered',
    );
    // A late intermediate receipt after the final: still found, kept in the history only.
    const late = await b.match({ messageId: 'uuid-1', state: 'accepted', at: new Date() });
    expect(late?.part).toBe(1);
    expect(b.write({ messageId: 'uuid-1', state: 'accepted', at: new Date() }, late)).toMatchObject({
      category: 'delivered',
      history: [{ category: 'pending' }],
    });
    await b.durable();
    // A learns from B's journal that part 1 is final: one part left in its index.
    expect(a.size).toBe(2);
    a.foreign.refresh(); // B's journal is newer than A's last listing of reports/ (every 5 s)
    expect(a.size).toBe(2);
    a.foreign.refresh(0);
    expect(a.size).toBe(1);
    a.close();
    b.close();
    // At the next start too, from the other journals.
    const again = new OutletReports(dir, 'kbA', 'same');
    expect(again.size).toBe(1);
    again.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

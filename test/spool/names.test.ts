import { describe, expect, it } from 'vitest';
import { escapeNumber, inboxName, outboxName, parseOutboxName, isOutboxCandidate } from '../../src/lib/spool/names.js';

describe("Gammu's spool file names", () => {
  it('escapes numbers like Gammu (* reversible as X, unsafe characters as _)', () => {
    expect(escapeNumber('*101#')).toBe('X101#');
    expect(escapeNumber('a<b>c:d"e/f\\g|h?i\u0001')).toBe('a_b_c_d_e_f_g_h_i_');
  });

  it('builds inbox and outbox names', () => {
    const stamp = { date: '20021130', time: '021531' };
    expect(inboxName({ stamp, serial: 0, sender: '+45409000931640979', part: 0, ext: 'txt' })).toBe(
      'IN20021130_021531_00_+45409000931640979_00.txt',
    );
    expect(outboxName({ priority: 'C', stamp, serial: 0, number: '*101#', note: 'sms0', ext: 'smsbackup' })).toBe(
      'OUTC20021130_021531_00_X101#_sms0.smsbackup',
    );
  });

  it.each([
    ['OUT+4201234567890.txt', '+4201234567890', undefined],
    ['OUTA_+4201234_01.txt', '+4201234', undefined],
    ['OUTG20040620_193810_123_+4512345678_xpq.txtdf', '+4512345678', 'G'],
    ['OUTC20240101_120000_00_X101#_sms0.smsbackup', '*101#', 'C'],
  ])('reads the recipient of %s', (name, number, priority) => {
    const r = parseOutboxName(name);
    expect(r.ok && r.info.number).toBe(number);
    expect(r.ok && r.info.priority).toBe(priority);
  });

  it('reads the d/f/b flags after .txt', () => {
    const r = parseOutboxName('OUTG20040620_193810_123_+4512345678_xpq.txtdf');
    expect(r.ok && r.info).toMatchObject({ kind: 'txt', deliveryReport: true, flash: true, bookmark: false });
  });

  it.each([
    ['OUT_1.txt', /0, 2 or at least 4 underscores/],
    ['OUTA_B_C_1.txt', /0, 2 or at least 4 underscores/],
    [`OUT${'1'.repeat(51)}.txt`, /longer than 50/],
  ])('refuses %s', (name, reason) => {
    const r = parseOutboxName(name);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('ignores names Gammu ignores', () => {
    expect(isOutboxCandidate('.OUTC_x.txt')).toBe(false);
    expect(isOutboxCandidate('INx.txt')).toBe(false);
    expect(isOutboxCandidate('OUTx.doc')).toBe(false);
    expect(isOutboxCandidate('outx.TXT')).toBe(true);
  });
});

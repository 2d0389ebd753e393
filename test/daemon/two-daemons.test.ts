import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, type Rig } from '../helpers/rig.js';
import { runSmsd, listFiles } from '../helpers/spool.js';

describe('two smsd run daemons on one outbox', () => {
  const rigs: Rig[] = [];
  afterEach(async () => {
    for (const r of rigs.splice(0).reverse()) await r.close();
  });

  it('send 1,000 messages, each exactly once', async () => {
    const a = await startRig({ name: 'alpha', startDaemon: false });
    rigs.push(a);
    const b = await startRig({ name: 'beta', shareSpoolWith: a, startDaemon: false });
    rigs.push(b);
    const batch = path.join(a.spool.dir, 'thousand.csv');
    fs.writeFileSync(
      batch,
      Array.from({ length: 1000 }, (_, i) => `+4207${String(i).padStart(8, '0')},two daemons ${i}`).join(
        '\n',
      ),
    );
    // Both connected before the batch lands: on a loaded machine one daemon can take seconds
    // longer to start, and the other would have sent most of it alone by then.
    a.startDaemon();
    b.startDaemon();
    for (const r of [a, b]) await waitFor(() => r.output().includes('connected to'), 30_000, 'connected', r);
    expect(runSmsd(['inject', '-c', a.spool.config, '--batch', batch]).status).toBe(0);
    await waitFor(() => listFiles(a.spool.sent).length === 1000, 90_000, '1000 in sent/', a);
    const texts = [...a.emulator.modem.sent, ...b.emulator.modem.sent].map((s) => s.text);
    expect(texts).toHaveLength(1000);
    expect(new Set(texts).size).toBe(1000);
    // Both modems did a share of the work.
    expect(a.emulator.modem.sent.length).toBeGreaterThan(100);
    expect(b.emulator.modem.sent.length).toBeGreaterThan(100);
    // Each claim (`<file>.lock`) is released just after its file moved to sent/.
    await waitFor(() => listFiles(a.spool.outbox).length === 0, 15_000, 'an empty outbox', a);
  }, 120_000);

  it('a file pinned to a PhoneID (smppd routes) is sent only by that daemon; both record who received what', async () => {
    const a = await startRig({ name: 'alpha', startDaemon: false });
    rigs.push(a);
    const b = await startRig({ name: 'beta', shareSpoolWith: a, startDaemon: false });
    rigs.push(b);
    for (let i = 0; i < 6; i++) {
      const r = runSmsd(['inject', '-c', a.spool.config, 'TEXT', `+42077700000${i}`, '-text', `pinned ${i}`]);
      expect(r.status).toBe(0);
    }
    // What smppd serve writes for a route with phone = beta: an extension line Gammu ignores.
    for (const n of listFiles(a.spool.outbox).filter((x) => x.startsWith('OUT'))) {
      const file = path.join(a.spool.outbox, n);
      fs.writeFileSync(file, `; smsgate: PhoneID = beta\r\n${fs.readFileSync(file, 'utf8')}`);
    }
    fs.appendFileSync(b.spool.config, 'OwnNumber = +420999000111\n');
    a.startDaemon();
    b.startDaemon();
    await waitFor(() => listFiles(a.spool.sent).length === 6, 30_000, '6 in sent/', a);
    expect(a.emulator.modem.sent).toHaveLength(0);
    expect(b.emulator.modem.sent.map((s) => s.text).sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `pinned ${i}`),
    );
    b.emulator.modem.deliver({ from: '+420600111222', text: 'to beta' });
    await waitFor(
      () => listFiles(a.spool.inbox).filter((n) => n.startsWith('IN')).length === 1,
      15_000,
      'MO',
      b,
    );
    const [inbox] = listFiles(a.spool.inbox).filter((n) => n.startsWith('IN'));
    const { readReceivedRecord } = await import('../../src/lib/spool/received.js');
    expect(readReceivedRecord(a.spool.inbox, inbox ?? '')).toEqual({
      phoneId: 'beta',
      receiver: '+420999000111',
    });
  }, 60_000);
});

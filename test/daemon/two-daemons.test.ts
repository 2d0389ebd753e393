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
    expect(runSmsd(['inject', '-c', a.spool.config, '--batch', batch]).status).toBe(0);
    a.startDaemon();
    b.startDaemon();
    await waitFor(() => listFiles(a.spool.sent).length === 1000, 90_000, '1000 in sent/', a);
    const texts = [...a.emulator.modem.sent, ...b.emulator.modem.sent].map((s) => s.text);
    expect(texts).toHaveLength(1000);
    expect(new Set(texts).size).toBe(1000);
    // Both modems did a share of the work.
    expect(a.emulator.modem.sent.length).toBeGreaterThan(100);
    expect(b.emulator.modem.sent.length).toBeGreaterThan(100);
    expect(listFiles(a.spool.outbox)).toEqual([]);
  }, 120_000);
});

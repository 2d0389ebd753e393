import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSmsdConfig } from '../../src/lib/config/smsd-config.js';
import { spoolLayout } from '../../src/lib/spool/layout.js';
import { readSnapshot, spoolDirs } from '../../src/lib/monitor/snapshot.js';
import { readSmppdConfig } from '../../src/lib/smpp/config.js';
import { smppdPaths } from '../../src/lib/smpp/paths.js';
import { daemonPaths } from '../../src/lib/daemon/paths.js';

/** One answer to "where is X": smsd run, smsd monitor and smppd serve agree on every folder. */
describe('spool layout', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function setUp(smppdSection: (dir: string) => string) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-layout-'));
    const text =
      '[gammu]\ndevice = emulator\n[smsd]\nservice = files\n' +
      `inboxpath = ${dir}/spool/inbox/\noutboxpath = ${dir}/spool/outbox/\n` +
      `sentsmspath = ${dir}/spool/sent/\nerrorsmspath = ${dir}/spool/error/\n` +
      `[smppd]\nAccountsFile = ${dir}/esme.ini\n${smppdSection(dir)}`;
    const loaded = parseSmsdConfig(text, path.join(dir, 'smsdrc'), { cwd: dir });
    const smppd = readSmppdConfig(loaded.config.smppd, 'smsdrc', dir, loaded.config.smsd).config;
    return { config: loaded.config, smppd, dir };
  }

  const queueFile = (queue: string, esme: string, n: number) => {
    fs.mkdirSync(path.join(queue, esme), { recursive: true });
    fs.writeFileSync(path.join(queue, esme, `${n}-abc.json`), '{}');
  };

  it('smsd monitor counts the queue smppd writes when [smppd] StateDir is set', () => {
    const { config, smppd, dir: d } = setUp((d) => `StateDir = ${d}/elsewhere/state\n`);
    const smppdState = smppdPaths(config, smppd).state;
    expect(smppdState).toBe(path.join(d, 'elsewhere', 'state'));
    // The queue smppd serve writes (store/queue.ts: <state>/queue/<system_id>/...).
    queueFile(path.join(smppdState, 'queue'), 'shop', 1);
    queueFile(path.join(smppdState, 'queue'), 'bank', 2);
    // A stale queue at the default place must not count.
    queueFile(path.join(d, 'spool', 'smppd', 'queue'), 'shop', 3);
    const dirs = spoolDirs(config);
    expect(dirs.smppdQueue).toBe(path.join(smppdState, 'queue'));
    expect(readSnapshot(dirs).queues.smppdWaiting).toBe(2);
  });

  it('without StateDir every command puts smppd/ beside reports/', () => {
    const { config, smppd, dir: d } = setUp(() => '');
    const l = spoolLayout(config);
    expect(l.reports).toBe(path.join(d, 'spool', 'reports'));
    expect(l.smppd.state).toBe(path.join(d, 'spool', 'smppd'));
    expect(smppdPaths(config, smppd).state).toBe(l.smppd.state);
    expect(smppdPaths(config, smppd).reports).toBe(daemonPaths(config).reportsDir);
    expect(spoolDirs(config).smppdQueue).toBe(l.smppd.queue);
    expect(spoolDirs(config).status).toBe(daemonPaths(config).statusDir);
    expect(l.outboxState).toBe(path.join(d, 'spool', 'outbox', '.smsgate-state'));
  });
});

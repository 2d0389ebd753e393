import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FilesService } from '../../src/lib/services/files.js';
import { readSnapshot, type SpoolDirs } from '../../src/lib/monitor/snapshot.js';
import { readDaemonStatus, StatusUnavailable } from '../../src/lib/monitor/read-status.js';
import { loadSmsdConfig } from '../../src/lib/config/smsd-config.js';
import { daemonPaths, daemonName } from '../../src/lib/daemon/paths.js';
import { makeSpool, type TempSpool } from '../helpers/spool.js';
import { startRig, waitFor, type Rig } from '../helpers/rig.js';
import { listFiles, runSmsd } from '../helpers/spool.js';
import { bindCollecting, startTestSmppd, type TestSmppd } from '../smpp/harness.js';

// A file that vanishes at the worst moment: removed for real right before the read that was about to
// take it (the read goes to the real fs and meets ENOENT), not a mocked error.

const spools: TempSpool[] = [];
const rigs: Rig[] = [];
let smppd: TestSmppd | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await smppd?.stop();
  smppd = undefined;
  for (const s of spools.splice(0)) s.cleanup();
  for (const r of rigs.splice(0)) await r.close();
});

/** Makes `fs[fn]` delete `victim` just before it is read the first time. */
function vanishOnRead(
  fn: 'readFileSync' | 'lstatSync' | 'readdirSync',
  victim: string,
  when: (p: string) => boolean,
): { fired: () => boolean } {
  const real = fs[fn] as (...a: unknown[]) => unknown;
  let fired = false;
  vi.spyOn(fs, fn).mockImplementation(((...args: unknown[]) => {
    if (!fired && typeof args[0] === 'string' && when(args[0])) {
      fired = true;
      fs.rmSync(victim, { force: true });
    }
    return real.apply(fs, args);
  }) as never);
  return { fired: () => fired };
}

function filesService(spool: TempSpool, logs: string[]): FilesService {
  return new FilesService({
    inboxDir: spool.inbox,
    outboxDir: spool.outbox,
    sentDir: spool.sent,
    errorDir: spool.error,
    inboxFormat: 'standard',
    transmitFormat: 'auto',
    log: (level, m) => logs.push(`${level} ${m}`),
  });
}

const visible = (dir: string): string[] => fs.readdirSync(dir).filter((n) => !n.startsWith('.'));

describe('an outbox file vanishing between listing and reading (smsd run)', () => {
  for (const stage of ['readFileSync', 'lstatSync'] as const) {
    it(`at ${stage}: skipped without error, its claim released, the next file taken, nothing in error/`, async () => {
      const spool = makeSpool();
      spools.push(spool);
      const names = ['OUTA20260101_000000_00_+1_a.txt', 'OUTA20260101_000001_00_+2_b.txt'];
      for (const n of names) fs.writeFileSync(path.join(spool.outbox, n), `text of ${n}`);
      const logs: string[] = [];
      const svc = filesService(spool, logs);
      await svc.init();
      const victim = path.join(spool.outbox, names[0] as string);
      const hook = vanishOnRead(stage, victim, (p) => p === victim);
      const job = await svc.findOutbox();
      expect(hook.fired()).toBe(true);
      expect(job?.id).toBe(names[1]);
      expect(job?.message.parts[0]?.text).toBe(`text of ${names[1]}`);
      vi.restoreAllMocks();
      // Nothing of the vanished file is left behind or failed; it is not found again.
      expect(visible(spool.error)).toEqual([]);
      expect(fs.readdirSync(spool.outbox).filter((n) => n.startsWith(names[0] as string))).toEqual([]);
      expect(await svc.findOutbox()).toBeUndefined();
      expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
      await svc.free();
    });
  }
});

describe('outbox files deleted at random while smsd run sends (a real process, real races)', () => {
  it('the daemon stays up, sends each remaining message once, fails none', async () => {
    const rig = await startRig({ modem: { faults: { latencyMs: 5 } } });
    rigs.push(rig);
    const N = 60;
    const batch = path.join(rig.spool.dir, 'b.csv');
    fs.writeFileSync(
      batch,
      Array.from({ length: N }, (_, i) => `+4209${String(i).padStart(8, '0')},vanish ${i}`).join('\n'),
    );
    const r = runSmsd(['inject', '-c', rig.spool.config, '--batch', batch]);
    expect(r.status, r.stderr).toBe(0);
    const all = listFiles(rig.spool.outbox).filter((n) => n.startsWith('OUT'));
    expect(all).toHaveLength(N);
    // Each time the modem takes a message, a file next in line (likely listed, maybe claimed or
    // being read or sent right now) is deleted: 20 times.
    const deleted: string[] = [];
    for (let k = 0; k < 20; k++) {
      const seen = rig.emulator.modem.sendAttempts.length;
      await waitFor(() => rig.emulator.modem.sendAttempts.length > seen, 20_000, 'a send', rig);
      const next = listFiles(rig.spool.outbox)
        .filter((n) => n.startsWith('OUT'))
        .sort()[k % 2];
      if (!next) break;
      try {
        fs.unlinkSync(path.join(rig.spool.outbox, next));
        deleted.push(next);
      } catch {
        // already sent and moved: not deleted
      }
    }
    await waitFor(
      () => listFiles(rig.spool.outbox).filter((n) => n.startsWith('OUT')).length === 0,
      60_000,
      'outbox drained',
      rig,
    );
    await waitFor(
      () => listFiles(rig.spool.sent).length === N - deleted.length,
      20_000,
      'the rest in sent/',
      rig,
    );
    expect(rig.daemon?.exitCode, rig.output()).toBeNull();
    expect(listFiles(rig.spool.error)).toEqual([]);
    const texts = rig.emulator.modem.sent.map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(deleted.length).toBeGreaterThan(5);
    const midSend = rig.output().split('vanished while it was handled').length - 1;
    console.log(`smsd run: ${deleted.length} outbox files deleted, ${midSend} of them while being sent`);
    // A file deleted while it was being sent is no modem problem (no reconnect), only a warning.
    expect(rig.output()).not.toMatch(/modem error|reconnect|\n\s+at /);
  }, 120_000);
});

describe('an inbox file vanishing while smppd reads it', () => {
  it('logs it, delivers nothing for it, and goes on delivering the next MO exactly once', async () => {
    smppd = await startTestSmppd([{ systemId: 'inbound', password: 'pw', extra: 'mo = yes\n' }]);
    const t = smppd;
    const { session, got } = await bindCollecting(t.port, 'inbound', 'pw', 'bind_receiver');
    const gone = path.join(t.spool.inbox, 'IN20261127_101500_00_+420777000001_00.txt');
    const hook = vanishOnRead('readFileSync', gone, (p) => p === gone);
    fs.writeFileSync(gone, 'never seen');
    await waitFor(() => hook.fired(), 5_000, 'smppd reading the inbox file');
    await waitFor(
      () => t.logs.find((l) => l.includes('IN20261127_101500_00_+420777000001') && /ENOENT/.test(l)),
      5_000,
      'a log line naming the vanished message',
    );
    vi.restoreAllMocks();
    fs.writeFileSync(path.join(t.spool.inbox, 'IN20261127_101501_00_+420777000002_00.txt'), 'second');
    await waitFor(() => got.length >= 1, 5_000, 'the next MO');
    await new Promise((r) => setTimeout(r, 1500)); // a rescan or two: nothing more comes
    expect(got.map((p) => (p.short_message as { message?: unknown } | undefined)?.message)).toEqual([
      'second',
    ]);
    expect(t.logs.filter((l) => /\n\s+at /.test(l))).toEqual([]);
    session.close();
  });
});

describe('a status file vanishing while the monitor reads it', () => {
  it('readSnapshot shows the other daemons and does not throw; readDaemonStatus says StatusUnavailable', () => {
    const spool = makeSpool('PhoneID = one\n');
    spools.push(spool);
    const config = loadSmsdConfig(spool.config).config;
    const statusDir = daemonPaths(config).statusDir;
    fs.mkdirSync(statusDir, { recursive: true });
    const status = (name: string) => ({
      pid: process.pid,
      phoneId: name,
      device: '/dev/null',
      state: 'running',
      client: 'x',
      signalPercent: 0,
      batteryPercent: 0,
      sent: 0,
      received: 0,
      failed: 0,
    });
    const mine = path.join(statusDir, `${daemonName(config)}.json`);
    fs.writeFileSync(mine, JSON.stringify(status('one')));
    fs.writeFileSync(path.join(statusDir, 'two.json'), JSON.stringify(status('two')));
    const dirs: SpoolDirs = {
      status: statusDir,
      outbox: spool.outbox,
      inbox: spool.inbox,
      sent: spool.sent,
      error: spool.error,
      unmatched: path.join(os.tmpdir(), 'none'),
      smppdQueue: path.join(os.tmpdir(), 'none'),
    };

    const hook = vanishOnRead('readFileSync', mine, (p) => p === mine);
    const snap = readSnapshot(dirs);
    expect(hook.fired()).toBe(true);
    expect(snap.daemons.map((d) => d.phoneId)).toEqual(['two']);

    vi.restoreAllMocks();
    fs.writeFileSync(mine, JSON.stringify(status('one')));
    vanishOnRead('readFileSync', mine, (p) => p === mine);
    expect(() => readDaemonStatus(config)).toThrow(StatusUnavailable);
    expect(() => readDaemonStatus(config)).toThrow(/ENOENT/);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import smpp, { type PDU, type Session } from 'smpp';
import { ROOT, SMSD_BIN, listFiles, makeSpool, runSmsd, type TempSpool } from '../helpers/spool.js';
import { startRig, waitFor, type Rig } from '../helpers/rig.js';
import { bind, smppdConfig } from '../smpp/harness.js';
import { JOURNAL_DIR } from '../../src/lib/spool/journal.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';

// kill -9 at many points of `smsd inject --batch`, `smsd run` and `smppd serve`, each followed by an
// immediate restart. The kill points are random but seeded (mulberry32), so a failure is replayed
// with the same seed (CRASH_SEED). test/smpp/crash.test.ts and test/daemon/faults.test.ts each kill
// once at one point; these kill repeatedly, at spread-out points, on one spool.

const SEED = Number(process.env.CRASH_SEED ?? 0xc0ffee);
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');
const spools: TempSpool[] = [];
const rigs: Rig[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const r of rigs) await r.close();
  for (const s of spools) s.cleanup();
});

const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => c.once('exit', () => r()));

/** Texts of the messages in a folder (every file must parse: a half-written file is a failure). */
function texts(dir: string): string[] {
  return listFiles(dir)
    .filter((n) => n.startsWith('OUT'))
    .map((n) => {
      const r = readOutboxFile(n, fs.readFileSync(path.join(dir, n)), 'auto', 0);
      if (!r.ok) throw new Error(`${n} is not a complete message: ${r.reason}`);
      return r.message.parts.map((p) => p.text ?? '').join('');
    });
}

describe('kill -9 of smsd inject --batch at random points', () => {
  it('every file in the outbox is complete, no line is queued twice, and the next run retires the dead journal', async () => {
    const rand = rng(SEED);
    const LINES = 2000;
    // How long a whole batch takes here, so the kill points spread over start-up, writing and commit.
    const probe = makeSpool();
    spools.push(probe);
    const batch = path.join(probe.dir, 'batch.csv');
    fs.writeFileSync(
      batch,
      Array.from({ length: LINES }, (_, i) => `+4207${String(i).padStart(8, '0')},crash ${i}`).join('\n'),
    );
    const t0 = performance.now();
    const full = runSmsd(['inject', '-c', probe.config, '--batch', batch]);
    const fullMs = performance.now() - t0;
    expect(full.status, full.stderr).toBe(0);
    expect(texts(probe.outbox)).toHaveLength(LINES);

    const TRIALS = 6;
    const outcomes: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const spool = makeSpool();
      spools.push(spool);
      const child = spawn(process.execPath, [SMSD_BIN, 'inject', '-c', spool.config, '--batch', batch], {
        stdio: 'ignore',
      });
      children.push(child);
      // Spread over the run: trial k dies somewhere in the k-th sixth of it.
      const at = ((trial + rand()) / TRIALS) * fullMs;
      await new Promise((r) => setTimeout(r, at));
      child.kill('SIGKILL');
      await exited(child);
      const queued = texts(spool.outbox);
      expect(new Set(queued).size, `trial ${trial}`).toBe(queued.length);
      expect(queued.every((t) => /^crash \d+$/.test(t))).toBe(true);
      // The next batch (as `smsd run` at start) takes over the dead writer's journal.
      const one = path.join(spool.dir, 'one.csv');
      fs.writeFileSync(one, '+420700000000,after\n');
      const next = runSmsd(['inject', '-c', spool.config, '--batch', one]);
      expect(next.status, next.stderr).toBe(0);
      const journal = path.join(spool.outbox, JOURNAL_DIR);
      const left = fs.existsSync(journal) ? fs.readdirSync(journal).filter((n) => n.endsWith('.wal')) : [];
      expect(left, `trial ${trial}`).toEqual([]);
      const after = texts(spool.outbox);
      expect(after.filter((t) => t !== 'after').sort()).toEqual([...queued].sort());
      // Left for the issue's clean-up fix (another change): temp files of the killed writer.
      const tmps = fs.readdirSync(spool.outbox).filter((n) => n.startsWith('.tmp-')).length;
      outcomes.push(`${Math.round(at)} ms: ${queued.length}${tmps ? ` (+${tmps} .tmp left)` : ''}`);
    }
    console.log(
      `inject --batch of ${LINES} (${Math.round(fullMs)} ms unkilled), killed at: ${outcomes.join(', ')} queued`,
    );
  }, 120_000);
});

describe('kill -9 of smsd run while it sends', () => {
  it('four kills at random points of 80 sends: none lost, at most one resent per kill, up again within 5 s each time', async () => {
    const rand = rng(SEED + 1);
    const rig = await startRig({ modem: { faults: { latencyMs: 5 } } });
    rigs.push(rig);
    const batch = path.join(rig.spool.dir, 'b.csv');
    const N = 80;
    fs.writeFileSync(
      batch,
      Array.from({ length: N }, (_, i) => `+4208${String(i).padStart(8, '0')},run kill ${i}`).join('\n'),
    );
    const r = runSmsd(['inject', '-c', rig.spool.config, '--batch', batch]);
    expect(r.status, r.stderr).toBe(0);
    const connects = () => rig.output().split('connected to').length - 1;
    await waitFor(() => connects() >= 1, 10_000, 'first start', rig);
    const KILLS = 4;
    const upMs: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const base = rig.emulator.modem.sendAttempts.length;
      const more = 3 + Math.floor(rand() * 10);
      await waitFor(
        () => rig.emulator.modem.sendAttempts.length >= base + more,
        30_000,
        `send ${base + more}`,
        rig,
      );
      // A little further into the send cycle: before, during or after the move to sent/.
      await new Promise((res) => setTimeout(res, Math.floor(rand() * 25)));
      await rig.stopDaemon('SIGKILL');
      const before = connects();
      const t = performance.now();
      rig.startDaemon();
      await waitFor(() => connects() > before, 5_000, `restart ${k + 1} connected`, rig);
      upMs.push(Math.round(performance.now() - t));
    }
    await waitFor(() => listFiles(rig.spool.sent).length === N, 90_000, `all ${N} in sent/`, rig);
    const sent = rig.emulator.modem.sent.map((s) => s.text);
    const distinct = new Set(sent);
    expect(distinct.size).toBe(N);
    const resent = sent.length - distinct.size;
    console.log(`smsd run: ${KILLS} kills, up again after ${upMs.join(', ')} ms, ${resent} resent`);
    expect(resent).toBeLessThanOrEqual(KILLS);
    expect(listFiles(rig.spool.error)).toEqual([]);
  }, 180_000);
});

describe('kill -9 of smppd serve while ESMEs submit', () => {
  it('three kills at random points: every acknowledged message stored exactly once, up again within 5 s each time', async () => {
    const rand = rng(SEED + 2);
    const made = await smppdConfig([
      { systemId: 'one', password: 'pw1' },
      { systemId: 'two', password: 'pw2' },
    ]);
    spools.push(made.spool);
    const start = async (): Promise<{ child: ChildProcess; port: number; ms: number }> => {
      const t = performance.now();
      const child = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', made.configFile], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      let out = '';
      child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      const m = await waitFor(
        () => /smppd listening on 127\.0\.0\.1:(\d+)/.exec(out),
        5_000,
        'smppd up within 5 s',
      );
      return { child, port: Number(m[1]), ms: Math.round(performance.now() - t) };
    };
    const acked = new Set<string>();
    const upMs: number[] = [];
    let seq = 0;
    let server = await start();
    const KILLS = 3;
    for (let k = 0; k <= KILLS; k++) {
      const sessions: Session[] = [];
      for (const [sid, pw] of [
        ['one', 'pw1'],
        ['two', 'pw2'],
      ] as const) {
        const { session, resp } = await bind(server.port, sid, pw, 'bind_transmitter');
        expect(resp.command_status).toBe(0);
        session.on('error', () => undefined);
        sessions.push(session);
      }
      const target = k < KILLS ? 300 + Math.floor(rand() * 1500) : 500;
      const before = acked.size;
      await new Promise<void>((resolve) => {
        let inFlight = 0;
        let done = false;
        const pump = (s: Session): void => {
          while (!done && inFlight < 50) {
            inFlight++;
            s.send(
              new smpp.PDU('submit_sm', {
                destination_addr: '+420123456789',
                short_message: Buffer.from(`crash ${seq++}`),
              }),
              (resp: PDU) => {
                inFlight--;
                if (resp.command_status === 0) acked.add(String(resp.message_id));
                if (!done && acked.size - before >= target) {
                  done = true;
                  if (k < KILLS) server.child.kill('SIGKILL');
                  resolve();
                } else pump(s);
              },
            );
          }
        };
        for (const s of sessions) pump(s);
      });
      if (k === KILLS) {
        for (const s of sessions) s.close();
        break;
      }
      await exited(server.child);
      server = await start();
      upMs.push(server.ms);
    }
    // The last server has settled what the killed ones left; give its files a moment to follow the acks.
    server.child.kill('SIGTERM');
    await exited(server.child);
    const ids = new Map<string, number>();
    for (const n of fs.readdirSync(made.spool.outbox)) {
      const m = /_smpp-([0-9a-f]+)\.smsbackup$/.exec(n);
      if (m?.[1]) ids.set(m[1], (ids.get(m[1]) ?? 0) + 1);
    }
    const missing = [...acked].filter((id) => !ids.has(id));
    const twice = [...ids].filter(([, n]) => n > 1);
    console.log(`smppd: ${KILLS} kills, ${acked.size} acknowledged, up again after ${upMs.join(', ')} ms`);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
  }, 180_000);
});

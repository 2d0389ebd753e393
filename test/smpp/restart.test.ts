import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { smppdConfig } from './harness.js';
import { type TempSpool } from '../helpers/spool.js';
import { processState } from '../helpers/resources.js';
import { RawPeer, SMPPD_BIN, bindPdu, spawnSmppd, submitPdu } from '../helpers/hostile-smpp.js';

// kill -9 of `smppd serve` whose parent does not reap it (a zombie keeps its PID): the next
// start takes the locks at once (a zombie holds nothing), and every acknowledged message is there.

const HAVE_PERL = spawnSync('perl', ['-e', '1']).status === 0;
let spool: TempSpool | undefined;
const children: ChildProcess[] = [];
const pids: number[] = [];
afterAll(() => {
  for (const p of pids)
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  spool?.cleanup();
});

/** smppd under a Perl parent that never calls wait(): once killed, the child stays a zombie. */
async function underNonReapingParent(config: string): Promise<{ pid: number; port: number }> {
  const parent = spawn(
    'perl',
    [
      '-e',
      '$| = 1; my $pid = fork(); if ($pid) { print "PID $pid\\n"; sleep 300; exit 0 } exec @ARGV',
      process.execPath,
      SMPPD_BIN,
      'serve',
      '-c',
      config,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(parent);
  let out = '';
  parent.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const pid = /PID (\d+)/.exec(out);
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
    if (pid && port) {
      pids.push(Number(pid[1]));
      return { pid: Number(pid[1]), port: Number(port[1]) };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`smppd did not start under perl:\n${out}`);
}

describe.skipIf(!HAVE_PERL)('restart right after kill -9', () => {
  it('a zombie smppd holds no lock: the next start is up within 5 s and nothing acknowledged is lost', async () => {
    const made = await smppdConfig([{ systemId: 'crash', password: 'crash1', extra: 'prepaid = no\n' }]);
    spool = made.spool;
    const first = await underNonReapingParent(made.configFile);
    const peer = await RawPeer.connect(first.port);
    expect((await peer.call(bindPdu('crash', 'crash1', 1), 1))?.status).toBe(0);
    const acked = new Map<number, string>();
    // Submits in flight while it dies: those answered ROK must all be there afterwards.
    for (let i = 0; i < 300; i++) void peer.send(submitPdu(100 + i, { message: Buffer.from(`crash ${i}`) }));
    for (let i = 0; i < 150; i++) {
      const a = await peer.answer(100 + i, 10_000);
      if (a?.status === 0) acked.set(a.seq, a.body.subarray(0, a.body.length - 1).toString('latin1'));
    }
    process.kill(first.pid, 'SIGKILL');
    for (let i = 0; i < 100 && processState(first.pid) !== 'Z'; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(processState(first.pid)).toBe('Z');
    for (const r of peer.received)
      if (r.status === 0) acked.set(r.seq, r.body.subarray(0, r.body.length - 1).toString('latin1'));
    peer.destroy();
    expect(acked.size).toBeGreaterThanOrEqual(150);
    const t0 = performance.now();
    const again = await spawnSmppd(made.configFile, { timeoutMs: 5_000 });
    children.push(again.child);
    const upMs = performance.now() - t0;
    console.log(
      `restart after kill -9 with the old process a zombie: up in ${upMs.toFixed(0)} ms; ${acked.size} acknowledged`,
    );
    expect(upMs).toBeLessThan(5_000);
    expect(processState(first.pid)).toBe('Z');
    const ids = new Set(
      fs.readdirSync(made.spool.outbox).flatMap((n) => /_smpp-([0-9a-f]+)\.smsbackup$/.exec(n)?.[1] ?? []),
    );
    for (const id of acked.values())
      expect(ids.has(id), `message ${id} acknowledged, not in ${path.basename(made.spool.outbox)}`).toBe(
        true,
      );
    again.child.kill('SIGTERM');
  }, 60_000);
});

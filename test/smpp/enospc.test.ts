import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAccounts } from './harness.js';
import { fdTargets, openFds } from '../helpers/resources.js';
import { RawPeer, bindPdu, spawnSmppd, submitPdu } from '../helpers/hostile-smpp.js';

// A full disk under `smppd serve`: the spool on a 2 MB tmpfs. Every refused submit gives back what it
// took (descriptor, journal segment); once space returns, submits are taken again by themselves, and
// every message acknowledged is in the outbox.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-enospc-'));
const spoolDir = path.join(dir, 'spool');
fs.mkdirSync(spoolDir);
const mounted =
  process.getuid?.() === 0 &&
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', spoolDir]).status === 0;
if (!mounted) console.log('ENOSPC test skipped: needs root to mount a tmpfs');

let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (mounted) spawnSync('umount', ['-l', spoolDir]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const outbox = path.join(spoolDir, 'outbox');
const filler = path.join(spoolDir, 'filler');
let port = 0;
let pid = 0;

beforeAll(async () => {
  if (!mounted) return;
  for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(spoolDir, d));
  const accounts = path.join(dir, 'esme.ini');
  await writeAccounts(accounts, [{ systemId: 'full', password: 'full1' }]);
  const config = path.join(dir, 'smsdrc');
  fs.writeFileSync(
    config,
    `[gammu]\ndevice = /dev/null\nconnection = at\n\n[smsd]\nservice = files\ninboxpath = ${spoolDir}/inbox/\noutboxpath = ${outbox}/\nsentsmspath = ${spoolDir}/sent/\nerrorsmspath = ${spoolDir}/error/\n\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nStateDir = ${path.join(dir, 'state')}\nBlockAttempts = 100\n`,
  );
  const s = await spawnSmppd(config);
  child = s.child;
  port = s.port;
  pid = s.child.pid as number;
}, 30_000);

/** Sends `n` submits, at most 200 unanswered; the message IDs of those answered ROK, and the other statuses. */
async function submitMany(
  peer: RawPeer,
  first: number,
  n: number,
): Promise<{ ok: string[]; refused: number }> {
  const ok: string[] = [];
  let refused = 0;
  for (let at = 0; at < n; at += 200) {
    const seqs = Array.from({ length: Math.min(200, n - at) }, (_, i) => first + at + i);
    await peer.send(Buffer.concat(seqs.map((q) => submitPdu(q, { message: Buffer.from(`full ${q}`) }))));
    for (const q of seqs) {
      const a = await peer.answer(q, 20_000);
      if (a?.status === 0) ok.push(a.body.subarray(0, -1).toString('latin1'));
      else refused++;
    }
    peer.received.length = 0;
  }
  return { ok, refused };
}

function idsInOutbox(): Set<string> {
  return new Set(fs.readdirSync(outbox).flatMap((n) => /_smpp-([0-9a-f]+)\.smsbackup$/.exec(n)?.[1] ?? []));
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

describe.skipIf(!mounted)('ENOSPC under smppd serve', () => {
  it('10,000 refused submits leave descriptors and segments flat; space back: taken again, nothing acknowledged lost', async () => {
    const peer = await RawPeer.connect(port);
    expect((await peer.call(bindPdu('full', 'full1', 1), 1))?.status).toBe(0);
    const before = await submitMany(peer, 10, 100);
    expect(before.refused).toBe(0);
    // Fill what is left of the tmpfs.
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const fds0 = openFds(pid);
    const full = await submitMany(peer, 1_000, 10_000);
    const fds1 = openFds(pid);
    const segments = fs.readdirSync(path.join(outbox, '.smsgate-journal')).length;
    console.log(
      `ENOSPC: ${full.refused} of 10,000 submits refused, ${full.ok.length} taken; descriptors ${fds0} -> ${fds1}; ${segments} journal files`,
    );
    expect(full.refused).toBeGreaterThan(9_000);
    expect(fds1, fdTargets(pid).join('\n')).toBeLessThanOrEqual(fds0 + 3);
    expect(segments).toBeLessThanOrEqual(4);
    fs.rmSync(filler);
    const after = await submitMany(peer, 20_000, 200);
    expect(after.refused).toBe(0);
    const acked = [...before.ok, ...full.ok, ...after.ok];
    expect(await waitFor(() => acked.every((id) => idsInOutbox().has(id)), 20_000)).toBe(true);
    expect(openFds(pid)).toBeLessThanOrEqual(fds0 + 3);
    peer.destroy();
  }, 180_000);
});

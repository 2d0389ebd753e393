import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSpool, runSmsd, SMSD_BIN, type TempSpool } from '../helpers/spool.js';

/**
 * `smsd inject --batch` killed with SIGKILL leaves hidden files (`.tmp-<pid>-...` between write and
 * link, its journal segment `<pid>-....wal`): the next batch and `smsd run` at start remove those of
 * dead writers, never a live writer's.
 */
const hidden = (s: TempSpool) => [
  ...fs.readdirSync(s.outbox).filter((n) => n.startsWith('.tmp-')),
  ...fs.readdirSync(path.join(s.outbox, '.smsgate-journal')).filter((n) => n.endsWith('.wal')),
];
const queued = (s: TempSpool) => fs.readdirSync(s.outbox).filter((n) => n.startsWith('OUT')).length;

function csv(s: TempSpool, name: string, n: number, prefix: string): string {
  const file = path.join(s.dir, name);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`+42060${String(i).padStart(7, '0')},${prefix} ${i}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Starts a batch and kills it with SIGKILL once it has queued `after` files; returns its pid. */
async function killMidBatch(s: TempSpool, file: string, after: number): Promise<number> {
  const child = spawn(process.execPath, [SMSD_BIN, 'inject', '-c', s.config, '--batch', file], {
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 30_000;
  while (queued(s) < after && Date.now() < deadline && child.exitCode === null)
    await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await exited;
  return child.pid as number;
}

describe('a killed inject --batch leaves nothing behind for long', () => {
  let spool: TempSpool | undefined;
  afterEach(() => spool?.cleanup());

  it('the next batch removes the dead batch’s .tmp and .wal files, keeps a live writer’s', async () => {
    spool = makeSpool();
    const s = spool;
    const pid = await killMidBatch(s, csv(s, 'big.csv', 200_000, 'first'), 500);
    expect(queued(s)).toBeLessThan(200_000); // killed mid-batch
    // The segment is always there mid-batch; a .tmp only when the kill fell between write and link:
    // one of the dead pid is added so that path is always exercised.
    fs.writeFileSync(path.join(s.outbox, `.tmp-${pid}-zz-999999`), 'half');
    const live = path.join(s.outbox, `.tmp-${process.pid}-zz-1`); // this process: a live writer
    fs.writeFileSync(live, 'in flight');
    const left = hidden(s);
    expect(left.some((n) => n.endsWith('.wal'))).toBe(true);
    expect(left.some((n) => n.startsWith(`.tmp-${pid}-`))).toBe(true);
    const r = runSmsd(['inject', '-c', s.config, '--batch', csv(s, 'one.csv', 1, 'next')]);
    expect(r.status, r.stderr).toBe(0);
    expect(hidden(s).filter((n) => !n.startsWith(`.tmp-${process.pid}-`))).toEqual([]);
    expect(fs.readFileSync(live, 'utf8')).toBe('in flight');
  }, 60_000);

  it('smsd run at start removes them too', async () => {
    spool = makeSpool();
    const s = spool;
    const pid = await killMidBatch(s, csv(s, 'big.csv', 200_000, 'first'), 500);
    fs.writeFileSync(path.join(s.outbox, `.tmp-${pid}-zz-999999`), 'half');
    fs.writeFileSync(path.join(s.inbox, `.tmp-${pid}-zz-999998`), 'half an inbox file');
    expect(hidden(s).length).toBeGreaterThan(1);
    const daemon = spawn(process.execPath, [SMSD_BIN, 'run', '-c', s.config], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 20_000;
      while (
        (hidden(s).length > 0 || fs.readdirSync(s.inbox).some((n) => n.startsWith('.tmp-'))) &&
        Date.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 50));
      expect(hidden(s)).toEqual([]);
      expect(fs.readdirSync(s.inbox).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    } finally {
      daemon.kill('SIGKILL');
    }
  }, 60_000);

  it('batches started while another runs sweep around its files: every message of it queued', async () => {
    spool = makeSpool();
    const s = spool;
    const N = 5_000;
    const big = spawn(
      process.execPath,
      [SMSD_BIN, 'inject', '-c', s.config, '--batch', csv(s, 'a.csv', N, 'a')],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => big.once('exit', resolve));
    const one = csv(s, 'one.csv', 1, 'small');
    let small = 0;
    // Each small batch sweeps the outbox at its start, while the big one writes and links its files.
    while (big.exitCode === null) {
      const r = runSmsd(['inject', '-c', s.config, '--batch', one]);
      expect(r.status, r.stderr).toBe(0);
      small++;
      await new Promise((r) => setTimeout(r, 10)); // lets the big one's exit be seen
    }
    expect(await exited).toBe(0);
    expect(small).toBeGreaterThan(2);
    expect(queued(s)).toBe(N + small);
    expect(hidden(s)).toEqual([]);
  }, 120_000);
});

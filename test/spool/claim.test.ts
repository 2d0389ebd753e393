import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tryClaim, withFileLockSync } from '../../src/lib/spool/lock.js';
import { createSpoolFile } from '../../src/lib/spool/atomic.js';
import { ROOT } from '../helpers/spool.js';

/** A worker process claiming outbox files and "sending" them (appending its name to a log). */
const WORKER = `
import fs from 'node:fs';
import path from 'node:path';
import { tryClaim } from '${path.join(ROOT, 'dist/lib/spool/lock.js')}';
const [dir, log, who] = process.argv.slice(2);
for (const name of fs.readdirSync(dir).filter((n) => n.startsWith('OUT')).sort()) {
  const file = path.join(dir, name);
  const release = await tryClaim(file);
  if (!release) continue;
  fs.appendFileSync(log, name + ' ' + who + '\\n');
  fs.renameSync(file, path.join(dir, '..', 'sent', name));
  await release();
}
`;

describe('spool lock protocol', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-claim-'));
    fs.mkdirSync(path.join(dir, 'outbox'));
    fs.mkdirSync(path.join(dir, 'sent'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('two processes on one outbox take each file exactly once', async () => {
    const outbox = path.join(dir, 'outbox');
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(outbox, `OUT${String(i).padStart(4, '0')}.txt`), 'x');
    const log = path.join(dir, 'log');
    const worker = path.join(dir, 'worker.mjs');
    fs.writeFileSync(worker, WORKER);
    const run = (who: string) =>
      new Promise<number>((resolve) => spawn(process.execPath, [worker, outbox, log, who], { stdio: 'inherit' }).on('exit', (c) => resolve(c ?? -1)));
    expect(await Promise.all([run('a'), run('b')])).toEqual([0, 0]);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(300);
    expect(new Set(lines.map((l) => l.split(' ')[0])).size).toBe(300);
    expect(fs.readdirSync(path.join(dir, 'sent'))).toHaveLength(300);
  }, 30_000);

  it('takes over a lock left by a killed process once it is stale', async () => {
    const file = path.join(dir, 'outbox', 'OUTX.txt');
    fs.writeFileSync(file, 'x');
    fs.mkdirSync(`${file}.lock`);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(`${file}.lock`, old, old);
    expect(await tryClaim(file, { staleMs: 5_000 })).toBeTypeOf('function');
  });

  it('does not take a fresh lock, nor a file already moved away', async () => {
    const file = path.join(dir, 'outbox', 'OUTY.txt');
    fs.writeFileSync(file, 'x');
    const release = await tryClaim(file);
    expect(release).toBeTypeOf('function');
    expect(await tryClaim(file)).toBeUndefined();
    await release?.();
    fs.rmSync(file);
    expect(await tryClaim(file)).toBeUndefined();
  });
});

/** Reads a counter file, adds one, writes it back (rename), under withFileLockSync, N times. */
const COUNTER = `
import fs from 'node:fs';
import { withFileLockSync } from '${path.join(ROOT, 'dist/lib/spool/lock.js')}';
const [file, n] = process.argv.slice(2);
for (let i = 0; i < Number(n); i++)
  withFileLockSync(file, () => {
    const v = Number(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file + '.' + process.pid, String(v + 1));
    fs.renameSync(file + '.' + process.pid, file);
  });
`;

describe('short read-modify-write lock (withFileLockSync)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-wlock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('three processes updating one file lose no update', async () => {
    const file = path.join(dir, 'count');
    fs.writeFileSync(file, '0');
    const worker = path.join(dir, 'counter.mjs');
    fs.writeFileSync(worker, COUNTER);
    const run = () =>
      new Promise<number>((resolve) =>
        spawn(process.execPath, [worker, file, '400'], { stdio: 'inherit' }).on('exit', (c) => resolve(c ?? -1)),
      );
    expect(await Promise.all([run(), run(), run()])).toEqual([0, 0, 0]);
    expect(fs.readFileSync(file, 'utf8')).toBe('1200');
    expect(fs.readdirSync(dir).sort()).toEqual(['count', 'counter.mjs']);
  }, 60_000);

  it('takes over at once a lock whose process is gone', () => {
    const file = path.join(dir, 'report.json');
    const child = spawn(process.execPath, ['-e', '0']);
    const lock = path.join(dir, '.report.json.wlock');
    return new Promise<void>((resolve) =>
      child.on('exit', () => {
        fs.writeFileSync(lock, `${child.pid}\n`);
        const t = Date.now();
        expect(withFileLockSync(file, () => 'ran')).toBe('ran');
        expect(Date.now() - t).toBeLessThan(1_000);
        expect(fs.existsSync(lock)).toBe(false);
        resolve();
      }),
    );
  });
});

describe('atomic spool file creation', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-atomic-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('never replaces an existing name (O_EXCL semantics) and leaves no temporary file', () => {
    const nameFor = (j: number) => `OUTC20260101_000000_00_123_sms${j}.smsbackup`;
    fs.writeFileSync(path.join(dir, nameFor(0)), 'theirs');
    expect(createSpoolFile(dir, Buffer.from('ours'), nameFor, 100)).toBe(nameFor(1));
    expect(fs.readFileSync(path.join(dir, nameFor(0)), 'utf8')).toBe('theirs');
    expect(fs.readdirSync(dir).sort()).toEqual([nameFor(0), nameFor(1)]);
  });

  it('fails when every serial is taken', () => {
    const nameFor = (j: number) => `OUT_${j}`;
    for (let j = 0; j < 3; j++) fs.writeFileSync(path.join(dir, nameFor(j)), '');
    expect(() => createSpoolFile(dir, Buffer.from('x'), nameFor, 3)).toThrow(/no free file name/);
    expect(fs.readdirSync(dir)).toHaveLength(3);
  });
});

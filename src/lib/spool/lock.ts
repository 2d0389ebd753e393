import fs from 'node:fs';
import path from 'node:path';
import type { LockOptions } from 'proper-lockfile';
import { isAbsent, readIfExists } from '../common/absent.js';
import { isProcessAlive } from '../common/process-alive.js';

/**
 * The spool's lock protocol: a daemon that works on a spool file holds `<file>.lock` (a directory,
 * created atomically by proper-lockfile and refreshed while held). A lock not refreshed for
 * `staleMs` belongs to a dead process and is taken over, so a killed daemon never blocks a message.
 * Gammu itself ignores these locks; they only coordinate our own daemons.
 */

export const DEFAULT_STALE_MS = 10_000;

export type Release = () => Promise<void>;

// Loaded on first use: `smsd inject` never locks and must not pay for the import.
let lockfile: typeof import('proper-lockfile') | undefined;
async function load(): Promise<typeof import('proper-lockfile')> {
  lockfile ??= (await import('proper-lockfile')).default;
  return lockfile;
}

/**
 * Claims `file` without waiting. Resolves to a release function, or `undefined` when another live
 * process holds it or the file is gone (already sent and moved by someone else).
 */
export async function tryClaim(
  file: string,
  opts: { staleMs?: number; onCompromised?: (err: Error) => void } = {},
): Promise<Release | undefined> {
  const lf = await load();
  const options: LockOptions = {
    stale: opts.staleMs ?? DEFAULT_STALE_MS,
    retries: 0,
    realpath: false,
    onCompromised: opts.onCompromised ?? (() => undefined),
  };
  try {
    const release = await lf.lock(file, options);
    try {
      await (await import('node:fs/promises')).access(file);
    } catch (err) {
      await release();
      if (isAbsent(err)) return undefined; // claimed a moment after another process took it away
      throw err;
    }
    return release;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw err;
  }
}

export async function isClaimed(file: string, staleMs = DEFAULT_STALE_MS): Promise<boolean> {
  const lf = await load();
  return lf.check(file, { stale: staleMs, realpath: false });
}

const sleepBuf = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `fn` holding `<dir>/.<name>.wlock` (created exclusively, holding our PID): a short
 * read-modify-write of one file that several daemons may update at once (a receipt's report file
 * can be written by whichever daemon the receipt reached). Synchronous, since the holder keeps it
 * for one read and one rename; a lock whose process is gone (kill -9) is taken over at once, and
 * one held past `maxWaitMs` by a live process is taken over too rather than stall the daemon.
 */
export function withFileLockSync<T>(file: string, fn: () => T, maxWaitMs = 2_000): T {
  const lock = path.join(path.dirname(file), `.${path.basename(file)}.wlock`);
  const end = Date.now() + maxWaitMs;
  for (;;) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o644);
      try {
        fs.writeSync(fd, `${process.pid}\n`);
      } finally {
        fs.closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = readIfExists(lock, 'utf8');
    if (text === undefined) continue; // released meanwhile
    const pid = Number.parseInt(text, 10);
    // Empty: its holder has created it and not yet written its PID.
    const dead = text !== '' && (!(pid > 0) || !isProcessAlive(pid));
    if (dead || Date.now() > end) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    Atomics.wait(sleepBuf, 0, 0, 1);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

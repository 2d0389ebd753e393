import type { LockOptions } from 'proper-lockfile';
import { isAbsent } from '../common/absent.js';

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

import { spawnSync } from 'node:child_process';

/**
 * A sick disk for tests, as root: chmod does not deny root anything, so a folder is made read-only
 * with a read-only bind mount of itself (EROFS), and small with a tmpfs mounted on it (ENOSPC).
 * `canMount` says why not when this is not root or mount(8) fails, for a clear skip line.
 */

function run(args: string[]): string | undefined {
  const r = spawnSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`;
}

export function mountProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: cannot bind-mount a read-only folder';
  return undefined;
}

/** Makes `dir` read-only in place; returns the undo (unmount). Throws when mount fails. */
export function makeReadOnly(dir: string): () => void {
  const err = run(['mount', '--bind', dir, dir]) ?? run(['mount', '-o', 'remount,bind,ro', dir]);
  if (err) {
    run(['umount', dir]);
    throw new Error(err);
  }
  return () => {
    const e = run(['umount', dir]);
    if (e) throw new Error(e);
  };
}

/** Mounts a tmpfs of `size` (e.g. `64k`) on `dir`; returns the undo. */
export function mountSmall(dir: string, size: string): () => void {
  const err = run(['mount', '-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (err) throw new Error(err);
  return () => {
    const e = run(['umount', '-l', dir]);
    if (e) throw new Error(e);
  };
}

import fs from 'node:fs';
import path from 'node:path';
import { ifExists } from '../common/absent.js';
import { isProcessAlive } from '../common/process-alive.js';

/** Errors of the spool that a command reports as-is (they name the path and what is wrong). */
export class SpoolError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SpoolError';
  }
}

let tmpCounter = 0;

/** A hidden name in `dir`: Gammu and our readers skip names that start with a dot. */
export function tempName(dir: string): string {
  tmpCounter++;
  return path.join(dir, `.tmp-${process.pid}-${Date.now().toString(36)}-${tmpCounter}`);
}

/** Our hidden temporary names, with their writer's pid: tempName's and the journal recovery's. */
const TEMP_RE = /^\.(?:tmp|recover)-(\d+)-/;

/**
 * Removes hidden temporary files of `dir` whose writer is dead (kill -9 between write and link):
 * nothing else ever removes them. A file whose pid is alive is never touched, even if that pid was
 * reused (it stays until that process ends); like the journal's recovery, this assumes the writers
 * of a spool share our pid namespace. Returns how many were removed.
 */
export function sweepDeadTemps(dir: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names) {
    const pid = Number(TEMP_RE.exec(n)?.[1] ?? 0);
    if (pid <= 0 || pid === process.pid || writerAlive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, n), { force: true });
      removed++;
    } catch {
      // a read-only folder: tried again next time
    }
  }
  return removed;
}

/** Alive and not a zombie (killed, not yet reaped by its parent: it writes nothing any more). */
function writerAlive(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust the signal check
  }
}

export function describeFsError(err: unknown, dir: string, what: string): SpoolError {
  const e = err as NodeJS.ErrnoException;
  // mkdir -p under a read-only mount answers ENOENT (Node's recursive mkdir), not EROFS.
  if (e.code === 'ENOENT' && e.syscall === 'mkdir' && fs.existsSync(dir))
    return new SpoolError(`${what} ${dir} is not writable (cannot create ${e.path ?? 'a folder'} in it)`, e.code);
  switch (e.code) {
    case 'ENOENT':
      return new SpoolError(`${what} ${dir} does not exist`, e.code);
    case 'ENOTDIR':
      return new SpoolError(`${what} ${dir} is not a directory`, e.code);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new SpoolError(`${what} ${dir} is not writable (${e.code})`, e.code);
    case 'ENOSPC':
      return new SpoolError(`no space left on the device of ${what} ${dir}`, e.code);
    default:
      return new SpoolError(`${what} ${dir}: ${e.message}`, e.code);
  }
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to a fresh hidden file in `dir`; with `durable` its data is on disk when this returns. */
export function writeTemp(dir: string, data: Buffer, durable: boolean): string {
  const tmp = tempName(dir);
  const fd = fs.openSync(tmp, 'wx', 0o644);
  try {
    fs.writeSync(fd, data);
    if (durable) fs.fdatasyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    ifExists(() => fs.unlinkSync(tmp));
    throw err;
  }
  fs.closeSync(fd);
  return tmp;
}

/**
 * Publishes a complete temporary file under the first free name `nameFor(0..max-1)`.
 * link(2) fails with EEXIST instead of replacing, which gives the O_EXCL semantics
 * gammu-smsd-inject relies on for its serial number, while readers never see a partial file.
 * Returns the chosen name and its index, or undefined when all names are taken. The temporary file is removed.
 */
export function publishUnique(
  tmp: string,
  dir: string,
  nameFor: (j: number) => string,
  max: number,
  first = 0,
): { name: string; index: number } | undefined {
  try {
    for (let j = first; j < first + max; j++) {
      const name = nameFor(j);
      try {
        fs.linkSync(tmp, path.join(dir, name));
        return { name, index: j };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return undefined;
  } finally {
    // unlink, not rmSync({ force }): that one stats first and throws and catches ENOENT's internal
    // error on the way, ~0.4 ms of a `smsd inject`.
    ifExists(() => fs.unlinkSync(tmp));
  }
}

/** Durable, atomic, no-clobber creation of one spool file (the single `smsd inject` path). */
export function createSpoolFile(
  dir: string,
  data: Buffer,
  nameFor: (j: number) => string,
  max: number,
  what = 'outbox',
): string {
  let tmp: string;
  try {
    tmp = writeTemp(dir, data, true);
  } catch (err) {
    throw describeFsError(err, dir, what);
  }
  const published = publishUnique(tmp, dir, nameFor, max);
  if (published === undefined) throw new SpoolError(`no free file name in ${what} ${dir} (tried ${max})`, 'EEXIST');
  fsyncDir(dir);
  return published.name;
}

/** Atomic replace of `file` (write hidden temp, fsync, rename over, fsync the directory). */
export function replaceFileDurable(file: string, data: Buffer): void {
  const dir = path.dirname(file);
  const tmp = writeTemp(dir, data, true);
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

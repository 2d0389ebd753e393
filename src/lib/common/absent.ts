import fs from 'node:fs';

/**
 * "Absent" means ENOENT, nothing else. A read that may find nothing goes through these helpers, so
 * EACCES, EIO, ENOSPC, ENOTDIR... surface as the failures they are instead of passing for "not
 * there" (a file we cannot read is not a file that does not exist).
 */
export function isAbsent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null | undefined)?.code === 'ENOENT';
}

/** `fn()`, or undefined when what it touches does not exist; every other error is thrown. */
export function ifExists<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

/** The file's content, or undefined when it does not exist. */
export function readIfExists(file: string): Buffer | undefined;
export function readIfExists(file: string, encoding: BufferEncoding): string | undefined;
export function readIfExists(file: string, encoding?: BufferEncoding): Buffer | string | undefined {
  return ifExists(() => (encoding ? fs.readFileSync(file, encoding) : fs.readFileSync(file)));
}

/** The folder's entry names, or undefined when it does not exist. */
export function readdirIfExists(dir: string): string[] | undefined {
  return ifExists(() => fs.readdirSync(dir));
}

/** stat(2) (lstat(2) with `noFollow`), or undefined when nothing is there. */
export function statIfExists(file: string, noFollow = false): fs.Stats | undefined {
  return ifExists(() => (noFollow ? fs.lstatSync(file) : fs.statSync(file)));
}

import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from '../../spool/atomic.js';

/**
 * `done.log`: the key hash of every event smppd has finished with (delivered, dropped, or marked
 * as not ours), one a line, in the order they were done. A line `@<unix seconds>` gives the time of
 * the hashes after it (lines before any such line were written by an older smppd). The format an
 * older smppd reads is unchanged: it takes a time line for a hash that never matches, so going
 * back a version repeats nothing. Appends are made durable with fdatasync; `rewrite` replaces the
 * file atomically with a subset.
 */

const HASH_RE = /^[0-9a-f]{20}$/;
const TIME_RE = /^@(\d{1,12})$/;

export class DoneLog {
  private fd: number;
  /** The time line in force at the end of the file, if we know it. */
  private lastTime: number | undefined;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a+');
    // A torn last line (a crash in the middle of an append) must not swallow the next one.
    const size = fs.fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(this.fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) fs.writeSync(this.fd, '\n');
    }
  }

  /** Appends and syncs; throws (disk full...) with nothing counted as done. */
  append(hashes: readonly string[], seconds: number): void {
    if (hashes.length === 0) return;
    const time = seconds === this.lastTime ? '' : `@${seconds}\n`;
    fs.writeSync(this.fd, `${time}${hashes.join('\n')}\n`);
    fs.fdatasyncSync(this.fd);
    this.lastTime = seconds;
  }

  /**
   * Calls `fn` with each hash and its time, streaming (the file can be large). A torn last line
   * after a crash that does not parse is skipped: it was not synced, so neither was the unlink of
   * its queue file, which is still there.
   */
  forEach(fn: (hash: string, seconds: number | undefined) => void): void {
    const fd = fs.openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      let rest = '';
      let time: number | undefined;
      const line = (l: string): void => {
        if (HASH_RE.test(l)) return fn(l, time);
        const t = TIME_RE.exec(l)?.[1];
        if (t !== undefined) time = Number(t);
      };
      for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) {
        const lines = (rest + buf.toString('latin1', 0, n)).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) line(l);
      }
      line(rest);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Replaces the file with the hashes for which `keep` gives a time (written with it): written to
   * a hidden file, synced, renamed over, folder synced. A crash leaves the old file or the new one.
   * Returns the number of hashes kept.
   */
  rewrite(keep: (hash: string, seconds: number | undefined) => number | undefined): number {
    const dir = path.dirname(this.file);
    // A fixed hidden name: one left by a crash is simply overwritten by the next rewrite.
    const tmp = path.join(dir, '.done.log.new');
    const out = fs.openSync(tmp, 'w', 0o644);
    let kept = 0;
    let time: number | undefined;
    try {
      let chunk: string[] = [];
      this.forEach((hash, seconds) => {
        const t = keep(hash, seconds);
        if (t === undefined) return;
        if (t !== time) chunk.push(`@${t}\n`);
        time = t;
        chunk.push(`${hash}\n`);
        kept++;
        if (chunk.length >= 4096) {
          fs.writeSync(out, chunk.join(''));
          chunk = [];
        }
      });
      fs.writeSync(out, chunk.join(''));
      fs.fdatasyncSync(out);
    } catch (err) {
      fs.closeSync(out);
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fs.closeSync(out);
    fs.renameSync(tmp, this.file);
    fsyncDir(dir);
    // Appends must go to the new file, not the unlinked one.
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'a');
    this.lastTime = time;
    return kept;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from '../spool/atomic.js';

/**
 * `done.log`: one line per event smppd has finished with (delivered, dropped, or marked as not
 * ours), `<key hash> <unix seconds>`. Lines written before the time was added hold the hash alone.
 * Appends are made durable with fdatasync; `rewrite` replaces the file atomically with a subset.
 */

const LINE_RE = /^([0-9a-f]{20})(?: (\d{1,12}))?$/;

export class DoneLog {
  private fd: number;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
  }

  /** Appends and syncs; throws (disk full...) with nothing counted as done. */
  append(hashes: readonly string[], seconds: number): void {
    if (hashes.length === 0) return;
    fs.writeSync(this.fd, hashes.map((h) => `${h} ${seconds}\n`).join(''));
    fs.fdatasyncSync(this.fd);
  }

  /**
   * Calls `fn` with each well-formed line, streaming (the file can be large). A torn last line
   * after a crash that does not parse is skipped: it was not synced, so neither was the unlink of
   * its queue file, which is still there.
   */
  forEach(fn: (hash: string, seconds: number | undefined) => void): void {
    const fd = fs.openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      let rest = '';
      const line = (l: string): void => {
        const m = LINE_RE.exec(l);
        if (m?.[1]) fn(m[1], m[2] === undefined ? undefined : Number(m[2]));
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
   * Replaces the file with the lines for which `keep` gives a time (written with it): written to a
   * hidden file, synced, renamed over, folder synced. A crash leaves the old file or the new one.
   * Returns the number of lines kept.
   */
  rewrite(keep: (hash: string, seconds: number | undefined) => number | undefined): number {
    const dir = path.dirname(this.file);
    // A fixed hidden name: one left by a crash is simply overwritten by the next rewrite.
    const tmp = path.join(dir, '.done.log.new');
    const out = fs.openSync(tmp, 'w', 0o644);
    let kept = 0;
    try {
      let chunk: string[] = [];
      this.forEach((hash, seconds) => {
        const t = keep(hash, seconds);
        if (t === undefined) return;
        chunk.push(`${hash} ${t}\n`);
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
    return kept;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

import fs from 'node:fs';
import { replaceFileDurable } from '../spool/atomic.js';

/**
 * The append-only journal behind an outlet's receipt index (`reports/.outlet-<name>.jsonl`): lines
 * are queued and written with group commit, one write and one fdatasync (on the thread pool, so
 * the link keeps moving) for every line queued while the previous write was on its way to the
 * disk. Every write, and the replacement by a compacted copy, runs after the previous one.
 */
export class OutletJournal {
  private fd: number;
  private buffered: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** The group commit queued and not started yet: lines queued meanwhile join it. */
  private queued: Promise<void> | undefined;
  private lastFlush: Promise<void> | undefined;
  /** Size of the file now (compaction decides by it). */
  bytes: number;

  /** Replaces `file` with `initial` (durably) and opens it for appending. */
  constructor(
    readonly file: string,
    initial: string,
  ) {
    replaceFileDurable(file, Buffer.from(initial));
    this.bytes = Buffer.byteLength(initial);
    this.fd = fs.openSync(file, 'a');
  }

  /** Queues one line (with its newline); on disk with the next flush. */
  push(line: string): void {
    this.buffered.push(line);
  }

  flush(): Promise<void> {
    if (this.queued) return this.queued;
    const p = this.chain.then(() => {
      this.queued = undefined;
      return this.write();
    });
    this.queued = p;
    this.lastFlush = p;
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Resolves once every line queued so far is on disk (rejects while the disk refuses them). */
  durable(): Promise<void> {
    return this.buffered.length > 0 ? this.flush() : (this.lastFlush ?? Promise.resolve());
  }

  private write(): Promise<void> {
    if (this.buffered.length === 0) return Promise.resolve();
    const text = this.buffered.join('');
    this.buffered = [];
    const data = Buffer.from(text);
    return new Promise<void>((resolve, reject) => {
      fs.write(this.fd, data, (err) => {
        if (err) return reject(err);
        fs.fdatasync(this.fd, (e) => (e ? reject(e) : resolve()));
      });
    }).then(
      () => {
        this.bytes += data.length;
      },
      (err: Error) => {
        // Not on disk (read-only, full, I/O error): queued again for the next try, after a line
        // break, so a partly written line before it stays a torn line of its own (skipped on load).
        this.buffered.unshift('\n' + text);
        throw err;
      },
    );
  }

  /** In turn with the writes: the file becomes `make()`'s text (durably), reopened for appending. */
  replace(make: () => string): Promise<void> {
    const p = this.chain.then(() => {
      const text = make();
      replaceFileDurable(this.file, Buffer.from(text));
      fs.closeSync(this.fd);
      this.fd = fs.openSync(this.file, 'a');
      this.bytes = Buffer.byteLength(text);
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** At exit: what is queued, written without waiting for the disk. */
  close(): void {
    try {
      if (this.buffered.length > 0) fs.writeSync(this.fd, this.buffered.join(''));
      fs.closeSync(this.fd);
    } catch {
      // closing at exit: nothing more to do
    }
  }
}

/** fsync of one file (absent: replaced or removed since, nothing to make durable). */
export async function syncFile(file: string): Promise<void> {
  let h: fs.promises.FileHandle;
  try {
    h = await fs.promises.open(file, 'r');
  } catch {
    return;
  }
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

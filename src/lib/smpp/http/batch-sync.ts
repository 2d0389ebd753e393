import fs from 'node:fs';
import { isAbsent } from '../../common/absent.js';

/**
 * Group commit for files written without fsync: every caller of `sync` in one turn of the event
 * loop (and, while a flush runs, the next batch) waits for one flush: each file's fdatasync on the
 * thread pool at once, then one fsync of the folder, off the main thread. The synchronous
 * fsync + folder fsync per call it replaces blocked the event loop (~100 calls/s on a loaded disk).
 * Not syncfs (`sync -f`): on a shared, busy file system it stalled every other write of ours too.
 */
export class BatchSync {
  private waiting: { file: string; resolve: () => void; reject: (err: Error) => void }[] = [];
  private running = false;

  constructor(private readonly dir: string) {}

  /** Resolves once `file` (written and renamed into `dir` before the call) is on disk. */
  sync(file: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ file, resolve, reject });
      if (!this.running) this.run();
    });
  }

  private run(): void {
    this.running = true;
    // The adds of this turn join the batch.
    setImmediate(() => {
      const batch = this.waiting.splice(0);
      flush(
        this.dir,
        batch.map((b) => b.file),
      ).then(
        () => {
          for (const b of batch) b.resolve();
          this.next();
        },
        (err: Error) => {
          for (const b of batch) b.reject(err);
          this.next();
        },
      );
    });
  }

  private next(): void {
    if (this.waiting.length > 0) this.run();
    else this.running = false;
  }
}

async function flush(dir: string, files: readonly string[]): Promise<void> {
  await Promise.all(
    files.map(async (f) => {
      try {
        const fh = await fs.promises.open(f, 'r');
        try {
          await fh.datasync();
        } finally {
          await fh.close();
        }
      } catch (err) {
        if (!isAbsent(err)) throw err; // called and deleted meanwhile: nothing to keep
      }
    }),
  );
  const d = await fs.promises.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { materializedFile, openSegmentFile } from '../../spool/journal.js';

/**
 * An asynchronous writer of the group-commit journal segments of src/lib/spool/journal.ts (same
 * format: `SGJ1`, header `{bootId, pid, deferred}`, records `[len][crc32][name length][name][data]`,
 * read back by its readSegment/recoverJournals, which `smsd run` calls at start). JournalSegment.commit
 * blocks its caller for the fdatasync, which suits a batch command; a server must keep reading sockets
 * meanwhile, so here the segment is opened with O_DSYNC and each commit is one write(2) in libuv's
 * thread pool that returns once the data is on disk (one round trip to the pool, not two).
 *
 * smppd's segments are deferred: a record is durable before its file exists; the materializer counts
 * the records whose file it created in `materializedFile(file)`.
 */

let nextId = 1;

export class AsyncJournalSegment {
  readonly id = nextId++;
  readonly file: string;
  private readonly fd: number;
  /** Where the next write goes. */
  private offset: number;
  /** Records given a place (written or being written). */
  reserved = 0;
  /** Records committed (durable, acknowledged). */
  records = 0;
  /** Writes handed out whose outcome the store has not settled yet. */
  unsettled = 0;
  /** Records whose outbox file exists (from the first on). */
  materialized = 0;
  /** When the last of them got its file. */
  materializedAt = Date.now();
  /** No more commits: retired once every record has its file. */
  closed = false;
  /** A write failed: what follows it may not be readable, so nothing more counts as committed. */
  broken = false;
  readonly started = Date.now();

  constructor(readonly outboxDir: string) {
    ({ fd: this.fd, file: this.file } = openSegmentFile(outboxDir, '-smppd', {
      deferred: true,
      dsync: true,
    }));
    try {
      this.offset = fs.fstatSync(this.fd).size;
    } catch (err) {
      fs.closeSync(this.fd);
      fs.rmSync(this.file, { force: true });
      throw err;
    }
  }

  get countFile(): string {
    return materializedFile(this.file);
  }

  /**
   * Writes `count` encoded records at the next place; resolves once they are on disk (O_DSYNC: one
   * write, one flush). Several writes may run at once, each at its own offset: the caller takes
   * them as committed in order.
   */
  write(buf: Buffer, count: number): Promise<void> {
    const position = this.offset;
    this.offset += buf.length;
    this.reserved += count;
    this.unsettled++;
    return new Promise<void>((resolve, reject) =>
      fs.write(this.fd, buf, 0, buf.length, position, (err, written) =>
        err
          ? reject(err)
          : written < buf.length
            ? reject(new Error('short write to the journal'))
            : resolve(),
      ),
    );
  }

  /** The store settled one write (committed or failed). */
  get idle(): boolean {
    return this.unsettled === 0;
  }

  /**
   * Flushes the created files (syncfs through `sync -f`), then deletes the segment and its count
   * (in that order: a count without its segment means nothing to recovery).
   */
  async retire(): Promise<void> {
    // Without a committed record no file came from it: nothing to flush.
    if (this.records > 0)
      await new Promise<void>((resolve) => execFile('sync', ['-f', this.outboxDir], () => resolve()));
    fs.closeSync(this.fd);
    await fsp.rm(this.file, { force: true });
    await fsp.rm(this.countFile, { force: true });
  }
}

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { encodeRecord, openSegmentFile } from '../spool/journal.js';

/**
 * An asynchronous writer of the group-commit journal segments of src/lib/spool/journal.ts (same
 * format: `SGJ1`, header `{bootId, pid}`, records `[len][crc32][name length][name][data]`, read back by
 * its readSegment/recoverJournals, which `smsd run` calls at start). JournalSegment.commit blocks
 * its caller for the fdatasync, which suits a batch command; a server must keep reading sockets
 * meanwhile, so here the write and the fdatasync run in libuv's thread pool.
 */

export class AsyncJournalSegment {
  readonly file: string;
  private readonly fd: number;
  records = 0;
  readonly started = Date.now();

  constructor(readonly outboxDir: string) {
    ({ fd: this.fd, file: this.file } = openSegmentFile(outboxDir, '-smppd'));
    fs.fdatasyncSync(this.fd);
  }

  /** Appends the records and makes them durable with one fdatasync. */
  async commit(records: readonly { name: string; data: Buffer }[]): Promise<void> {
    const buf = Buffer.concat(records.map(encodeRecord));
    await new Promise<void>((resolve, reject) =>
      fs.write(this.fd, buf, (err) =>
        err ? reject(err) : fs.fdatasync(this.fd, (e) => (e ? reject(e) : resolve())),
      ),
    );
    this.records += records.length;
  }

  /** Flushes the published files (syncfs through `sync -f`), then deletes the segment. */
  async retire(): Promise<void> {
    await new Promise<void>((resolve) => execFile('sync', ['-f', this.outboxDir], () => resolve()));
    fs.closeSync(this.fd);
    await fsp.rm(this.file, { force: true });
  }
}

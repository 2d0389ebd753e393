import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { JOURNAL_DIR } from '../spool/journal.js';
import { fsyncDir } from '../spool/atomic.js';

/**
 * An asynchronous writer of the group-commit journal segments of src/lib/spool/journal.ts (same
 * format: `SGJ1`, header `{bootId, pid}`, records `[len][crc32][name length][name][data]`, read back by
 * its readSegment/recoverJournals, which `smsd run` calls at start). JournalSegment.commit blocks
 * its caller for the fdatasync, which suits a batch command; a server must keep reading sockets
 * meanwhile, so here the write and the fdatasync run in libuv's thread pool.
 */

const MAGIC = Buffer.from('SGJ1');

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

export function encodeJournalRecord(name: string, data: Buffer): Buffer {
  const n = Buffer.from(name, 'utf8');
  const body = Buffer.alloc(2 + n.length + data.length);
  body.writeUInt16BE(n.length, 0);
  n.copy(body, 2);
  data.copy(body, 2 + n.length);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.writeUInt32BE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

export class AsyncJournalSegment {
  readonly file: string;
  private readonly fd: number;
  records = 0;
  readonly started = Date.now();

  constructor(readonly outboxDir: string) {
    const dir = path.join(outboxDir, JOURNAL_DIR);
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${process.pid}-${Date.now().toString(36)}-smppd.wal`);
    this.fd = fs.openSync(this.file, 'wx', 0o600);
    const header = Buffer.from(JSON.stringify({ bootId: bootId(), pid: process.pid }), 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(header.length, 0);
    fs.writeSync(this.fd, Buffer.concat([MAGIC, len, header]));
    fs.fdatasyncSync(this.fd);
    fsyncDir(dir);
  }

  /** Appends the records and makes them durable with one fdatasync. */
  async commit(records: readonly { name: string; data: Buffer }[]): Promise<void> {
    const buf = Buffer.concat(records.map((r) => encodeJournalRecord(r.name, r.data)));
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

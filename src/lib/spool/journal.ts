import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { fsyncDir } from './atomic.js';
import { isProcessAlive } from '../process-alive.js';

/**
 * Group commit for bulk writes into the outbox.
 *
 * An fsync per outbox file caps bulk injection at a few thousand files per second. Instead each chunk
 * of files is published (link into place, no fsync), then all their names and contents are appended to
 * one journal segment and made durable with a single fdatasync: from then on the chunk counts as durable.
 * When the batch ends the whole file system is flushed once (syncfs(2) through `sync -f`) and the segment
 * is deleted ("retired").
 *
 * After a crash of the machine (the boot id changed), `recoverJournals` rewrites any file of a committed
 * chunk that is missing or truncated in the outbox and absent from the sent and error folders.
 * A killed process with the machine still up loses nothing (its files are complete in the page cache):
 * its segments are only flushed and retired.
 */

export const JOURNAL_DIR = '.smsgate-journal';
const MAGIC = Buffer.from('SGJ1');

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

export interface JournalRecord {
  name: string;
  data: Buffer;
}

export function encodeRecord(r: JournalRecord): Buffer {
  const name = Buffer.from(r.name, 'utf8');
  const body = Buffer.alloc(2 + name.length + r.data.length);
  body.writeUInt16BE(name.length, 0);
  name.copy(body, 2);
  r.data.copy(body, 2 + name.length);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.writeUInt32BE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

/** Complete records of a segment; a torn or corrupt tail (never acknowledged) ends the list. */
export function readSegment(buf: Buffer): { header: { bootId: string; pid: number }; records: JournalRecord[] } {
  const records: JournalRecord[] = [];
  if (buf.length < 6 || !buf.subarray(0, 4).equals(MAGIC)) return { header: { bootId: '', pid: 0 }, records };
  const hlen = buf.readUInt16BE(4);
  const header = JSON.parse(buf.subarray(6, 6 + hlen).toString('utf8')) as { bootId: string; pid: number };
  let off = 6 + hlen;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const crc = buf.readUInt32BE(off + 4);
    if (off + 8 + len > buf.length) break;
    const body = buf.subarray(off + 8, off + 8 + len);
    if (crc32(body) !== crc || len < 2) break;
    const nlen = body.readUInt16BE(0);
    records.push({ name: body.subarray(2, 2 + nlen).toString('utf8'), data: Buffer.from(body.subarray(2 + nlen)) });
    off += 8 + len;
  }
  return { header, records };
}

/** Flushes every dirty page of the file system holding `dir` in one call. */
export function syncFileSystem(dir: string, fallbackFiles: readonly string[]): void {
  try {
    execFileSync('sync', ['-f', dir], { stdio: 'ignore' });
  } catch {
    for (const f of fallbackFiles) {
      try {
        const fd = fs.openSync(f, 'r');
        fs.fsyncSync(fd);
        fs.closeSync(fd);
      } catch {
        // Already sent and moved away by a daemon: nothing left to flush here.
      }
    }
  }
}

/**
 * Creates a new segment file (`<pid>-<time><suffix>.wal` in the outbox's journal folder) with its
 * header (magic, boot id, pid), for this module's writer and for smppd's asynchronous one.
 */
export function openSegmentFile(outboxDir: string, suffix: string): { fd: number; file: string } {
  const dir = path.join(outboxDir, JOURNAL_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}-${Date.now().toString(36)}${suffix}.wal`);
  const fd = fs.openSync(file, 'wx', 0o600);
  const header = Buffer.from(JSON.stringify({ bootId: bootId(), pid: process.pid }), 'utf8');
  const lenBuf = Buffer.alloc(2);
  lenBuf.writeUInt16BE(header.length, 0);
  fs.writeSync(fd, Buffer.concat([MAGIC, lenBuf, header]));
  fsyncDir(dir);
  return { fd, file };
}

export class JournalSegment {
  private readonly fd: number;
  readonly file: string;
  private readonly published: string[] = [];

  constructor(readonly outboxDir: string) {
    ({ fd: this.fd, file: this.file } = openSegmentFile(outboxDir, ''));
  }

  /** Makes a chunk of already published files durable with one fdatasync. */
  commit(records: readonly JournalRecord[]): void {
    if (records.length === 0) return;
    fs.writeSync(this.fd, Buffer.concat(records.map(encodeRecord)));
    fs.fdatasyncSync(this.fd);
    for (const r of records) this.published.push(r.name);
  }

  /** Flushes the published files themselves, then drops the segment. */
  retire(): void {
    syncFileSystem(
      this.outboxDir,
      this.published.map((n) => path.join(this.outboxDir, n)),
    );
    fsyncDir(this.outboxDir);
    fs.closeSync(this.fd);
    fs.rmSync(this.file, { force: true });
  }
}


export interface RecoveryReport {
  segments: number;
  restored: string[];
}

/**
 * Settles the journal segments left by processes that are gone. `elsewhere` are the folders a message
 * moves to once handled (sent, error): a name found there was handled and is never restored.
 */
export function recoverJournals(outboxDir: string, elsewhere: readonly string[]): RecoveryReport {
  const dir = path.join(outboxDir, JOURNAL_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.wal'));
  } catch {
    return { segments: 0, restored: [] };
  }
  const report: RecoveryReport = { segments: 0, restored: [] };
  const currentBoot = bootId();
  for (const n of names) {
    const file = path.join(dir, n);
    const { header, records } = readSegment(fs.readFileSync(file));
    const sameBoot = header.bootId === currentBoot;
    if (sameBoot && header.pid !== process.pid && isProcessAlive(header.pid)) continue; // still being written
    if (!sameBoot) {
      for (const r of records) {
        const target = path.join(outboxDir, r.name);
        if (elsewhere.some((d) => d !== outboxDir && fs.existsSync(path.join(d, r.name)))) continue;
        let size = -1;
        try {
          size = fs.statSync(target).size;
        } catch {
          // missing: restore below
        }
        if (size === r.data.length) continue;
        const tmp = path.join(outboxDir, `.recover-${process.pid}-${report.restored.length}`);
        fs.writeFileSync(tmp, r.data, { mode: 0o644 });
        fs.renameSync(tmp, target);
        report.restored.push(r.name);
      }
    }
    syncFileSystem(
      outboxDir,
      records.map((r) => path.join(outboxDir, r.name)),
    );
    fs.rmSync(file, { force: true });
    report.segments++;
  }
  return report;
}

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { fsyncDir, sweepDeadTemps } from './atomic.js';
import { isProcessAlive } from '../common/process-alive.js';
import { isAbsent, readIfExists, readdirIfExists } from '../common/absent.js';

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
 *
 * A *deferred* segment (header `deferred: true`, written by smppd) is the other way round: a record is
 * committed first and its file created afterwards, so a killed writer may leave committed records
 * without files. Its writer keeps, beside the segment, how many records (from the first) have their
 * file (`<segment>.materialized`, a 32-bit count rewritten in place after each batch, never synced:
 * it is only read back on the same boot, from the page cache). For a dead writer on the same boot,
 * recovery restores the records past that count whose file is neither in the outbox nor handled;
 * records below it had their file, which a daemon may since have sent, deleted or a cancel moved.
 */

export const JOURNAL_DIR = '.smsgate-journal';
const MAGIC = Buffer.from('SGJ1');

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Not Linux (no /proc): every start counts as a new boot, the safe side for recovery.
    return 'unknown-boot';
  }
}

export interface JournalRecord {
  name: string;
  data: Buffer;
}

export interface SegmentHeader {
  bootId: string;
  pid: number;
  /** Records are committed before their files exist (see above). */
  deferred?: boolean;
}

/** The file beside a deferred segment that counts its records whose file exists. */
export function materializedFile(segmentFile: string): string {
  return `${segmentFile}.materialized`;
}

/** The count a deferred segment's writer left; 0 when it wrote none (or the file is short). */
export function readMaterializedCount(segmentFile: string): number {
  const b = readIfExists(materializedFile(segmentFile));
  return b && b.length >= 4 ? b.readUInt32BE(0) : 0;
}

/** Bytes `r` takes in a segment. */
export function recordLength(r: JournalRecord): number {
  return 10 + Buffer.byteLength(r.name, 'utf8') + r.data.length;
}

/**
 * Writes `r` at `off` of `buf` (which must have recordLength(r) bytes there); returns where its
 * data (the file content) starts.
 */
export function encodeRecordInto(r: JournalRecord, buf: Buffer, off: number): number {
  const nameLength = buf.write(r.name, off + 10, 'utf8');
  const bodyLength = 2 + nameLength + r.data.length;
  buf.writeUInt32BE(bodyLength, off);
  buf.writeUInt16BE(nameLength, off + 8);
  r.data.copy(buf, off + 10 + nameLength);
  buf.writeUInt32BE(crc32(buf.subarray(off + 8, off + 8 + bodyLength)), off + 4);
  return off + 10 + nameLength;
}

export function encodeRecord(r: JournalRecord): Buffer {
  const buf = Buffer.allocUnsafe(recordLength(r));
  encodeRecordInto(r, buf, 0);
  return buf;
}

/** Complete records of a segment; a torn or corrupt tail (never acknowledged) ends the list. */
export function readSegment(buf: Buffer): { header: SegmentHeader; records: JournalRecord[] } {
  const records: JournalRecord[] = [];
  if (buf.length < 6 || !buf.subarray(0, 4).equals(MAGIC)) return { header: { bootId: '', pid: 0 }, records };
  const hlen = buf.readUInt16BE(4);
  const header = JSON.parse(buf.subarray(6, 6 + hlen).toString('utf8')) as SegmentHeader;
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
    // No `sync -f` (not coreutils, or it failed): the same, file by file.
    for (const f of fallbackFiles) {
      let fd: number;
      try {
        fd = fs.openSync(f, 'r');
      } catch (err) {
        if (isAbsent(err)) continue; // already sent and moved away by a daemon: nothing to flush
        throw err;
      }
      try {
        fs.fsyncSync(fd); // EIO surfaces: the segment then stays for recovery
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}

let segmentCounter = 0;

/**
 * Creates a new segment file (`<pid>-<time>-<n><suffix>.wal` in the outbox's journal folder) with its
 * header (magic, boot id, pid, deferred), for this module's writer and for smppd's asynchronous one.
 * `dsync`: opened with O_DSYNC, so each write returns once it is on disk (a write and an fdatasync
 * in one system call).
 */
export function openSegmentFile(
  outboxDir: string,
  suffix: string,
  opts: { deferred?: boolean; dsync?: boolean } = {},
): { fd: number; file: string } {
  const { deferred = false, dsync = false } = opts;
  const dir = path.join(outboxDir, JOURNAL_DIR);
  fs.mkdirSync(dir, { recursive: true });
  // The counter: two segments opened in the same millisecond (a quick rotation) get distinct names.
  const file = path.join(dir, `${process.pid}-${Date.now().toString(36)}-${++segmentCounter}${suffix}.wal`);
  const c = fs.constants;
  const fd = fs.openSync(file, c.O_WRONLY | c.O_CREAT | c.O_EXCL | (dsync ? c.O_DSYNC : 0), 0o600);
  try {
    const h: SegmentHeader = { bootId: bootId(), pid: process.pid, ...(deferred ? { deferred: true } : {}) };
    const header = Buffer.from(JSON.stringify(h), 'utf8');
    const lenBuf = Buffer.alloc(2);
    lenBuf.writeUInt16BE(header.length, 0);
    const head = Buffer.concat([MAGIC, lenBuf, header]);
    if (fs.writeSync(fd, head) !== head.length) throw new Error(`short write to ${file}`);
    fsyncDir(dir);
  } catch (err) {
    // A full disk fails the header: the segment and its descriptor go at once, not one per attempt.
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw err;
  }
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
 * Settles the journal segments left by processes that are gone, and removes their hidden temporary
 * files from the outbox. `elsewhere` are the folders a message
 * moves to once handled (sent, error): a name found there was handled and is never restored.
 */
export function recoverJournals(outboxDir: string, elsewhere: readonly string[]): RecoveryReport {
  sweepDeadTemps(outboxDir); // a writer killed between writing a file and linking it into place
  const dir = path.join(outboxDir, JOURNAL_DIR);
  const names = readdirIfExists(dir);
  if (!names) return { segments: 0, restored: [] };
  const report: RecoveryReport = { segments: 0, restored: [] };
  const currentBoot = bootId();
  for (const n of names.filter((x) => x.endsWith('.wal'))) {
    const file = path.join(dir, n);
    let content: Buffer;
    try {
      content = fs.readFileSync(file);
    } catch (err) {
      // Retired by its writer (smppd cleans up while we list) or by another daemon's recovery.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const { header, records } = readSegment(content);
    const sameBoot = header.bootId === currentBoot;
    if (sameBoot && header.pid !== process.pid && isProcessAlive(header.pid)) continue; // still being written
    // Which records may lack their file: after a machine crash any (the page cache is gone); on the
    // same boot only those a deferred writer had not created yet (the others were, and may since have
    // been sent, cancelled or deleted: never brought back).
    const from = !sameBoot ? 0 : header.deferred ? readMaterializedCount(file) : records.length;
    for (const r of records.slice(from)) {
      if (elsewhere.some((d) => d !== outboxDir && fs.existsSync(path.join(d, r.name)))) continue;
      if (restoreRecord(outboxDir, r, !sameBoot, report.restored.length)) report.restored.push(r.name);
    }
    syncFileSystem(
      outboxDir,
      records.map((r) => path.join(outboxDir, r.name)),
    );
    fs.rmSync(file, { force: true });
    fs.rmSync(materializedFile(file), { force: true });
    report.segments++;
  }
  // A writer killed between deleting a retired segment and its count leaves the count behind.
  for (const n of names) {
    if (!n.endsWith('.wal.materialized') || names.includes(n.slice(0, -'.materialized'.length))) continue;
    const pid = Number(/^(\d+)-/.exec(n)?.[1]);
    if (pid !== process.pid && !isProcessAlive(pid)) fs.rmSync(path.join(dir, n), { force: true });
  }
  return report;
}

/**
 * Writes a record's file unless it is there. A missing file is linked into place (never replacing
 * one that appeared meanwhile); after a machine crash a file of another size is a truncated copy of
 * ours and is replaced.
 */
function restoreRecord(outboxDir: string, r: JournalRecord, replaceTruncated: boolean, n: number): boolean {
  const target = path.join(outboxDir, r.name);
  const size = fs.statSync(target, { throwIfNoEntry: false })?.size;
  if (size !== undefined && (size === r.data.length || !replaceTruncated)) return false;
  // Truncated by the crash means a shorter prefix of what was written; other content was written
  // on purpose after the record (replace_sm) and stays.
  if (size !== undefined) {
    if (size > r.data.length) return false;
    const now = readIfThere(target);
    if (now === undefined || !r.data.subarray(0, size).equals(now)) return false; // sent meanwhile, or rewritten
  }
  const tmp = path.join(outboxDir, `.recover-${process.pid}-${n}`);
  fs.writeFileSync(tmp, r.data, { mode: 0o644 });
  if (size !== undefined) {
    fs.renameSync(tmp, target);
    return true;
  }
  try {
    fs.linkSync(tmp, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** A file that may be sent and moved away while we look: undefined once gone. */
function readIfThere(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

import { Worker } from 'node:worker_threads';

/**
 * Creates the outbox files of committed journal records, on a thread of its own.
 *
 * Creating a file is the dearest step of a submit (a new inode; ~15-200 µs of kernel time on ext4,
 * depending on how many inodes were freed lately), and through fs/promises each file costs five
 * thread-pool round trips and a main-thread dispatch each. Here one thread runs synchronous batches:
 * for each file a hidden temporary file in the staging folder (created O_EXCL, written, closed),
 * link(2) into the outbox (never replacing, so readers such as `smsd run`'s inotify watcher only ever
 * see complete files), unlink of the temporary name. Batches are handled in the order they were
 * committed; after each one the thread rewrites the segment's count of records that have their file
 * (see src/lib/spool/journal.ts) and reports it.
 *
 * A name that already exists with the same content is this message's file (created before by a
 * thread that died before reporting it, or restored): nothing to do. With other content (only
 * another process using the same message ID in the same second could cause it) the message moves to
 * the next free serial, which the caller journals and announces. A failing file (disk full...) is
 * retried every `retryMs`, holding back later ones.
 */

export interface MaterializeBatch {
  /** AsyncJournalSegment.id */
  seg: number;
  countFile: string;
  /** Index in the segment of the first record. */
  first: number;
  names: string[];
  /** The encoded records (transferred to the thread). */
  buf: ArrayBuffer;
  /** [offset, length] in `buf` of each record's file content. */
  spans: Uint32Array;
}

export interface Renamed {
  from: string;
  to: string;
  data: Uint8Array;
}

export interface MaterializerEvents {
  /** Every record of segment `seg` below `upto` has its file. */
  done(seg: number, upto: number, renamed: Renamed[]): void;
  /** A file could not be created (retried); `undefined` when creating works again. */
  failing(message: string | undefined): void;
  /** The thread is gone (a bug): nothing more is created until restart() */
  exited(err: Error): void;
}

interface WorkerOptions {
  outboxDir: string;
  stagingDir: string;
  retryMs: number;
}

type ToWorker = ({ type: 'batch' } & MaterializeBatch) | { type: 'forget'; countFile: string };
type FromWorker =
  | { type: 'done'; seg: number; upto: number; renamed: Renamed[] }
  | { type: 'failing'; message: string | undefined };

export class Materializer {
  private worker: Worker;
  private closing = false;

  constructor(
    private readonly options: WorkerOptions,
    private readonly events: MaterializerEvents,
  ) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    // The thread's code is this module's function as source text: the same in dist/ and under the
    // test runner (which runs src/*.ts, a path a worker could not load).
    const source = `(${materializerThread.toString()})(require('node:worker_threads'), require('node:fs'));`;
    const w = new Worker(source, { eval: true, workerData: this.options });
    // Never what keeps the process alive: close() waits for it where that matters.
    w.unref();
    w.on('message', (m: FromWorker) => {
      if (m.type === 'done') this.events.done(m.seg, m.upto, m.renamed);
      else this.events.failing(m.message);
    });
    w.on('error', (err) => this.events.exited(err));
    w.on('exit', (code) => {
      if (this.worker === w && !this.closing)
        this.events.exited(new Error(`materializer thread exited (${code})`));
    });
    return w;
  }

  /** A new thread, after `exited` (the caller posts again what has no file yet). */
  restart(): void {
    void this.worker.terminate();
    this.worker = this.spawn();
  }

  post(batch: MaterializeBatch): void {
    const m: ToWorker = { type: 'batch', ...batch };
    this.worker.postMessage(m, [batch.buf]);
  }

  /** The segment is retired: the thread closes its count file. */
  forget(countFile: string): void {
    const m: ToWorker = { type: 'forget', countFile };
    this.worker.postMessage(m);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

/**
 * The thread's body. It runs from its source text (see spawn), so it uses nothing but its arguments.
 */
function materializerThread(wt: typeof import('node:worker_threads'), fs: typeof import('node:fs')): void {
  const port = wt.parentPort;
  if (!port) return;
  const { outboxDir, stagingDir, retryMs } = wt.workerData as WorkerOptions;
  const queue: MaterializeBatch[] = [];
  /** Next record of queue[0] to create. */
  let next = 0;
  let renamed: Renamed[] = [];
  let waiting = false;
  let failing = false;
  let tmpSerial = 0;
  const countFds = new Map<string, number>();
  const countBuf = Buffer.alloc(4);

  port.on('message', (m: ToWorker) => {
    if (m.type === 'forget') {
      const fd = countFds.get(m.countFile);
      if (fd !== undefined) fs.closeSync(fd);
      countFds.delete(m.countFile);
      return;
    }
    queue.push(m);
    if (!waiting) run();
  });

  function run(): void {
    for (let b = queue[0]; b; b = queue[0]) {
      const data = Buffer.from(b.buf);
      for (; next < b.names.length; next++) {
        const name = b.names[next] as string;
        const content = data.subarray(
          b.spans[2 * next],
          (b.spans[2 * next] ?? 0) + (b.spans[2 * next + 1] ?? 0),
        );
        try {
          const created = create(name, content);
          if (created !== name) renamed.push({ from: name, to: created, data: Uint8Array.from(content) });
        } catch (err) {
          if (!failing) port?.postMessage({ type: 'failing', message: `${name}: ${(err as Error).message}` });
          failing = true;
          waiting = true;
          setTimeout(() => {
            waiting = false;
            run();
          }, retryMs);
          return;
        }
      }
      if (failing) port?.postMessage({ type: 'failing', message: undefined });
      failing = false;
      const upto = b.first + b.names.length;
      writeCount(b.countFile, upto);
      port?.postMessage({ type: 'done', seg: b.seg, upto, renamed });
      renamed = [];
      queue.shift();
      next = 0;
    }
  }

  /** Creates outbox file `name` (or, when taken by another file, the next free serial); its name. */
  function create(name: string, content: Buffer): string {
    let tmp: string;
    let fd: number;
    for (;;) {
      tmp = `${stagingDir}/.tmp-${process.pid}-w${++tmpSerial}`;
      try {
        fd = fs.openSync(tmp, 'wx', 0o644);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    try {
      try {
        for (let off = 0; off < content.length;) off += fs.writeSync(fd, content, off);
      } finally {
        fs.closeSync(fd);
      }
      for (let j = 0; j < 100; j++) {
        const candidate = j === 0 ? name : withSerial(name, j);
        if (candidate === undefined) break;
        try {
          fs.linkSync(tmp, `${outboxDir}/${candidate}`);
          return candidate;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          if (sameContent(`${outboxDir}/${candidate}`, content)) return candidate;
        }
      }
      throw new Error('no free outbox file name (tried 100 serials)');
    } finally {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // Cleanup in a finally: gone already, or failing for the reason the try already throws;
        // never the error that hides that one.
      }
    }
  }

  /** `name` with its serial (OUT<prio><date>_<time>_<serial>_...) raised by `j`; undefined if it has none. */
  function withSerial(name: string, j: number): string | undefined {
    const m = /^(OUT[A-Z]\d{8}_\d{6}_)(\d+)(_.*)$/.exec(name);
    return m ? `${m[1]}${String(Number(m[2]) + j).padStart(2, '0')}${m[3]}` : undefined;
  }

  function sameContent(file: string, content: Buffer): boolean {
    try {
      return fs.readFileSync(file).equals(content);
    } catch (err) {
      // Absent only (this runs in the worker thread, without common/absent.ts): EIO surfaces.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  function writeCount(file: string, n: number): void {
    let fd = countFds.get(file);
    if (fd === undefined) countFds.set(file, (fd = fs.openSync(file, 'w', 0o600)));
    countBuf.writeUInt32BE(n, 0);
    fs.writeSync(fd, countBuf, 0, 4, 0);
  }
}

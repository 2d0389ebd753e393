import fs from 'node:fs';
import { InjectError, EXIT } from './errors.js';
import type { InjectTarget } from './target.js';
import { randomRef, type InjectIo } from './io.js';
import { renderOutboxFiles } from '../spool/outbox-files.js';
import { writeTemp, publishUnique, describeFsError } from '../spool/atomic.js';
import { JournalSegment, recoverJournals, type JournalRecord } from '../spool/journal.js';
import { ProgressBar } from './progress.js';
import { BatchSource, batchSummary } from './batch-source.js';
import type { BatchFormat } from './batch-lines.js';

/** Messages per group commit: one fdatasync makes this many durable. */
const CHUNK = 256;

/**
 * Next free serial per name stem, so that thousands of messages to one number in one second
 * do not probe `sms0`, `sms1`, ... again for every file.
 */
class SerialCache {
  private readonly next = new Map<string, number>();
  publish(tmp: string, dir: string, nameFor: (j: number) => string): string {
    const stem = nameFor(0); // names differ only in the serial, so serial 0 identifies the family
    const published = publishUnique(tmp, dir, nameFor, 1_000_000, this.next.get(stem) ?? 0);
    if (published === undefined) throw new InjectError(`no free file name like ${stem}`, EXIT.inject);
    this.next.set(stem, published.index + 1);
    return published.name;
  }
}

export async function runBatch(
  source: string,
  format: BatchFormat | undefined,
  target: InjectTarget,
  io: InjectIo,
): Promise<number> {
  const started = performance.now();
  const recovered = recoverJournals(target.outboxDir, target.handledDirs);
  if (recovered.restored.length > 0)
    io.stderr.write(`Recovered ${recovered.restored.length} outbox files from an interrupted batch\n`);
  const total = source !== '-' ? countLines(source) : undefined;
  const bar = new ProgressBar(io.stderr, total);
  const lines = new BatchSource(source, format, io, () => bar.clear());
  lines.prepare();
  let journal: JournalSegment;
  try {
    journal = new JournalSegment(target.outboxDir);
  } catch (err) {
    throw new InjectError(
      `Failed to inject message: ${describeFsError(err, target.outboxDir, 'outbox').message}`,
      EXIT.inject,
    );
  }
  const serials = new SerialCache();
  let pending: JournalRecord[] = [];
  let pendingMessages = 0;
  let queued = 0;
  let files = 0;
  let ref = randomRef(false);
  const commit = () => {
    journal.commit(pending);
    queued += pendingMessages;
    files += pending.length;
    pending = [];
    pendingMessages = 0;
    bar.update(queued + lines.failed);
  };
  const nextRef = (ref16bit: boolean) => (ref = (ref + 1) & (ref16bit ? 0xffff : 0xff));
  try {
    for await (const { message, now } of lines.messages(nextRef)) {
      for (const f of renderOutboxFiles(message, target.format, now)) {
        let name: string;
        try {
          const tmp = writeTemp(target.outboxDir, f.data, false);
          name = serials.publish(tmp, target.outboxDir, f.nameFor);
        } catch (err) {
          if (err instanceof InjectError) throw err;
          throw new InjectError(describeFsError(err, target.outboxDir, 'outbox').message, EXIT.inject);
        }
        pending.push({ name, data: f.data });
      }
      pendingMessages++;
      if (pendingMessages >= CHUNK) commit();
    }
    commit();
    journal.retire();
  } catch (err) {
    commit();
    bar.clear();
    io.stderr.write(`Failed to inject message: ${(err as Error).message}\n`);
    io.stdout.write(batchSummary(queued, files, 'files', lines.failed, started));
    return EXIT.inject;
  }
  bar.clear();
  io.stdout.write(batchSummary(queued, files, 'files', lines.failed, started));
  return lines.failed > 0 ? EXIT.createFailed : EXIT.ok;
}

function countLines(file: string): number | undefined {
  try {
    const buf = fs.readFileSync(file);
    let n = 0;
    for (const b of buf) if (b === 0x0a) n++;
    return buf.length > 0 && buf[buf.length - 1] !== 0x0a ? n + 1 : n;
  } catch {
    // Only the progress total: reading the batch itself reports what is wrong with the file.
    return undefined;
  }
}

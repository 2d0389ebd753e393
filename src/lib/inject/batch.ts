import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parseBatchLine, guessFormat, type BatchFormat } from './batch-lines.js';
import { buildMessage } from './message.js';
import { InjectError, EXIT } from './errors.js';
import type { InjectTarget } from './target.js';
import type { InjectIo } from './main.js';
import { randomRef } from './main.js';
import { renderOutboxFiles } from '../spool/outbox-files.js';
import { writeTemp, publishUnique, describeFsError } from '../spool/atomic.js';
import { JournalSegment, recoverJournals, type JournalRecord } from '../spool/journal.js';
import { ProgressBar } from './progress.js';

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
  let input: NodeJS.ReadableStream;
  if (source === '-') input = io.stdin;
  else {
    try {
      fs.accessSync(source, fs.constants.R_OK);
    } catch (err) {
      throw new InjectError(`Failed to read batch ${source}: ${(err as Error).message}`, EXIT.createFailed);
    }
    input = fs.createReadStream(source);
  }
  const total = source !== '-' ? countLines(source) : undefined;
  const bar = new ProgressBar(io.stderr, total);
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
  let failed = 0;
  let lineNo = 0;
  let ref = randomRef(false);
  const commit = () => {
    journal.commit(pending);
    queued += pendingMessages;
    files += pending.length;
    pending = [];
    pendingMessages = 0;
    bar.update(queued + failed);
  };
  try {
    const rl = readline.createInterface({ input, crlfDelay: Infinity });
    for await (const line of rl) {
      lineNo++;
      format ??= guessFormat(line);
      const parsed = parseBatchLine(line, format, lineNo);
      if (parsed.ok === 'skip') continue;
      try {
        if (parsed.ok === false) throw new InjectError(parsed.reason, EXIT.parameter);
        const now = new Date();
        ref = (ref + 1) & (parsed.request.ref16bit ? 0xffff : 0xff);
        const built = buildMessage({ type: 'text', ...parsed.request }, { now, ref });
        for (const f of renderOutboxFiles(built, target.format, now)) {
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
      } catch (err) {
        if (err instanceof InjectError && err.exitCode === EXIT.inject) throw err;
        failed++;
        bar.clear();
        io.stderr.write(
          `${source === '-' ? 'stdin' : path.basename(source)}:${lineNo}: ${(err as Error).message}\n`,
        );
      }
      if (pendingMessages >= CHUNK) commit();
    }
    commit();
    journal.retire();
  } catch (err) {
    commit();
    bar.clear();
    io.stderr.write(`Failed to inject message: ${(err as Error).message}\n`);
    io.stdout.write(summary(queued, files, failed, started));
    return EXIT.inject;
  }
  bar.clear();
  io.stdout.write(summary(queued, files, failed, started));
  return failed > 0 ? EXIT.createFailed : EXIT.ok;
}

function summary(queued: number, files: number, failed: number, started: number): string {
  const s = (performance.now() - started) / 1000;
  const rate = s > 0 ? Math.round(queued / s) : queued;
  return `Queued ${queued} messages (${files} files) in ${s.toFixed(2)} s, ${rate} messages/s; ${failed} lines failed\n`;
}

function countLines(file: string): number | undefined {
  try {
    const buf = fs.readFileSync(file);
    let n = 0;
    for (const b of buf) if (b === 0x0a) n++;
    return buf.length > 0 && buf[buf.length - 1] !== 0x0a ? n + 1 : n;
  } catch {
    return undefined;
  }
}

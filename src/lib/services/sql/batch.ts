import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { SmsdConfig } from '../../config/smsd-config.js';
import { parseBatchLine, guessFormat, type BatchFormat } from '../../inject/batch-lines.js';
import { buildMessage } from '../../inject/message.js';
import { InjectError, EXIT } from '../../inject/errors.js';
import type { OutboxMessage } from '../../spool/outbox-files.js';
import { SqlService } from './service.js';
import { sqlServiceOptions } from './settings.js';
import { creatorId } from './inject.js';

/** Messages per transaction: one commit makes this many durable. */
const CHUNK = 256;

export interface BatchIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

/**
 * `smsd inject --batch` into the SQL outbox: the same line formats and messages as the files
 * backend; a message counts once its transaction committed. A bad line is reported as
 * `FILE:LINE: reason` and the others go on.
 */
export async function runSqlBatch(
  source: string,
  format: BatchFormat | undefined,
  config: SmsdConfig,
  io: BatchIo,
): Promise<number> {
  const started = performance.now();
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
  const svc = new SqlService(sqlServiceOptions(config));
  const creator = creatorId();
  let pending: OutboxMessage[] = [];
  let queued = 0;
  let rows = 0;
  let failed = 0;
  let lineNo = 0;
  let ref = Math.floor(Math.random() * 0x100);
  const commit = async (): Promise<void> => {
    const chunk = pending;
    pending = [];
    if (chunk.length === 0) return;
    await svc.transaction(async () => {
      for (const m of chunk) await svc.insertOutbox(m, creator);
    });
    queued += chunk.length;
    rows += chunk.reduce((n, m) => n + m.entries.length, 0);
  };
  try {
    await svc.init();
    const rl = readline.createInterface({ input, crlfDelay: Infinity });
    for await (const line of rl) {
      lineNo++;
      format ??= guessFormat(line);
      const parsed = parseBatchLine(line, format, lineNo);
      if (parsed.ok === 'skip') continue;
      try {
        if (parsed.ok === false) throw new Error(parsed.reason);
        ref = (ref + 1) & 0xff;
        pending.push(buildMessage({ type: 'text', ...parsed.request }, { now: new Date(), ref }));
      } catch (err) {
        failed++;
        io.stderr.write(
          `${source === '-' ? 'stdin' : path.basename(source)}:${lineNo}: ${(err as Error).message}\n`,
        );
      }
      if (pending.length >= CHUNK) await commit();
    }
    await commit();
  } catch (err) {
    io.stderr.write(`Failed to inject message: ${(err as Error).message}\n`);
    io.stdout.write(summary(queued, rows, failed, started));
    return EXIT.inject;
  } finally {
    await svc.free().catch(() => undefined);
  }
  io.stdout.write(summary(queued, rows, failed, started));
  return failed > 0 ? EXIT.createFailed : EXIT.ok;
}

function summary(queued: number, rows: number, failed: number, started: number): string {
  const s = (performance.now() - started) / 1000;
  const rate = s > 0 ? Math.round(queued / s) : queued;
  return `Queued ${queued} messages (${rows} rows) in ${s.toFixed(2)} s, ${rate} messages/s; ${failed} lines failed\n`;
}

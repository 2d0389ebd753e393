import type { SmsdConfig } from '../config/smsd-config.js';
import type { BatchFormat } from './batch-lines.js';
import { BatchSource, batchSummary } from './batch-source.js';
import { EXIT } from './errors.js';
import type { TextOut } from './io.js';
import type { OutboxMessage } from '../spool/outbox-files.js';
import { SqlService } from '../services/sql/service.js';
import { sqlServiceOptions } from '../services/sql/settings.js';
import { creatorId } from './sql-inject.js';

/** Messages per transaction: one commit makes this many durable. */
const CHUNK = 256;

export interface BatchIo {
  stdout: TextOut;
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
  const lines = new BatchSource(source, format, io);
  lines.prepare();
  const svc = new SqlService(sqlServiceOptions(config));
  const creator = creatorId();
  let pending: OutboxMessage[] = [];
  let queued = 0;
  let rows = 0;
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
    const nextRef = (ref16bit: boolean) => (ref = (ref + 1) & (ref16bit ? 0xffff : 0xff));
    for await (const { message } of lines.messages(nextRef)) {
      pending.push(message);
      if (pending.length >= CHUNK) await commit();
    }
    await commit();
  } catch (err) {
    io.stderr.write(`Failed to inject message: ${(err as Error).message}\n`);
    io.stdout.write(batchSummary(queued, rows, 'rows', lines.failed, started));
    return EXIT.inject;
  } finally {
    await svc.free().catch(() => undefined);
  }
  io.stdout.write(batchSummary(queued, rows, 'rows', lines.failed, started));
  return lines.failed > 0 ? EXIT.createFailed : EXIT.ok;
}

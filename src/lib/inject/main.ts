import path from 'node:path';
import { parseInjectArgv } from './args.js';
import { InjectError, EXIT } from './errors.js';
import { buildMessage } from './message.js';
import { resolveAnyTarget } from './target.js';
import { readMessageText } from './stdin-text.js';
import { renderOutboxFiles, INJECT_NAME_TRIES } from '../spool/outbox-files.js';
import { createSpoolFile } from '../spool/atomic.js';
import { INJECT_USAGE } from './usage.js';
import { packageVersion } from '../version.js';

export interface InjectIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

// process.stdin is a getter that builds a stream (and loads net/tty for it): only when the text
// really comes from standard input, not on every call.
const defaultIo = (): InjectIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  get stdin() {
    return process.stdin;
  },
});

/** A fresh concatenation reference; Gammu derives it from the clock, which repeats within a second. */
export function randomRef(bits16: boolean): number {
  return Math.floor(Math.random() * (bits16 ? 0x10000 : 0x100));
}

/** `smsd inject`: returns the exit code (gammu-smsd-inject's codes). */
export async function main(argv: readonly string[], io: InjectIo = defaultIo()): Promise<number> {
  try {
    const inv = parseInjectArgv(argv);
    if (inv.kind === 'help') {
      io.stdout.write(`${INJECT_USAGE}\n`);
      return EXIT.ok;
    }
    if (inv.kind === 'version') {
      io.stdout.write(`smsd inject (smsgate) ${packageVersion()}\n`);
      return EXIT.ok;
    }
    const target = resolveAnyTarget(inv.options.config);
    for (const w of target.warnings) io.stderr.write(`Warning: ${w.message}\n`);
    if (inv.kind === 'batch') {
      if (target.service === 'sql') {
        const { runSqlBatch } = await import('../services/sql/batch.js');
        return await runSqlBatch(inv.batch, inv.options.batchFormat, target.config, io);
      }
      const { runBatch } = await import('./batch.js');
      return await runBatch(inv.batch, inv.options.batchFormat, target, io);
    }
    const request = inv.request;
    if (request.type === 'text' && inv.textSource === 'stdin')
      request.text = await readMessageText(io.stdin, io.stderr, inv.inputUnicode);
    const now = new Date();
    const ref16 = request.type === 'text' && request.ref16bit;
    const built = buildMessage(request, { now, ref: randomRef(ref16) });
    if (built.lengthNote) io.stdout.write(`${built.lengthNote}\n`);
    if (target.service === 'sql') {
      // Loaded only here: injecting into the spool never pays for the database drivers.
      const { injectIntoSql } = await import('../services/sql/inject.js');
      let id: string;
      try {
        id = await injectIntoSql(target.config, built);
      } catch (err) {
        throw new InjectError(`Failed to inject message: ${(err as Error).message}`, EXIT.inject);
      }
      io.stdout.write(`Written message with ID ${id}\n`);
      return EXIT.ok;
    }
    const files = renderOutboxFiles(built, target.format, now);
    let last = '';
    for (const f of files) {
      try {
        last = createSpoolFile(target.outboxDir, f.data, f.nameFor, INJECT_NAME_TRIES);
      } catch (err) {
        throw new InjectError(`Failed to inject message: ${(err as Error).message}`, EXIT.inject);
      }
    }
    io.stdout.write(`Written message with ID ${path.join(target.outboxDir, last)}\n`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof InjectError) {
      io.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`Failed to create message: ${(err as Error).message}\n`);
    return EXIT.createFailed;
  }
}

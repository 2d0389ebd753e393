import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parseBatchLine, guessFormat, type BatchFormat } from './batch-lines.js';
import { buildMessage, type BuiltMessage } from './message.js';
import { InjectError, EXIT } from './errors.js';

export interface BatchItem {
  message: BuiltMessage;
  now: Date;
}

/**
 * The lines of a `--batch` source (a file or `-` for stdin) as built messages, whatever the backend
 * stores them in. A line that cannot be parsed or built is reported as `FILE:LINE: reason`, counted
 * in `failed`, and skipped; the others go on.
 */
export class BatchSource {
  failed = 0;
  private readonly label: string;

  constructor(
    private readonly source: string,
    private format: BatchFormat | undefined,
    private readonly io: { stdin: NodeJS.ReadableStream; stderr: NodeJS.WritableStream },
    /** Called before a report, e.g. to clear a progress bar. */
    private readonly beforeReport: () => void = () => undefined,
  ) {
    this.label = source === '-' ? 'stdin' : path.basename(source);
  }

  private input: NodeJS.ReadableStream | undefined;

  /** Opens the source now, so an unreadable file is reported before anything else is set up. */
  prepare(): void {
    this.input ??= this.open();
  }

  private open(): NodeJS.ReadableStream {
    if (this.source === '-') return this.io.stdin;
    try {
      fs.accessSync(this.source, fs.constants.R_OK);
    } catch (err) {
      throw new InjectError(
        `Failed to read batch ${this.source}: ${(err as Error).message}`,
        EXIT.createFailed,
      );
    }
    return fs.createReadStream(this.source);
  }

  private report(lineNo: number, err: unknown): void {
    this.failed++;
    this.beforeReport();
    this.io.stderr.write(`${this.label}:${lineNo}: ${(err as Error).message}\n`);
  }

  /** `nextRef` gives each message its concatenation reference (8 or 16 bits). */
  async *messages(nextRef: (ref16bit: boolean) => number): AsyncGenerator<BatchItem> {
    this.prepare();
    const rl = readline.createInterface({ input: this.input as NodeJS.ReadableStream, crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of rl) {
      lineNo++;
      this.format ??= guessFormat(line);
      const parsed = parseBatchLine(line, this.format, lineNo);
      if (parsed.ok === 'skip') continue;
      if (parsed.ok === false) {
        this.report(lineNo, new Error(parsed.reason));
        continue;
      }
      const now = new Date();
      let message: BuiltMessage;
      try {
        message = buildMessage(
          { type: 'text', ...parsed.request },
          { now, ref: nextRef(parsed.request.ref16bit) },
        );
      } catch (err) {
        this.report(lineNo, err);
        continue;
      }
      yield { message, now };
    }
  }
}

/** The summary line of a batch run; `unit` is what one message became (files or rows). */
export function batchSummary(
  queued: number,
  units: number,
  unit: string,
  failed: number,
  started: number,
): string {
  const s = (performance.now() - started) / 1000;
  const rate = s > 0 ? Math.round(queued / s) : queued;
  return `Queued ${queued} messages (${units} ${unit}) in ${s.toFixed(2)} s, ${rate} messages/s; ${failed} lines failed\n`;
}

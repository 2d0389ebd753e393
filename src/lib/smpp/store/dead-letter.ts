import fs from 'node:fs';
import path from 'node:path';

/**
 * Receipts and MO an ESME refused for good (or too many times): one JSON file each in smppd's
 * `dead-letter/` folder (state dir), with the deliver_sm PDUs as queued, the refusal and when, for
 * an operator to look at or queue again by hand. Written whole (temp file, rename).
 */
export interface DeadLetter {
  systemId: string;
  key: string;
  kind: string;
  /** The deliver_sm PDUs, hex, as they were queued. */
  pdus: string[];
  why: string;
}

/** Writes the dead letter; says where it went (or why it could not be kept). */
export function keepDeadLetter(dir: string | undefined, name: string, letter: DeadLetter): string {
  if (!dir) return 'not kept (no dead-letter folder)';
  try {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${letter.systemId}-${name}`.replace(/[^\w.-]/g, '_') + '.json');
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ at: new Date().toISOString(), ...letter })}\n`);
    fs.renameSync(tmp, file);
    return `kept in ${file}`;
  } catch (err) {
    return `not kept: ${(err as Error).message}`;
  }
}

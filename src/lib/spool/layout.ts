import fs from 'node:fs';
import type { SmsdConfig } from '../config/smsd-config.js';

/**
 * The embedded spool (built-in default config) is ours to lay out, so its folders are created on
 * first use; a configured spool must already exist, as with Gammu, so a typo is an error, not a
 * new empty folder nobody reads.
 */
export function ensureEmbeddedSpool(config: SmsdConfig): void {
  const s = config.smsd;
  for (const d of [s.inboxPath, s.outboxPath, s.sentSmsPath, s.errorSmsPath]) fs.mkdirSync(d.path, { recursive: true });
}

import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from './config/locate.js';

let cached: string | undefined;

/** smsgate's version from its package.json (read once, only when asked for). */
export function packageVersion(): string {
  if (cached === undefined) {
    try {
      // packageRoot() finds the package.json from wherever this code runs (dist/lib or a bundle).
      cached = (
        JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
      ).version;
    } catch {
      // Informative only (--version, CreatorID): a missing or odd package.json must not stop anything.
      cached = 'unknown';
    }
  }
  return cached;
}

import fs from 'node:fs';

let cached: string | undefined;

/** smsgate's version from its package.json (read once, only when asked for). */
export function packageVersion(): string {
  if (cached === undefined) {
    try {
      cached = (
        JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
          version: string;
        }
      ).version;
    } catch {
      // Informative only (--version, CreatorID): a missing or odd package.json must not stop anything.
      cached = 'unknown';
    }
  }
  return cached;
}

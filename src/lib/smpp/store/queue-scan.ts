import fs from 'node:fs';

/** `<16-digit sequence>-<20 hex digits of key hash>.json`: names sort in queue order as strings. */
const ENTRY_RE = /^\d{16}-[0-9a-f]{20}\.json$/;

export function isEntryName(name: string): boolean {
  return ENTRY_RE.test(name);
}

export function hashOfEntry(name: string): string {
  return name.slice(17, 37);
}

export function seqOfEntry(name: string): number {
  return Number(name.slice(0, 16));
}

/**
 * The `limit` oldest entry names of a queue folder that sort after `after`, oldest first.
 *
 * Streams the folder (opendir) instead of listing it, and keeps at most 2 × `limit` names at a
 * time, so a folder of 100,000 entries costs one pass and a bounded amount of memory. `visit` sees
 * every entry name on the way (for counting and hashing at load) and can leave one out by
 * returning false.
 */
export function oldestEntries(
  dir: string,
  after: string,
  limit: number,
  visit?: (name: string) => boolean,
): string[] {
  let handle: fs.Dir;
  try {
    handle = fs.opendirSync(dir, { bufferSize: 512 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let picked: string[] = [];
  // Names at or above `ceiling` cannot make the cut once `limit` smaller ones are known.
  let ceiling: string | undefined;
  try {
    for (let e = handle.readSync(); e !== null; e = handle.readSync()) {
      const name = e.name;
      if (!isEntryName(name)) continue;
      if (visit && !visit(name)) continue;
      if (limit <= 0 || name <= after || (ceiling !== undefined && name >= ceiling)) continue;
      picked.push(name);
      if (picked.length >= 2 * limit) {
        picked = picked.sort().slice(0, limit);
        ceiling = picked[picked.length - 1];
      }
    }
  } finally {
    handle.closeSync();
  }
  return picked.sort().slice(0, limit);
}

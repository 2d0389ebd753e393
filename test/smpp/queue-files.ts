import fs from 'node:fs';
import path from 'node:path';
import { keyHash } from '../../src/lib/smpp/store/queue.js';

/**
 * Queue entries written straight into `<state>/queue/<system_id>/` in DeliveryQueue's format, as a
 * previous run leaves them: how the tests get tens of thousands of entries in seconds (each
 * `add` syncs twice). Entry i has key `<prefix><i>` and sequence number `firstSeq + i`.
 */
export function writeQueueFiles(
  stateDir: string,
  systemId: string,
  n: number,
  o: { prefix?: string; firstSeq?: number; pdus?: (i: number) => string[] } = {},
): void {
  const dir = path.join(stateDir, 'queue', encodeURIComponent(systemId.toLowerCase()));
  fs.mkdirSync(dir, { recursive: true });
  const prefix = o.prefix ?? 'receipt:msg-';
  const created = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const key = `${prefix}${i}`;
    const name = `${String((o.firstSeq ?? 1) + i).padStart(16, '0')}-${keyHash(key)}.json`;
    const pdus = o.pdus?.(i) ?? ['00'];
    fs.writeFileSync(path.join(dir, name), JSON.stringify({ key, kind: 'receipt', pdus, created }));
  }
}

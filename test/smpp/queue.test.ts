import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryQueue, keyHash } from '../../src/lib/smpp/store/queue.js';
import { FingerprintSet } from '../../src/lib/smpp/store/fingerprints.js';
import { writeQueueFiles } from './queue-files.js';

// DeliveryQueue on its own: paging, the taken set, done.log compaction. delivery.test.ts and
// backlog.test.ts drive it through smppd.

const dirs: string[] = [];
function stateDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-queue-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/** Live JS heap plus typed-array storage (outside the heap), after full collections. */
function memory(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function firstNames(page: ReadonlySet<string>, n: number): string[] {
  const out: string[] = [];
  for (const name of page) {
    if (out.length === n) break;
    out.push(name);
  }
  return out;
}

const entryFiles = (state: string, sid: string): string[] =>
  fs.readdirSync(path.join(state, 'queue', sid)).filter((n) => n.endsWith('.json'));

describe('DeliveryQueue paging', () => {
  it('20,000 entries for an absent ESME stay on disk (flat memory); after a restart they all come out in order, exactly once', async () => {
    const N = 20_000;
    const ADDED = 200;
    const state = stateDir();
    writeQueueFiles(state, 'alpha', N);
    const before = memory();
    let q = new DeliveryQueue(state);
    // New events while the ESME is still absent go to disk only (the page is full).
    for (let i = N; i < N + ADDED; i++) {
      expect(q.add('alpha', { key: `receipt:msg-${i}`, kind: 'receipt', pdus: ['00'] })).toBe(true);
    }
    const grown = memory() - before;
    const total = N + ADDED;
    // A page of 8,192 names (~0.8 MB) and a 32k-slot hash table (0.35 MB): ~1.2 MB; 3.5 MB for
    // 100,000 (bench/smpp-queue.mjs), the page staying the same. Every name and hash as strings
    // (the previous implementation) took ~2.9 MB here, 12.5 MB for 100,000.
    expect(grown).toBeLessThan(2 * 1024 * 1024);
    expect(q.count('alpha')).toBe(total);
    expect(q.systemIds()).toEqual(['alpha']);
    expect(q.page('alpha').size).toBeLessThanOrEqual(8192);
    expect(q.has('receipt:msg-0')).toBe(true);
    expect(q.add('alpha', { key: `receipt:msg-7`, kind: 'receipt', pdus: ['00'] })).toBe(false);

    // Deliver as smppd does: a window of 100 taken from the page, answered in any order.
    let next = 0;
    const wrong: string[] = [];
    const deliver = async (upTo: number): Promise<void> => {
      while (next < upTo) {
        const names = firstNames(q.page('alpha', 100), Math.min(100, upTo - next));
        expect(names.length).toBeGreaterThan(0);
        for (const name of names) {
          const key = q.read('alpha', name).key;
          if (key !== `receipt:msg-${next}`) wrong.push(`${key} where receipt:msg-${next} was due`);
          next++;
        }
        for (const name of names.reverse()) q.remove('alpha', name);
        await tick();
      }
    };
    await deliver(Math.floor(total / 2) + 37);
    expect(wrong).toEqual([]);
    // Restart: what was answered is gone for good, the rest is all there.
    q.close();
    q = new DeliveryQueue(state);
    expect(q.count('alpha')).toBe(total - next);
    await deliver(total);
    expect(wrong).toEqual([]);
    expect(q.count('alpha')).toBe(0);
    expect(q.page('alpha').size).toBe(0);
    expect(q.systemIds()).toEqual([]);
    q.close();
    expect(entryFiles(state, 'alpha')).toEqual([]);
    // And again: nothing comes back, and none of them can be queued a second time.
    q = new DeliveryQueue(state);
    expect(q.count('alpha')).toBe(0);
    for (const i of [0, 1, N - 1, N, total - 1]) expect(q.has(`receipt:msg-${i}`)).toBe(true);
    expect(q.add('alpha', { key: 'receipt:msg-3', kind: 'receipt', pdus: ['00'] })).toBe(false);
    q.close();
  }, 120_000); // 20,000 durable adds: two fsyncs each, seconds of them on a busy disk

  it('new entries wait on disk behind a full page and join it, in order, as it empties', async () => {
    const state = stateDir();
    const q = new DeliveryQueue(state, { pageSize: 16 });
    const add = (i: number): boolean => q.add('Beta', { key: `mo:${i}`, kind: 'mo', pdus: ['00'] });
    for (let i = 0; i < 40; i++) add(i);
    expect(q.count('beta')).toBe(40);
    expect(q.page('beta').size).toBe(16);
    const got: string[] = [];
    let i = 40;
    while (q.count('beta') > 0) {
      const [name] = firstNames(q.page('beta'), 1);
      if (!name) throw new Error('empty page with entries queued');
      got.push(q.read('beta', name).key);
      q.remove('beta', name);
      if (i < 70) add(i++); // arrivals while draining
      expect(q.page('beta').size).toBeLessThanOrEqual(16);
      await tick();
    }
    expect(got).toEqual(Array.from({ length: 70 }, (_, k) => `mo:${k}`));
    q.close();
  });

  it('an entry whose removal reached done.log before a crash is not sent again', () => {
    const state = stateDir();
    writeQueueFiles(state, 'alpha', 3);
    // The ESME answered msg-1, done.log has it, the unlink did not happen.
    fs.writeFileSync(path.join(state, 'done.log'), `@1700000000\n${keyHash('receipt:msg-1')}\n`);
    const q = new DeliveryQueue(state);
    expect(q.count('alpha')).toBe(2);
    expect([...q.page('alpha')].map((n) => q.read('alpha', n).key)).toEqual([
      'receipt:msg-0',
      'receipt:msg-2',
    ]);
    expect(entryFiles(state, 'alpha')).toHaveLength(2);
    q.close();
  });
});

describe('done.log compaction', () => {
  const HOUR = 3_600_000;

  it('forgets done events whose source is gone once past the horizon; keeps live, recent and queued ones across a restart', async () => {
    const state = stateDir();
    let now = Date.UTC(2025, 0, 1);
    const opts = { now: () => now, horizonMs: 24 * HOUR };
    let q = new DeliveryQueue(state, opts);
    q.markTaken(['receipt:live', 'receipt:gone', 'mo:gone']);
    q.add('alpha', { key: 'receipt:queued', kind: 'receipt', pdus: ['00'] });
    q.add('alpha', { key: 'receipt:delivered', kind: 'receipt', pdus: ['00'] });
    const [, delivered] = [...q.page('alpha')];
    q.remove('alpha', delivered ?? '');
    await tick();
    now += 2 * HOUR;
    // Within the horizon everything stays, whatever the spool says.
    expect(q.compact([])).toEqual({ kept: 4, dropped: 0 });
    now += 24 * HOUR;
    q.markTaken(['mo:recent']);
    expect(q.compact(['receipt:live', 'receipt:never-taken'])).toEqual({ kept: 2, dropped: 3 });
    const check = (x: DeliveryQueue): void => {
      expect(x.has('receipt:live')).toBe(true); // its report is still in reports/
      expect(x.has('mo:recent')).toBe(true); // within the horizon
      expect(x.has('receipt:queued')).toBe(true); // still queued
      expect(x.has('receipt:gone')).toBe(false);
      expect(x.has('mo:gone')).toBe(false);
      expect(x.has('receipt:delivered')).toBe(false);
      expect(x.has('receipt:never-taken')).toBe(false);
    };
    check(q);
    q.close();
    const lines = fs.readFileSync(path.join(state, 'done.log'), 'utf8').trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('@'))).toHaveLength(2);
    q = new DeliveryQueue(state, opts);
    check(q);
    expect(q.count('alpha')).toBe(1);
    q.close();
  });

  it('reads done.log lines without a time (older smppd) as taken when loaded, and drops duplicate lines', () => {
    const state = stateDir();
    const h = keyHash('mo:old');
    fs.writeFileSync(path.join(state, 'done.log'), `${h}\n${h}\n${keyHash('mo:other')}\ntorn-li`);
    let now = Date.UTC(2025, 0, 1);
    const opts = { now: () => now, horizonMs: 3_600_000 };
    let q = new DeliveryQueue(state, opts);
    expect(q.fresh).toBe(false);
    expect(q.has('mo:old')).toBe(true);
    expect(q.compact([])).toEqual({ kept: 2, dropped: 1 });
    expect(fs.readFileSync(path.join(state, 'done.log'), 'utf8')).toMatch(
      new RegExp(`^@${now / 1000}\n${h}\n`),
    );
    q.close();
    now += 2 * 3_600_000;
    q = new DeliveryQueue(state, opts);
    expect(q.compact(['mo:old'])).toEqual({ kept: 1, dropped: 1 });
    expect(q.has('mo:old')).toBe(true);
    expect(q.has('mo:other')).toBe(false);
    q.close();
  });

  it('a line torn by a crash does not swallow the next append', () => {
    const state = stateDir();
    fs.writeFileSync(
      path.join(state, 'done.log'),
      `@1700000000\n${keyHash('mo:a')}\n${keyHash('mo:b').slice(0, 7)}`,
    );
    let q = new DeliveryQueue(state);
    expect(q.has('mo:a')).toBe(true);
    expect(q.has('mo:b')).toBe(false);
    q.markTaken(['mo:c']);
    q.close();
    q = new DeliveryQueue(state);
    expect(q.has('mo:c')).toBe(true);
    q.close();
  });

  it('is due once done.log has doubled since the last one (at least compactAfter lines)', () => {
    const state = stateDir();
    const q = new DeliveryQueue(state, { compactAfter: 10 });
    q.markTaken(Array.from({ length: 9 }, (_, i) => `mo:${i}`));
    expect(q.needsCompaction()).toBe(false);
    q.markTaken(['mo:9']);
    expect(q.needsCompaction()).toBe(true);
    q.compact([]); // all within the horizon: 10 kept
    q.markTaken(Array.from({ length: 9 }, (_, i) => `mo:x${i}`));
    expect(q.needsCompaction()).toBe(false);
    q.markTaken(['mo:x9']);
    expect(q.needsCompaction()).toBe(true);
    q.close();
  });
});

describe('FingerprintSet', () => {
  it('tells apart hashes that differ in any of their 80 bits, keeps flags through growth and rebuilds', () => {
    const set = new FingerprintSet();
    const base = '0123456789abcdef0123';
    const variants = [
      base,
      `${base.slice(0, 19)}4`,
      `f${base.slice(1)}`,
      `${base.slice(0, 10)}ff${base.slice(12)}`,
    ];
    for (const [i, h] of variants.entries()) set.update(h, 1 << (i % 3));
    for (let i = 0; i < 50_000; i++) set.update(keyHash(`k${i}`), i % 2 ? 1 : 2);
    expect(set.size).toBe(50_004);
    expect(variants.map((h) => set.flagsOf(h))).toEqual([1, 2, 4, 1]);
    expect(set.flagsOf(keyHash('k7'))).toBe(1);
    expect(set.flagsOf(keyHash('absent'))).toBe(0);
    set.update(keyHash('k7'), 8, 1);
    expect(set.flagsOf(keyHash('k7'))).toBe(8);
    const odd = set.rebuilt((f) => f & 1);
    expect(odd.size).toBe(25_000 - 1 + 2);
    expect(odd.flagsOf(keyHash('k9'))).toBe(1);
    expect(odd.flagsOf(keyHash('k8'))).toBe(0);
    expect(odd.flagsOf(keyHash('k7'))).toBe(0);
  });
});

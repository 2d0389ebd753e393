import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { TokenBucket } from '../../src/lib/smpp/protocol/net.js';
import {
  MemoryRateExchange,
  SharedThroughput,
  SqlRateExchange,
  type RateExchange,
} from '../../src/lib/smpp/policy/shared-throughput.js';
import { createTempDb, serverAvailable, type TempDb } from './db.js';

/** SQLite too: KSMPPD's tables in one file may serve several nodes on one host. */
const KINDS = ['memory', 'mysql', 'pgsql', 'sqlite'] as const;

// Two smppd nodes' view of one account limited to LIMIT parts/s: each node's token bucket takes
// its share of the demand, learnt through the exchange; together they accept about LIMIT/s.

const LIMIT = 200;

/** Offers `perMs` parts every millisecond on each busy node for `ms`; counts what the buckets accept after `settleMs`. */
async function drive(nodes: { shared: SharedThroughput; busy: boolean }[], ms: number, settleMs: number) {
  const buckets = nodes.map(() => new TokenBucket(LIMIT));
  const accepted = nodes.map(() => 0);
  const started = performance.now();
  for (const n of nodes) n.shared.start();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      nodes.forEach((n, i) => {
        if (!n.busy) return;
        const b = buckets[i] as TokenBucket;
        b.setRate(LIMIT * n.shared.share('acme'));
        for (let k = 0; k < 2; k++) {
          n.shared.offer('ACME', 1);
          if (b.take(1) && elapsed >= settleMs) accepted[i] = (accepted[i] ?? 0) + 1;
        }
      });
      if (elapsed >= ms) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  for (const n of nodes) await n.shared.stop();
  return accepted.map((a) => a / ((ms - settleMs) / 1000));
}

function exchanges(kind: 'memory' | SqlDialect, db?: TempDb): () => Promise<RateExchange> {
  if (kind === 'memory') {
    const shared = new MemoryRateExchange();
    return async () => shared;
  }
  return async () => {
    const x = new SqlRateExchange(new SqlConnection({ ...(db as TempDb).options }));
    await x.init();
    return x;
  };
}

describe.each(KINDS)('throughput limit across two nodes (%s)', (kind) => {
  let db: TempDb | undefined;
  let available = true;
  beforeAll(async () => {
    if (kind === 'memory') return;
    available = await serverAvailable(kind);
    if (available) db = await createTempDb(kind);
  });
  afterAll(async () => db?.drop());

  it('two busy nodes share the limit; a lone busy node gets all of it', async () => {
    if (!available) return;
    const make = exchanges(kind, db);
    const both = [
      { shared: new SharedThroughput('node-a', await make()), busy: true },
      { shared: new SharedThroughput('node-b', await make()), busy: true },
    ];
    const rates = await drive(both, 3_000, 1_000);
    const total = (rates[0] ?? 0) + (rates[1] ?? 0);
    // Within 15 % of the limit (without the share each would take LIMIT: 2x).
    expect(total).toBeGreaterThan(LIMIT * 0.85);
    expect(total).toBeLessThan(LIMIT * 1.15);
    expect(Math.min(...rates)).toBeGreaterThan(LIMIT * 0.3); // both get a fair part
    const lone = [
      { shared: new SharedThroughput('node-a', await make()), busy: true },
      { shared: new SharedThroughput('node-b', await make()), busy: false },
    ];
    const [alone] = await drive(lone, 2_000, 1_000);
    expect(alone).toBeGreaterThan(LIMIT * 0.85);
  }, 20_000);
});

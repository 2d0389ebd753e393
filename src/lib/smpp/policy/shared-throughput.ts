import type { SqlConnection } from '../../services/sql/connection.js';
import { doubleType, mark, upsert } from '../sql/dialect.js';

/**
 * An account's messages-per-second limit over several `smppd serve` nodes, without a database
 * round trip per message. Each node keeps its own token bucket and, every period, publishes how
 * many parts per second each account offered on it (accepted or not) and reads what the other live
 * nodes published. Its bucket then gets the account's limit times its share of the demand:
 *
 *   rate_i = limit x demand_i / (demand_i + sum of the others' demand)
 *
 * so one busy node gets the whole limit, two equally busy ones half each, and the sum over nodes
 * stays at the limit. Tolerance: a change of load takes one or two periods to reach every node
 * (default period 250 ms), during which the sum may exceed the limit by what the buckets hold
 * (one second's worth at most); a node that stops publishing for three periods counts as gone,
 * its demand fading over a few more (halved each period), so a lost update never doubles the rate.
 */

export interface RateExchange {
  /** Publishes this node's offered parts/s per system_id; returns the others' sums per system_id. */
  exchange(nodeId: string, offered: ReadonlyMap<string, number>, now: number): Promise<Map<string, number>>;
  close?(): Promise<void>;
}

/** The smallest share a node keeps: its bucket never stops (0 would mean "unlimited" to it). */
const MIN_SHARE = 0.01;

export class SharedThroughput {
  private counts = new Map<string, number>();
  private readonly demand = new Map<string, number>();
  private readonly others = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private last = performance.now();
  private running = false;

  constructor(
    readonly nodeId: string,
    private readonly peers: RateExchange,
    private readonly periodMs = 250,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** Counts parts offered by an account on this node (call for every submit). */
  offer(systemId: string, parts: number): void {
    const sid = systemId.toLowerCase();
    this.counts.set(sid, (this.counts.get(sid) ?? 0) + parts);
  }

  /** This node's part of an account's limit (1 while no other node shows demand). */
  share(systemId: string): number {
    const sid = systemId.toLowerCase();
    const others = this.others.get(sid) ?? 0;
    if (others <= 0) return 1;
    const mine = this.demand.get(sid) ?? 0;
    return Math.max(MIN_SHARE, mine / (mine + others));
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(), this.periodMs);
    this.timer.unref();
  }

  /** One exchange: measured demand out, the others' in. */
  async tick(): Promise<void> {
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.last) / 1000);
    this.last = now;
    const counts = this.counts;
    this.counts = new Map();
    for (const sid of new Set([...counts.keys(), ...this.demand.keys()])) {
      const rate = (counts.get(sid) ?? 0) / seconds;
      // Smoothed a little: a gap between two bursts of one ESME does not hand its share away.
      const smoothed = 0.5 * rate + 0.5 * (this.demand.get(sid) ?? rate);
      if (smoothed < 0.01) this.demand.delete(sid);
      else this.demand.set(sid, smoothed);
    }
    try {
      const others = await this.peers.exchange(this.nodeId, this.demand, Date.now());
      // A peer's demand that vanishes from one exchange (a late write, a node going away) fades
      // over a few periods instead of handing this node the whole limit at once.
      for (const sid of new Set([...others.keys(), ...this.others.keys()])) {
        const r = Math.max(others.get(sid) ?? 0, 0.5 * (this.others.get(sid) ?? 0));
        if (r < 0.01) this.others.delete(sid);
        else this.others.set(sid, r);
      }
    } catch (err) {
      // Database away: keep the last known shares (the limit holds as it was), say so once a period.
      this.onError(err as Error);
    } finally {
      this.schedule();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.peers.close?.();
  }
}

/** Nodes in one process (tests, and the shape of the protocol). */
export class MemoryRateExchange implements RateExchange {
  private readonly rows = new Map<string, { offered: Map<string, number>; at: number }>();
  constructor(private readonly staleMs = 750) {}

  async exchange(
    nodeId: string,
    offered: ReadonlyMap<string, number>,
    now: number,
  ): Promise<Map<string, number>> {
    this.rows.set(nodeId, { offered: new Map(offered), at: now });
    const sums = new Map<string, number>();
    for (const [id, row] of this.rows)
      if (id !== nodeId && now - row.at <= this.staleMs)
        for (const [sid, r] of row.offered) sums.set(sid, (sums.get(sid) ?? 0) + r);
    return sums;
  }
}

/**
 * The exchange through a table every node reaches, `smppd_rate` (node_id, system_id, offered,
 * updated_ms): one upsert of this node's rows and one indexed read per period, whatever the
 * message rate. Times are the nodes' clocks (ms since the epoch): keep them in sync (NTP).
 */
export class SqlRateExchange implements RateExchange {
  constructor(
    private readonly conn: SqlConnection,
    private readonly table = 'smppd_rate',
    private readonly staleMs = 750,
  ) {}

  async init(): Promise<void> {
    const t = this.table;
    const d = this.conn.dialect;
    await this.conn.query(
      `CREATE TABLE IF NOT EXISTS ${t} (node_id VARCHAR(64) NOT NULL, system_id VARCHAR(64) NOT NULL, offered ${doubleType(d)} NOT NULL, updated_ms BIGINT NOT NULL, PRIMARY KEY (node_id, system_id))${d === 'mysql' ? ' ENGINE=InnoDB' : ''}`,
    );
  }

  async exchange(
    nodeId: string,
    offered: ReadonlyMap<string, number>,
    now: number,
  ): Promise<Map<string, number>> {
    const t = this.table;
    const d = this.conn.dialect;
    const p = (i: number): string => mark(d, i);
    // Our rows: the current demand first, then zero for accounts that went quiet (in this order a
    // peer reading in between never sees a busy account at zero).
    for (const [sid, r] of offered)
      await this.conn.query(
        upsert(
          d,
          t,
          ['node_id', 'system_id', 'offered', 'updated_ms'],
          ['node_id', 'system_id'],
          ['offered', 'updated_ms'],
        ),
        [nodeId, sid, r, now],
      );
    await this.conn.query(
      `UPDATE ${t} SET offered = 0, updated_ms = ${p(1)} WHERE node_id = ${p(2)} AND updated_ms < ${p(3)}`,
      [now, nodeId, now],
    );
    const res = await this.conn.query(
      `SELECT system_id, SUM(offered) FROM ${t} WHERE node_id <> ${p(1)} AND updated_ms >= ${p(2)} GROUP BY system_id`,
      [nodeId, now - this.staleMs],
    );
    return new Map(res.rows.map((r) => [String(r[0]), Number(r[1])]));
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

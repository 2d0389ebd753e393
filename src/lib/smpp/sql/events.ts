import { LatencyHistogram } from '../../common/histogram.js';
import type { EventSource } from '../store/message-store.js';
import { SqlMo, type SqlMoOptions } from './mo.js';
import { SqlReceipts, type SqlReceiptsOptions } from './receipts.js';
import { SharedQueue } from './shared-queue.js';

/**
 * The SQL counterpart of SpoolEvents: polls for receipts (sentitems) and MO (inbox) on smppd's
 * events connection, one job at a time. SQL offers no change notification that works on MySQL and
 * PostgreSQL alike; a poll reads at most a page, and when a page was full the next follows at once.
 */

export type SqlEventsOptions = Omit<SqlReceiptsOptions, 'latency'> &
  SqlMoOptions & {
    pollMs?: number;
    /** system_ids with a receiver bound here: turns on the queue shared with other nodes. */
    receivers?: () => ReadonlySet<string>;
    /** A node silent this long counts as dead: its open messages are taken over. */
    nodeTimeoutMs?: number;
  };

export class SqlEvents implements EventSource {
  readonly deliveryLatency = new LatencyHistogram();
  private readonly receipts: SqlReceipts;
  private readonly mo: SqlMo;
  private readonly shared: SharedQueue | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Last error logged per job, so a database outage is logged once, not every second. */
  private readonly lastError = new Map<string, string>();

  constructor(private readonly o: SqlEventsOptions) {
    this.receipts = new SqlReceipts({ ...o, latency: this.deliveryLatency });
    this.mo = new SqlMo(o);
    if (o.receivers)
      this.shared = new SharedQueue({
        db: o.db,
        queue: o.queue,
        receivers: o.receivers,
        queued: o.queued,
        ...(o.nodeTimeoutMs ? { deadMs: o.nodeTimeoutMs } : {}),
      });
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => (this.running = undefined));
    }, ms);
    this.timer.unref();
  }

  private async job(name: string, fn: () => Promise<boolean>): Promise<boolean> {
    try {
      const more = await this.o.db.exclusive(fn);
      if (this.lastError.delete(name)) this.o.log('info', `SQL ${name}: working again`);
      return more;
    } catch (err) {
      const m = (err as Error).message;
      if (this.lastError.get(name) !== m)
        this.o.log('error', `SQL ${name}: ${m}; trying again (logged once until it works)`);
      this.lastError.set(name, m);
      return false;
    }
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    const receipts = await this.job('receipts (sentitems)', () => this.receipts.page());
    const mo = this.closed ? false : await this.job('MO (inbox)', () => this.mo.poll());
    const shared =
      this.closed || !this.shared
        ? false
        : await this.job('shared queue', () => this.shared?.tick() ?? Promise.resolve(false));
    this.schedule(receipts || mo || shared ? 0 : (this.o.pollMs ?? 1_000));
  }

  /** Stops polling (the connection stays: query_sm and cancel_sm use it until the server stops). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

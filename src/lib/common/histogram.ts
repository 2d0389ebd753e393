/**
 * A Prometheus histogram of latencies in seconds (cumulative buckets, sum, count), for the
 * delivery-latency metrics of `smsd run` and `smppd serve`. SMS latencies span milliseconds (a
 * queued file to AT+CMGS) to hours (a handset that was off), hence the wide buckets.
 */

export const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600, 21600] as const;

export class LatencyHistogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;

  /** Negative values (clocks of two machines, an SMSC's time stamps) count as 0. */
  observe(seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const v = Math.max(0, seconds);
    this.sum += v;
    this.count++;
    const i = LATENCY_BUCKETS.findIndex((b) => v <= b);
    if (i >= 0) this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  get observations(): number {
    return this.count;
  }

  /** The exposition lines; `labels` like `phone_id="x"` (already escaped) or ''. */
  render(name: string, help: string, labels = ''): string[] {
    const l = (extra: string): string => `{${[labels, extra].filter(Boolean).join(',')}}`;
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((b, i) => {
      cumulative += this.counts[i] ?? 0;
      lines.push(`${name}_bucket${l(`le="${b}"`)} ${cumulative}`);
    });
    lines.push(`${name}_bucket${l('le="+Inf"')} ${this.count}`);
    lines.push(`${name}_sum${labels ? `{${labels}}` : ''} ${Number(this.sum.toFixed(6))}`);
    lines.push(`${name}_count${labels ? `{${labels}}` : ''} ${this.count}`);
    return lines;
  }
}

import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/lib/common/histogram.js';

describe('latency histogram (Prometheus exposition)', () => {
  it('counts cumulatively per bucket, with sum and count; negative times count as 0', () => {
    const h = new LatencyHistogram();
    for (const v of [0.002, 0.3, 0.3, 7, 40_000, -1]) h.observe(v);
    h.observe(Number.NaN); // ignored
    const lines = h.render('x_seconds', 'help', 'a="b"');
    expect(lines.slice(0, 2)).toEqual(['# HELP x_seconds help', '# TYPE x_seconds histogram']);
    const bucket = (le: string) =>
      lines.find((l) => l.startsWith(`x_seconds_bucket{a="b",le="${le}"}`))?.split(' ')[1];
    expect(bucket('0.01')).toBe('2');
    expect(bucket('0.5')).toBe('4');
    expect(bucket('10')).toBe('5');
    expect(bucket('21600')).toBe('5');
    expect(bucket('+Inf')).toBe('6');
    expect(lines).toContain('x_seconds_sum{a="b"} 40007.602');
    expect(lines).toContain('x_seconds_count{a="b"} 6');
  });
});

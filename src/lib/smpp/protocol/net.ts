import type { BlockList } from 'node:net';

/** Address checks and rate limits of the bind and submit paths. */

export interface Cidr {
  family: 'ipv4' | 'ipv6';
  text: string;
}

/**
 * node:net when first needed: loading it (with node:stream) costs ~2.5 ms, which the readers of the
 * accounts file (`esme list`) need not pay; smppd serve has it loaded anyway.
 */
const nodeNet = (): typeof import('node:net') => process.getBuiltinModule('node:net');

// Node's own IPv4 check (lib/internal/net.js), so that validating an address does not load node:net.
const V4_SEG = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4 = new RegExp(`^(?:${V4_SEG}\\.){3}${V4_SEG}$`);
const isIPv4 = (s: string): boolean => IPV4.test(s);

/**
 * net.isIPv6, with a fast path: Node's IPv6 pattern costs 3-10 ms to compile on its first use, at
 * every start of `esme list` (the default allow list has `::/0`). An address of hex groups only
 * (no embedded IPv4, no zone) is valid exactly when it has 8 groups of 1-4 hex digits, or at most 7
 * with one `::`, which is what Node's pattern accepts for such strings; anything else (rare) is
 * left to net.isIPv6.
 */
function isIPv6(s: string): boolean {
  if (/^[0-9a-fA-F:]+$/.test(s)) {
    const halves = s.split('::');
    const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
    const all = halves.flatMap(groups);
    if (
      halves.length <= 2 &&
      all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) &&
      (halves.length === 2 ? all.length <= 7 : all.length === 8)
    )
      return true;
  }
  return nodeNet().isIPv6(s);
}

/** `10.0.0.0/8, 192.168.1.5, ::1/128` (commas or blanks). A bare address is a host. */
export function parseCidrList(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const item of text.split(/[\s,;]+/).filter(Boolean)) {
    const [addr = '', bits] = item.split('/');
    const family = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
    if (!family) throw new Error(`"${item}" is not an address or CIDR`);
    const max = family === 'ipv4' ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max)
      throw new Error(`"${item}": bad prefix length`);
    out.push({ family, text: `${addr}/${prefix}` });
  }
  return out;
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack listener reports) counts as IPv4. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1] ?? ip;
}

const compiled = new WeakMap<readonly Cidr[], BlockList>();

export function ipAllowed(ip: string, allow: readonly Cidr[]): boolean {
  const addr = normalizeIp(ip);
  const family = isIPv4(addr) ? 'ipv4' : 'ipv6';
  let bl = compiled.get(allow);
  if (!bl) {
    bl = new (nodeNet().BlockList)();
    for (const c of allow) {
      const [a = '', bits] = c.text.split('/');
      bl.addSubnet(a, Number(bits), c.family);
    }
    compiled.set(allow, bl);
  }
  return bl.check(addr, family);
}

/**
 * Token bucket: `rate` tokens per second, holding at most `rate` (a burst within one second's
 * worth). One per message part.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    now = performance.now(),
  ) {
    this.tokens = Math.max(1, rate);
    this.last = now;
  }

  setRate(rate: number): void {
    this.rate = rate;
  }

  take(n: number, now = performance.now()): boolean {
    if (this.rate <= 0) return true;
    const cap = Math.max(1, this.rate);
    this.tokens = Math.min(cap, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    // A message with more parts than the bucket holds passes when the bucket is full (else never).
    const need = Math.min(n, cap);
    if (this.tokens < need) return false;
    this.tokens -= need;
    return true;
  }
}

/**
 * KSMPPD's IP blocklist: `attempts` failed binds within `windowMs` block the IP until `windowMs`
 * after the last. Checks in flight count as failures until they end, so parallel connections
 * cannot get more than `attempts` password checks per window out of one IP.
 */
export class FailureBlocklist {
  private readonly failures = new Map<string, number[]>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly attempts: number,
    private readonly windowMs: number,
    private readonly exempt: readonly Cidr[] = [],
  ) {}

  private recent(ip: string, now: number): number[] {
    const list = (this.failures.get(ip) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(ip);
    else this.failures.set(ip, list);
    return list;
  }

  private limited(ip: string): boolean {
    return this.attempts > 0 && !ipAllowed(ip, this.exempt);
  }

  fail(ip: string, now = Date.now()): void {
    if (!this.limited(ip)) return;
    this.failures.set(ip, [...this.recent(ip, now), now].slice(-this.attempts));
  }

  blocked(ip: string, now = Date.now()): boolean {
    return this.attempts > 0 && this.recent(ip, now).length >= this.attempts;
  }

  /**
   * A password check from `ip` may start: false when its failures plus the checks still running
   * reach `attempts`. Each true must be followed by one `end`.
   */
  begin(ip: string, now = Date.now()): boolean {
    if (!this.limited(ip)) return true;
    const running = this.inFlight.get(ip) ?? 0;
    if (this.recent(ip, now).length + running >= this.attempts) return false;
    this.inFlight.set(ip, running + 1);
    return true;
  }

  /** The check `begin` allowed is over; `failed`: it counts as a failure. */
  end(ip: string, failed: boolean, now = Date.now()): void {
    if (!this.limited(ip)) return;
    const running = (this.inFlight.get(ip) ?? 1) - 1;
    if (running > 0) this.inFlight.set(ip, running);
    else this.inFlight.delete(ip);
    if (failed) this.fail(ip, now);
  }
}

/**
 * KSMPPD's connect_allow_ip (Kannel's IP pattern list): `*.*.*.*;10.0.0.*;192.168.1.5`, `;` (or
 * `,`, blanks) between patterns. Entries without `*` that are addresses or CIDRs go to `allow`;
 * patterns with `*` stay patterns (`10.*.0.1` is no CIDR). Kannel's lists are IPv4: `*.*.*.*`
 * admits every IPv4 peer, not IPv6 ones. Empty: anywhere.
 */
export function parseKannelIpList(text: string): { allow: Cidr[]; patterns: string[] } {
  const items = text.split(/[\s,;]+/).filter(Boolean);
  if (items.length === 0) return { allow: parseCidrList('0.0.0.0/0, ::/0'), patterns: [] };
  const allow: Cidr[] = [];
  const patterns: string[] = [];
  for (const item of items) {
    if (!item.includes('*')) {
      allow.push(...parseCidrList(item));
      continue;
    }
    const octets = item.split('.');
    if (octets.length !== 4 || !octets.every((o) => o === '*' || (/^\d{1,3}$/.test(o) && Number(o) <= 255)))
      throw new Error(`"${item}" is not an IPv4 pattern like 10.0.*.*`);
    patterns.push(item);
  }
  return { allow, patterns };
}

/** Does the peer match one of KSMPPD's `*` patterns (each `*` one whole octet)? */
export function ipMatchesPattern(ip: string, patterns: readonly string[]): boolean {
  const addr = normalizeIp(ip);
  if (!isIPv4(addr)) return false;
  const octets = addr.split('.');
  return patterns.some((p) => p.split('.').every((o, i) => o === '*' || Number(o) === Number(octets[i])));
}

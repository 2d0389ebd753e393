/**
 * Bounds the password checks (scrypt, or an HTTP auth call) that binds cost: at most `concurrency`
 * at once and `perIp` of them from one address; the others wait, newest first (under a flood
 * the oldest waiters are the ones that would be answered too late anyway), for at most `maxWaitMs`
 * and in a queue of at most `maxQueue`. What does not get a turn is answered without a check, so
 * a flood of wrong binds from many addresses costs the CPU and threads a bounded amount and a
 * legitimate bind waits a turn, not behind the whole flood.
 */

export interface BindGateOptions {
  concurrency: number;
  perIp: number;
  maxWaitMs: number;
  maxQueue: number;
}

interface Waiter {
  ip: string;
  start: () => void;
  refuse: (why: string) => void;
  timer: NodeJS.Timeout;
}

export type GateResult<T> = { ok: true; value: T } | { ok: false; why: string };

/**
 * The per-IP attempt limit (FailureBlocklist): `begin` admits a check (and counts it in flight),
 * `blocked` says an IP has used up its attempts.
 */
export interface AttemptLimit {
  begin(ip: string): boolean;
  end(ip: string, failed: boolean): void;
  blocked(ip: string): boolean;
}

const UNLIMITED: AttemptLimit = { begin: () => true, end: () => undefined, blocked: () => false };

export class BindGate {
  private running = 0;
  private readonly runningPerIp = new Map<string, number>();
  /** Oldest first; taken from the end. */
  private waiting: Waiter[] = [];
  /** Binds answered without a check since the start (for /metrics). */
  refused = 0;

  constructor(
    private readonly o: BindGateOptions,
    private limit: AttemptLimit = UNLIMITED,
  ) {}

  /** The attempt limit the gate admits checks by (set once the blocklist exists). */
  useLimit(limit: AttemptLimit): void {
    this.limit = limit;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get checking(): number {
    return this.running;
  }

  /**
   * Runs `check` when a turn is free and the IP's attempt limit admits it (a check waits while the
   * IP's failures plus its checks in flight reach the limit); refuses at once an IP that is blocked.
   */
  run<T>(ip: string, check: () => Promise<T>, wanted: () => boolean = () => true): Promise<GateResult<T>> {
    return new Promise((resolve, reject) => {
      if (this.limit.blocked(ip)) {
        this.refused++;
        resolve({ ok: false, why: 'too many failed bind attempts from this address' });
        return;
      }
      const go = (): void => {
        if (!wanted()) {
          // The peer left while it waited: its turn goes to the next one, unchecked.
          this.limitEnd(ip);
          resolve({ ok: false, why: 'connection gone' });
          this.next();
          return;
        }
        this.running++;
        this.runningPerIp.set(ip, (this.runningPerIp.get(ip) ?? 0) + 1);
        check().then(
          (value) => {
            this.done(ip);
            resolve({ ok: true, value });
          },
          (err: unknown) => {
            this.done(ip);
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      };
      if (
        this.running < this.o.concurrency &&
        this.waiting.length === 0 &&
        this.free(ip) &&
        this.limit.begin(ip)
      )
        return go();
      const refuse = (why: string): void => {
        this.refused++;
        resolve({ ok: false, why });
      };
      const waiter: Waiter = {
        ip,
        start: go,
        refuse,
        timer: setTimeout(() => {
          this.waiting = this.waiting.filter((w) => w !== waiter);
          refuse(`no password check free within ${this.o.maxWaitMs} ms`);
        }, this.o.maxWaitMs),
      };
      waiter.timer.unref();
      this.waiting.push(waiter);
      if (this.waiting.length > this.o.maxQueue) {
        const oldest = this.waiting.shift() as Waiter;
        clearTimeout(oldest.timer);
        oldest.refuse(`${this.o.maxQueue} binds already wait for a password check`);
      }
      this.next();
    });
  }

  private limitEnd(ip: string): void {
    this.limit.end(ip, false);
  }

  private free(ip: string): boolean {
    return (this.runningPerIp.get(ip) ?? 0) < this.o.perIp;
  }

  private done(ip: string): void {
    this.running--;
    const n = (this.runningPerIp.get(ip) ?? 1) - 1;
    if (n > 0) this.runningPerIp.set(ip, n);
    else this.runningPerIp.delete(ip);
    this.next();
  }

  private next(): void {
    // Waiters of an IP that has used up its attempts are answered now, not at their deadline.
    if (this.waiting.some((w) => this.limit.blocked(w.ip)))
      this.waiting = this.waiting.filter((w) => {
        if (!this.limit.blocked(w.ip)) return true;
        clearTimeout(w.timer);
        w.refuse('too many failed bind attempts from this address');
        return false;
      });
    while (this.running < this.o.concurrency) {
      let i = this.waiting.length - 1;
      while (i >= 0) {
        const w = this.waiting[i] as Waiter;
        if (this.free(w.ip) && this.limit.begin(w.ip)) break;
        i--;
      }
      if (i < 0) return;
      const [w] = this.waiting.splice(i, 1) as [Waiter];
      clearTimeout(w.timer);
      w.start();
    }
  }
}

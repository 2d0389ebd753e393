import type { Logger } from '../common/log.js';
import type { StorageStatus } from '../spool/status.js';

export type { StorageStatus };

/**
 * Local storage steps of `smsd run` that can fail without the modem being at fault: recording a
 * sent part, moving a message to sent/ or error/, saving a received message or a delivery report.
 * A failure holds the work (a sent message keeps its claim, a received one stays on the SIM) and
 * only that step is retried, with back-off from RETRY_MIN_MS doubling to RETRY_MAX_MS; at the bound
 * it goes on every RETRY_MAX_MS for as long as it takes (giving up would mean losing a received
 * message or sending one again). The log gets the first failure, a reminder at most every
 * REMIND_MS, and the recovery; the status file and /metrics show it all along.
 */
export type StorageArea = 'outbox' | 'sent' | 'inbox' | 'reports';

export const RETRY_MIN_MS = 500;
export const RETRY_MAX_MS = 10_000;
export const REMIND_MS = 60_000;

interface Problem {
  error: string;
  since: number;
  attempts: number;
  nextAt: number;
  lastLogged: number;
}

/** What the status file shows (`storage`) and /metrics exports. */

export class StorageHealth {
  private readonly problems = new Map<StorageArea, Problem>();
  private failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A step of `area` failed: logs (rate-limited) and schedules the next attempt. */
  fail(area: StorageArea, error: string): void {
    const now = this.now();
    this.failures++;
    const p = this.problems.get(area);
    if (!p) {
      this.problems.set(area, {
        error,
        since: now,
        attempts: 1,
        nextAt: now + RETRY_MIN_MS,
        lastLogged: now,
      });
      this.log(
        'error',
        `storage problem (${area}): ${error}; the modem or the network is not at fault: holding the message and retrying only this step`,
      );
      return;
    }
    p.attempts++;
    p.nextAt = now + Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(p.attempts - 1, 20));
    if (error !== p.error || now - p.lastLogged >= REMIND_MS) {
      p.error = error;
      p.lastLogged = now;
      this.log(
        'error',
        `storage problem (${area}) for ${Math.round((now - p.since) / 1000)} s, ${p.attempts} attempts: ${error}`,
      );
    }
  }

  /** A step of `area` succeeded: logs the recovery once. Returns true when it was failing. */
  ok(area: StorageArea): boolean {
    const p = this.problems.get(area);
    if (!p) return false;
    this.problems.delete(area);
    this.log(
      'info',
      `storage (${area}) works again after ${Math.round((this.now() - p.since) / 1000)} s and ${p.attempts} failed attempts`,
    );
    return true;
  }

  failing(area: StorageArea): boolean {
    return this.problems.has(area);
  }

  /** May a step of `area` be tried now? */
  due(area: StorageArea): boolean {
    const p = this.problems.get(area);
    return !p || this.now() >= p.nextAt;
  }

  /** When the next attempt of a failing area (or of any) is due; Infinity when none fails. */
  nextAt(area?: StorageArea): number {
    let t = Infinity;
    for (const [a, p] of this.problems) if (area === undefined || a === area) t = Math.min(t, p.nextAt);
    return t;
  }

  status(): StorageStatus {
    let first: [StorageArea, Problem] | undefined;
    for (const e of this.problems) if (!first || e[1].since < first[1].since) first = e;
    if (!first) return { ok: true, failures: this.failures };
    return {
      ok: false,
      error: `${first[0]}: ${first[1].error}`,
      since: new Date(first[1].since).toISOString(),
      failures: this.failures,
    };
  }
}

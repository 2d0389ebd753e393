import type { Logger } from '../../common/log.js';
import type { MoForUrl } from '../store/spool-events.js';
import { DlrQueue, QueueFullError } from './dlr.js';
import { loadMoRoutes, matchMoRule, type MoFacts, type MoRule } from './mo-routes.js';
import { moCall } from './mo-url.js';

/**
 * MO to application URLs in `smppd serve`: the rules of MoRoutesFile decide, the call goes into
 * the durable call queue of dlr.ts (`StateDir/mo-url/`), and only then does the MO count as taken
 * from the inbox. At the queue's bound nothing is dropped: the MO stays where `smsd run` put it
 * (the spool's inbox, the SQL inbox above the watermark) and is taken once there is room.
 */

export interface MoDispatchOptions {
  routesFile: string;
  dir: string;
  max: number;
  maxAttempts: number;
  maxAgeMs: number;
  timeoutMs: number;
  firstDelayMs?: number;
  log: Logger;
}

export class MoDispatch {
  private rules: MoRule[] = [];
  readonly queue: DlrQueue;
  private fullSince: number | undefined;

  constructor(private readonly o: MoDispatchOptions) {
    this.queue = new DlrQueue({
      dir: o.dir,
      max: o.max,
      maxAttempts: o.maxAttempts,
      maxAgeMs: o.maxAgeMs,
      timeoutMs: o.timeoutMs,
      ...(o.firstDelayMs ? { firstDelayMs: o.firstDelayMs } : {}),
      whenFull: 'refuse',
      what: 'MO get-url',
      log: o.log,
    });
  }

  /** Reads the rules (throws `file:line: why` on a bad one) and what the last run left queued. */
  open(): void {
    this.rules = loadMoRoutes(this.o.routesFile);
    this.queue.open();
  }

  /** SIGHUP / routes rebuild: the new rules, or a throw and the old ones stay. */
  reload(): number {
    this.rules = loadMoRoutes(this.o.routesFile);
    return this.rules.length;
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  /** The ESME an `esme=` rule names for this MO, if the first matching rule is one. */
  esmeOf(mo: MoFacts): string | undefined {
    const r = matchMoRule(this.rules, mo);
    return r?.action.kind === 'esme' ? r.action.systemId : undefined;
  }

  /** `esme`: no URL rule; else resolves `taken` once the call is durable, `later` when it cannot be queued now. */
  route(mo: MoForUrl): 'esme' | Promise<'taken' | 'later'> {
    const text = mo.body.kind === 'text' ? mo.body.text : '';
    const rule = matchMoRule(this.rules, { ...mo, text });
    if (!rule || rule.action.kind === 'esme') return 'esme';
    const { url, request } = moCall({ ...rule, action: rule.action }, mo);
    return this.queue.addAsync(`mo-url:${mo.key}`, url, request).then(
      () => this.taken(mo, rule.where, rule.action.kind),
      (err: Error) => this.notTaken(err, mo, rule.where),
    );
  }

  private notTaken(err: Error, mo: MoForUrl, where: string): 'later' {
    {
      if (err instanceof QueueFullError) {
        if (this.fullSince === undefined) {
          this.fullSince = Date.now();
          this.o.log(
            'warn',
            `${err.message}: MO stay in the inbox until the application takes some (logged once until there is room)`,
          );
        }
      } else
        this.o.log(
          'error',
          `MO from ${mo.sender} for ${where}: not queued (${err.message}); tried again later`,
        );
      return 'later';
    }
  }

  private taken(mo: MoForUrl, where: string, kind: string): 'taken' {
    if (this.fullSince !== undefined) {
      this.o.log(
        'info',
        `MO get-url queue has room again (full for ${Math.round((Date.now() - this.fullSince) / 1000)} s)`,
      );
      this.fullSince = undefined;
    }
    this.o.log(
      'info',
      `MO from ${mo.sender} to ${mo.receiver || '?'} queued for ${kind === 'post' ? 'post-url' : 'get-url'} of ${where}`,
    );
    return 'taken';
  }

  /** Prometheus lines for /metrics. */
  metrics(): string[] {
    const s = this.queue.stats;
    return [
      '# HELP smppd_mo_url_queued MO calls to application URLs waiting on disk.',
      '# TYPE smppd_mo_url_queued gauge',
      `smppd_mo_url_queued ${this.queue.size}`,
      '# HELP smppd_mo_url_calls_total MO calls answered 2xx.',
      '# TYPE smppd_mo_url_calls_total counter',
      `smppd_mo_url_calls_total ${s.delivered}`,
      '# HELP smppd_mo_url_failed_attempts_total MO calls that failed (retried later).',
      '# TYPE smppd_mo_url_failed_attempts_total counter',
      `smppd_mo_url_failed_attempts_total ${s.failedAttempts}`,
      '# HELP smppd_mo_url_dead_letters_total MO calls given up (attempts or age), kept in mo-url-dead/.',
      '# TYPE smppd_mo_url_dead_letters_total counter',
      `smppd_mo_url_dead_letters_total ${s.dead}`,
      '# HELP smppd_mo_url_queue_full_total Times an MO was left in the inbox because the call queue was full (again at each listing).',
      '# TYPE smppd_mo_url_queue_full_total counter',
      `smppd_mo_url_queue_full_total ${s.refusedFull}`,
    ];
  }
}

import os from 'node:os';
import path from 'node:path';
import type { SmsdConfig } from '../config/smsd-config.js';
import type { OutboxJob, SmsdService } from '../services/types.js';
import type { SubmitOptions } from '../sms/submit.js';
import type { Outlet, OutletStatus, SubmitOutcome } from '../outlets/types.js';
import { StatusPublisher, type DaemonState, type DaemonStatus } from '../spool/status.js';
import type { DaemonPaths } from './paths.js';
import type { Logger } from '../common/log.js';
import { LatencyHistogram } from '../common/histogram.js';
import { Sleeper } from '../common/sleeper.js';
import { runHook, hookEnvironment } from './hooks.js';
import { OutletReports } from './outlet-reports.js';
import { MoParts } from './outlet-mo.js';
import { OutletInbound } from './outlet-inbound.js';
import { packageVersion } from '../version.js';
import { numericId, toOutletPart } from './outlet-parts.js';
import { OutletStorage } from './outlet-storage.js';
import { reloadOutlet } from './outlet-reload.js';

export interface OutletDaemonOptions {
  config: SmsdConfig;
  service: SmsdService;
  paths: DaemonPaths;
  log: Logger;
  name: string;
  outlet: Outlet;
}

const CLIENT = `smsgate ${packageVersion()} on ${os.type()}, kernel ${os.release()}, Node ${process.version}`;
/** A part the network asked us to hold back is offered again after this (when it names no time). */
const TEMPORARY_RETRY_MS = 5_000;

/** The status file of an outlet daemon: a modem's, plus the outlet's link and counters. */
export interface OutletDaemonStatus extends DaemonStatus {
  outlet?: OutletStatus;
}

/**
 * `smsd run` with an outlet (`Connection = smpp|smpps|kannel`) instead of a modem. Same spool
 * contract: claims outbox messages through the service, submits their parts pipelined across
 * messages (up to the outlet's window), records each part's network id durably (service and the
 * receipt index) before the message counts as sent, moves it to sent/ or error/. MO goes to the
 * inbox, receipts to the delivery reports, through the same service calls a modem uses.
 */
export class OutletDaemon {
  private stopping = false;
  /** The loop's sleep: outbox events and the link's state end it. */
  private readonly sleeper = new Sleeper();
  private readonly active = new Set<Promise<void>>();
  /** Parts of the claimed messages not yet settled (bounds the claims: 2 x window). */
  private partsOpen = 0;
  private readonly statusFile: StatusPublisher;
  private readonly status: OutletDaemonStatus;
  private reports!: OutletReports;
  private inbound!: OutletInbound;
  private lastPublish = 0;
  private publishTimer: NodeJS.Timeout | undefined;
  private moTimer: NodeJS.Timeout | undefined;
  readonly latency = { queue: new LatencyHistogram(), delivery: new LatencyHistogram() };
  /** Failing local steps (never the network's fault): the claim holds, only the step is retried. */
  readonly storage: OutletStorage;

  constructor(private readonly o: OutletDaemonOptions) {
    const c = o.config;
    this.storage = new OutletStorage(o.log, () => this.publish(true));
    this.statusFile = new StatusPublisher(o.paths.statusDir, o.name);
    this.status = {
      pid: process.pid,
      phoneId: c.smsd.phoneId,
      device: `${c.gammu.connection}:${c.gammu.device}`,
      state: 'starting',
      client: CLIENT,
      manufacturer: 'smsgate',
      model: `outlet ${c.gammu.connection}`,
      signalPercent: -1,
      batteryPercent: -1,
      sent: 0,
      received: 0,
      failed: 0,
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
  }

  get counters(): Readonly<OutletDaemonStatus> {
    this.status.outlet = this.outletStatus();
    this.status.storage = this.storage.status();
    return this.status;
  }

  private outletStatus(): OutletStatus {
    const st = this.o.outlet.status();
    if (!this.reports) return st;
    return {
      ...st,
      receiptsWaiting: this.reports.size,
      receiptsClosed: this.reports.closedWithoutReceipt,
    };
  }

  private get s() {
    return this.o.config.smsd;
  }

  private get window(): number {
    return this.o.outlet.status().window;
  }

  private setState(state: DaemonState, lastError?: string): void {
    this.status.state = state;
    if (lastError !== undefined) this.status.lastError = lastError;
    this.publish(true);
  }

  /** The status file at most every second while busy (it is fsync'd), at once on state changes. */
  private publish(now = false): void {
    const due = Date.now() - this.lastPublish >= 1000;
    if (now || due) {
      this.lastPublish = Date.now();
      this.status.outlet = this.outletStatus();
      this.status.storage = this.storage.status();
      this.statusFile.publish(this.status);
      return;
    }
    if (!this.publishTimer)
      this.publishTimer = setTimeout(() => {
        this.publishTimer = undefined;
        this.publish(true);
      }, 1000);
  }

  poke(): void {
    this.sleeper.wake();
  }

  private waitForWake(ms: number): Promise<void> {
    return this.sleeper.sleep(ms, this.stopping);
  }

  async start(): Promise<void> {
    const c = this.o.config;
    await this.o.service.init();
    const receipts = this.o.outlet.receipts;
    this.reports = new OutletReports(
      this.o.paths.reportsDir,
      this.o.name,
      this.o.outlet.messageIdFormat ?? 'same',
      {
        ...(receipts ? { receiptTimeoutMs: receipts.timeoutMs, receiptLimit: receipts.limit } : {}),
        log: this.o.log,
      },
    );
    this.inbound = new OutletInbound({
      config: this.o.config,
      service: this.o.service,
      log: this.o.log,
      reports: this.reports,
      moParts: new MoParts(path.join(path.dirname(this.o.paths.statusDir), 'outlet-mo', this.o.name)),
      storage: this.storage,
      status: this.status,
      delivery: this.latency.delivery,
      publish: () => this.publish(),
      hook: (c, a, e) => this.hook(c, a, e),
    });
    this.o.log('info', `outlet: Connection = ${c.gammu.connection}, Device = ${c.gammu.device}`);
    this.o.log('info', `mode: Send=${+this.s.send}, Receive=${+this.s.receive}`);
    this.o.log('info', `phoneid = ${this.s.phoneId}`);
    this.setState('connecting');
    this.o.service.onOutboxChange?.(() => this.poke());
    await this.o.service.initAfterConnect({
      phoneId: this.s.phoneId,
      ...(this.s.ownNumber ? { ownNumber: this.s.ownNumber } : {}),
      imei: `${c.gammu.connection}:${c.gammu.device}`.slice(0, 35),
      imsi: '',
      manufacturer: 'smsgate',
      model: `outlet ${c.gammu.connection}`,
    });
    const started = this.o.outlet
      .start({
        mo: (m) => this.inbound.onMo(m),
        report: (r) => this.inbound.onReport(r),
        state: (st) => {
          this.status.outlet = st;
          const state: DaemonState =
            st.state === 'bound' ? 'connected' : st.state === 'down' ? 'error' : 'connecting';
          if (state !== this.status.state || st.lastError !== this.status.lastError)
            this.setState(state, st.lastError);
          if (st.state === 'bound') this.poke();
        },
      })
      .catch((err: Error) => {
        if (!this.stopping) this.o.log('error', `outlet: ${err.message}`);
      });
    let ticks = 0;
    this.moTimer = setInterval(() => {
      void this.inbound.flushIncompleteMo();
      // Finals other daemons recorded for our parts (their receipts reached them): off our index.
      this.reports.foreign.refresh();
      this.closeUnreceipted();
      // Parts are logged at debug level (thousands a second); a summary every 30 s at info.
      if (++ticks % 6 === 0 && this.sentSinceSummary > 0) {
        this.o.log(
          'info',
          `sent ${this.sentSinceSummary} messages in the last 30 s (${this.status.sent} since start)`,
        );
        this.sentSinceSummary = 0;
      }
    }, 5_000);
    this.moTimer.unref();
    try {
      await this.loop();
    } finally {
      clearInterval(this.moTimer);
      await started;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    this.storage.stop();
  }

  /** SIGHUP: outlet and [smsd] settings that apply without a rebind; says which need a restart. */
  reload(
    configPath: string | undefined,
    setDebug: (debug: boolean) => void = () => undefined,
  ): Promise<void> {
    return reloadOutlet(
      configPath,
      this.o.config,
      this.o.outlet,
      this.o.log,
      (receipts) => this.reports.configure(receipts),
      setDebug,
    ).then(() => {
      this.publish(true);
      this.poke();
    });
  }

  /** Parts past ReceiptTimeout leave the index (report file "no receipt"); the journal is compacted. */
  private closeUnreceipted(): void {
    const closed = this.reports.expire();
    if (closed.length > 0) {
      const first = closed[0]?.sent;
      this.o.log(
        'warn',
        `${closed.length} sent parts got no receipt within ReceiptTimeout; closed as "no receipt" (report category unknown), e.g. ${first?.id} part ${first?.part} (message id ${first?.messageId})`,
      );
    }
    // Lines of moved messages and closed parts made durable along with the next records.
    void this.reports.durable().catch(() => undefined);
    void this.reports.maybeCompact();
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopping) {
        const limit = Math.max(1, this.window * 2);
        let found = false;
        // While a local step fails (sent/, the receipt journal) nothing new is claimed: the held
        // messages finish first, as a modem holds its one message.
        const storageOk = !this.storage.failing('sent');
        if (storageOk && this.s.send && this.window > 0 && this.o.outlet.status().state === 'bound') {
          while (!this.stopping && this.partsOpen < limit) {
            let jobs: OutboxJob[];
            try {
              const svc = this.o.service;
              if (svc.findOutboxBatch) jobs = await svc.findOutboxBatch(limit - this.partsOpen);
              else {
                const job = await svc.findOutbox();
                jobs = job ? [job] : [];
              }
            } catch (err) {
              // Logged first and then once a minute (storage-health.ts); tried again each CommTimeout.
              this.storage.failed('outbox', err);
              break;
            }
            this.storage.works('outbox');
            if (jobs.length === 0) break;
            found = true;
            // A claim taken over from a stopped daemon: what it sent is in its journal.
            this.reports.foreign.refresh();
            for (const job of jobs) this.dispatch(job);
          }
        }
        // A full window wakes us when a message settles; an empty outbox at the watcher or CommTimeout.
        await this.waitForWake(found || this.partsOpen >= limit ? 60_000 : this.s.commTimeout * 1000);
      }
    } finally {
      // SIGTERM: no new claims; the outlet drains what is in flight, unbinds; then claims go back.
      const drainMs = Math.max(2_000, this.s.sendTimeout * 1000);
      this.setState('resetting');
      await this.o.outlet.close(drainMs);
      await Promise.all([...this.active]);
      this.reports.close();
      await this.o.service.free();
      this.setState('stopped');
    }
  }

  private dispatch(job: OutboxJob): void {
    const open = job.message.parts.length - job.sentParts.size;
    this.partsOpen += open;
    const p = this.send(job)
      .catch((err) => this.o.log('error', `${job.id}: ${describe(err)}`))
      .finally(() => {
        this.partsOpen -= open;
        this.active.delete(p);
        this.poke();
      });
    this.active.add(p);
  }

  private async send(job: OutboxJob): Promise<void> {
    const msg = job.message;
    if (msg.ussd) {
      await this.failed(job, 'USSD codes cannot go through an outlet', true);
      return;
    }
    this.o.log('debug', `New message to send: ${job.id}`);
    // Parts the network took before a restart, or before the daemon that held the claim stopped
    // (durable in its journal): not sent again.
    for (const [part, r] of this.reports.recorded(job.id) ?? [])
      if (!job.sentParts.has(part - 1)) {
        job.sentParts.set(part - 1, numericId(r.messageId));
        this.o.log(
          'info',
          `${job.id} part ${part}: accepted before${r.origin ? ` by ${r.origin}` : ''} (message id ${r.messageId}); not sent again`,
        );
      }
    const results = await Promise.all(
      msg.parts.map((part, i) =>
        job.sentParts.has(i) ? Promise.resolve('ok' as const) : this.sendPart(job, part, i),
      ),
    );
    if (results.includes('abandoned')) return; // stopping: the claim goes back, sent parts are recorded
    const failure = results.find((r): r is { reason: string } => typeof r === 'object');
    if (failure) {
      await this.failed(job, failure.reason, false);
      return;
    }
    // sent/ failing: the claim holds and only the move is tried again (never the submit).
    if (!(await this.storage.until('sent', () => this.moveSent(job)))) {
      this.o.log(
        'warn',
        `${job.id}: stopping before it could be moved to sent/; it stays claimed until the next start, which moves it without sending it again`,
      );
      return;
    }
    this.reports.settled(job.id);
    this.status.sent++;
    this.sentSinceSummary++;
    if (job.queuedAt) this.latency.queue.observe((Date.now() - job.queuedAt.getTime()) / 1000);
    this.publish();
    if (this.s.runOnSent) void this.hook(this.s.runOnSent, [job.id], hookEnvironment(this.s.phoneId, [], []));
  }

  private async sendPart(
    job: OutboxJob,
    part: SubmitOptions,
    i: number,
  ): Promise<'ok' | 'abandoned' | { reason: string }> {
    const wantReport = this.s.deliveryReport !== 'no';
    const op = toOutletPart(job, part, i, part.statusReport ?? wantReport);
    for (;;) {
      if (this.stopping) return 'abandoned';
      const r: SubmitOutcome = await this.o.outlet.submit(op);
      if (r.kind === 'accepted') {
        const parts = job.message.parts.length;
        // The network took it: from here on only the records are tried again, never the submit.
        job.sentParts.set(i, numericId(r.messageId));
        const recorded = this.reports.record({
          id: job.id,
          part: i + 1,
          parts,
          number: part.number,
          messageId: r.messageId,
          sentAt: new Date().toISOString(),
          phoneId: this.s.phoneId,
          ...(op.report ? {} : { noReport: true as const }),
        });
        let first = true;
        const ok = await this.storage.until('sent', async () => {
          const initial = first;
          first = false;
          await (initial ? recorded : this.reports.durable());
          // With a batch-moving service the index above is the per-part record (group commit), and
          // SQL's sentitems row too (grouped); otherwise the service records it (the files state).
          const svc = this.o.service;
          if (svc.addSentInfoGrouped)
            await svc.addSentInfoGrouped(job, i, numericId(r.messageId), r.messageId);
          else if (!svc.moveSentBatch) await svc.addSentInfo(job, i, numericId(r.messageId), r.messageId);
        });
        if (!ok) {
          this.o.log(
            'warn',
            `${job.id} part ${i + 1} was accepted (${r.messageId}) but stopping before it was recorded: a restart may send it again`,
          );
          return 'abandoned';
        }
        this.o.log(
          'debug',
          `Transmitted ${job.id} (part ${i + 1}/${parts}) to ${part.number}, message id ${r.messageId}`,
        );
        return 'ok';
      }
      if (r.kind === 'permanent') return { reason: r.reason };
      if (this.stopping) return 'abandoned';
      this.o.log('debug', `${job.id} part ${i + 1}: ${r.reason}; offered again later`);
      await new Promise((res) => setTimeout(res, r.retryAfterMs ?? TEMPORARY_RETRY_MS));
    }
  }

  private moveQueue: { job: OutboxJob; resolve(): void; reject(e: Error): void }[] = [];
  private moveScheduled = false;
  private sentSinceSummary = 0;

  private moving: Promise<void> | undefined;

  /**
   * sent/ for one message; with a batch-moving service, grouped with every message that settled
   * while the previous group was being made durable (one fsync per folder per group).
   */
  private moveSent(job: OutboxJob): Promise<void> {
    const batch = this.o.service.moveSentBatch?.bind(this.o.service);
    if (!batch) return this.o.service.moveSms(job, 'sent');
    return new Promise<void>((resolve, reject) => {
      this.moveQueue.push({ job, resolve, reject });
      if (this.moveScheduled) return;
      this.moveScheduled = true;
      const run = async (): Promise<void> => {
        this.moveScheduled = false;
        const queue = this.moveQueue;
        this.moveQueue = [];
        try {
          const failed = await batch(queue.map((q) => q.job));
          const bad = new Map(failed.map((f) => [f.job, f.error]));
          for (const q of queue) {
            const e = bad.get(q.job);
            if (e) q.reject(e);
            else q.resolve();
          }
        } catch (err) {
          for (const q of queue) q.reject(err as Error);
        }
      };
      const previous = this.moving;
      this.moving = (async () => {
        await previous;
        await new Promise<void>((r) => setImmediate(r));
        await run();
      })();
    });
  }

  private async failed(job: OutboxJob, reason: string, final: boolean): Promise<void> {
    this.status.failed++;
    this.o.log('error', `Error sending ${job.id}: ${reason}`);
    if (this.s.runOnFailure)
      void this.hook(this.s.runOnFailure, [job.id], hookEnvironment(this.s.phoneId, [], []));
    let decision: 'retry' | 'give-up' = 'give-up';
    if (!final)
      try {
        decision = await this.o.service.updateRetries(
          job,
          reason,
          this.s.maxRetries,
          this.s.retryTimeout * 1000,
        );
        this.storage.works('outbox');
      } catch (err) {
        // The count could not be kept; the service let go of the message for a later retry.
        this.storage.failed('outbox', err);
        decision = 'retry';
      }
    if (decision === 'give-up') {
      const why = `${reason} (after ${job.attempts} attempts)`;
      // error/ failing: the claim holds and only the move is tried again.
      if (await this.storage.until('sent', () => this.o.service.moveSms(job, 'error', why))) {
        this.o.log('error', `Moved to errorbox, reached MaxRetries: ${job.id}`);
        this.reports.settled(job.id);
      }
    }
    this.publish();
  }

  async hook(command: string, args: readonly string[], env: Record<string, string>): Promise<void> {
    this.o.log('info', `Starting run on ${command.split(/\s/)[0]} with ${args.length} argument(s)`);
    const r = await runHook(command, args, env);
    if (r.output) this.o.log('info', `Subprocess output: ${r.output}`);
    if (r.timedOut) this.o.log('error', 'Waited two minutes for child process, giving up');
    else if (r.code === 0) this.o.log('info', 'Process finished successfully');
    else this.o.log('error', `Process failed with exit status ${r.code}`);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

import os from 'node:os';
import path from 'node:path';
import type { SmsdConfig } from '../config/smsd-config.js';
import type { OutboxJob, SmsdService } from '../services/types.js';
import type { SubmitOptions } from '../sms/submit.js';
import type { Outlet, OutletMo, OutletReport, OutletStatus, SubmitOutcome } from '../outlets/types.js';
import { StatusPublisher, type DaemonState, type DaemonStatus } from '../spool/status.js';
import type { DaemonPaths } from './paths.js';
import type { Logger } from '../common/log.js';
import { LatencyHistogram } from '../common/histogram.js';
import { Sleeper } from '../common/sleeper.js';
import { runHook, hookEnvironment, receivedHookParts } from './hooks.js';
import { OutletReports, SQL_STATUS } from './outlet-reports.js';
import { MoParts, moAsDeliver } from './outlet-mo.js';
import { packageVersion } from '../version.js';
import { numericId, toOutletPart } from './outlet-parts.js';

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
  private moParts!: MoParts;
  private lastPublish = 0;
  private publishTimer: NodeJS.Timeout | undefined;
  private moTimer: NodeJS.Timeout | undefined;
  readonly latency = { queue: new LatencyHistogram(), delivery: new LatencyHistogram() };

  constructor(private readonly o: OutletDaemonOptions) {
    const c = o.config;
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
    this.status.outlet = this.o.outlet.status();
    return this.status;
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
      this.status.outlet = this.o.outlet.status();
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
    this.reports = new OutletReports(
      this.o.paths.reportsDir,
      this.o.name,
      this.o.outlet.messageIdFormat ?? 'same',
    );
    this.moParts = new MoParts(path.join(path.dirname(this.o.paths.statusDir), 'outlet-mo', this.o.name));
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
        mo: (m) => this.onMo(m),
        report: (r) => this.onReport(r),
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
      void this.flushIncompleteMo();
      // Finals other daemons recorded for our parts (their receipts reached them): off our index.
      this.reports.foreign.refresh();
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
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopping) {
        const limit = Math.max(1, this.window * 2);
        let found = false;
        if (this.s.send && this.window > 0 && this.o.outlet.status().state === 'bound') {
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
              this.o.log('error', `outbox not readable, will try again: ${describe(err)}`);
              break;
            }
            if (jobs.length === 0) break;
            found = true;
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
    // Parts the network took before a restart (in the durable index): not sent again.
    for (const [part, r] of this.reports.recorded(job.id) ?? [])
      if (!job.sentParts.has(part - 1)) job.sentParts.set(part - 1, numericId(r.messageId));
    const results = await Promise.all(
      msg.parts.map((part, i) =>
        job.sentParts.has(i) ? Promise.resolve('ok' as const) : this.sendPart(job, part, i),
      ),
    );
    if (results.includes('abandoned')) return; // stopping: the claim goes back, sent parts are recorded
    const failure = results.find((r): r is { reason: string; storage?: true } => typeof r === 'object');
    if (failure) {
      if (failure.storage) await this.storageFailure(job, failure.reason);
      else await this.failed(job, failure.reason, false);
      return;
    }
    try {
      await this.moveSent(job);
    } catch (err) {
      await this.storageFailure(job, `sent, but cannot be moved to sent: ${describe(err)}`);
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
  ): Promise<'ok' | 'abandoned' | { reason: string; storage?: true }> {
    const wantReport = this.s.deliveryReport !== 'no';
    const op = toOutletPart(job, part, i, part.statusReport ?? wantReport);
    for (;;) {
      if (this.stopping) return 'abandoned';
      const r: SubmitOutcome = await this.o.outlet.submit(op);
      if (r.kind === 'accepted') {
        const parts = job.message.parts.length;
        try {
          await this.reports.record({
            id: job.id,
            part: i + 1,
            parts,
            number: part.number,
            messageId: r.messageId,
            sentAt: new Date().toISOString(),
            phoneId: this.s.phoneId,
            ...(op.report ? {} : { noReport: true as const }),
          });
          // With a batch-moving service the index above is the per-part record (group commit),
          // and SQL's sentitems row too (grouped); otherwise the service records it (the files state).
          const svc = this.o.service;
          if (svc.addSentInfoGrouped)
            await svc.addSentInfoGrouped(job, i, numericId(r.messageId), r.messageId);
          else if (svc.moveSentBatch) job.sentParts.set(i, numericId(r.messageId));
          else await svc.addSentInfo(job, i, numericId(r.messageId), r.messageId);
        } catch (err) {
          // The network took it; only our bookkeeping failed. Not sent again: see storageFailure.
          return {
            reason: `part ${i + 1} was accepted (${r.messageId}) but could not be recorded: ${describe(err)}`,
            storage: true,
          };
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
    try {
      const decision = final
        ? 'give-up'
        : await this.o.service.updateRetries(job, reason, this.s.maxRetries, this.s.retryTimeout * 1000);
      if (decision === 'give-up') {
        this.o.log('error', `Moved to errorbox, reached MaxRetries: ${job.id}`);
        await this.o.service.moveSms(job, 'error', `${reason} (after ${job.attempts} attempts)`);
      }
    } catch (err) {
      this.o.log('error', `${job.id}: cannot record the failure: ${describe(err)}`);
    }
    this.publish();
  }

  /** Storage trouble is not the network's: the claim is retried later, with no MaxRetries count. */
  private async storageFailure(job: OutboxJob, reason: string): Promise<void> {
    this.o.log('error', `${job.id}: ${reason}`);
    try {
      await this.o.service.updateRetries(
        job,
        reason,
        Number.MAX_SAFE_INTEGER,
        this.s.loopSleep * 1000 + 1000,
      );
    } catch (err) {
      this.o.log('error', `${job.id}: cannot record the retry either: ${describe(err)}`);
    }
  }

  // ------------------------------------------------------------------ receiving

  private async onMo(mo: OutletMo): Promise<void> {
    if (!this.s.receive) throw new Error('Receive = no');
    const pdu = moAsDeliver(mo);
    if (pdu.concat && pdu.concat.total > 1) {
      const whole = this.moParts.put(mo);
      if (whole) await this.saveMo(whole.parts, true, whole.key);
      return;
    }
    await this.saveMo([mo], true);
  }

  private async saveMo(parts: OutletMo[], complete: boolean, key?: string): Promise<void> {
    const pdus = parts.map(moAsDeliver);
    const text = pdus.map((p) => p.text ?? '').join('');
    const ids = await this.o.service.saveInbox({ parts: pdus, complete, text });
    if (key) this.moParts.forget(key);
    this.status.received += parts.length;
    this.o.log('info', `Received ${ids.join(' ')} from ${parts[0]?.from ?? '?'}`);
    this.publish();
    if (this.s.runOnReceive) {
      const hp = receivedHookParts(pdus);
      void this.hook(this.s.runOnReceive, ids, hookEnvironment(this.s.phoneId, hp, [text]));
    }
  }

  private async flushIncompleteMo(): Promise<void> {
    for (const g of this.moParts.due(this.s.multipartTimeout * 1000)) {
      this.o.log(
        'warn',
        `Incomplete multipart message ${g.key} (${g.parts.length} parts), processing after timeout`,
      );
      try {
        await this.saveMo(g.parts, false, g.key);
      } catch (err) {
        this.o.log('error', `cannot store incomplete message ${g.key}: ${describe(err)}`);
      }
    }
  }

  private async onReport(r: OutletReport): Promise<void> {
    const sent = await this.reports.match(r);
    const record = this.reports.write(r, sent);
    await this.reports.durable(); // before the SMSC hears deliver_sm_resp
    if (!record || !sent) {
      this.o.log(
        'warn',
        `Delivery report for message id ${r.messageId} (${r.state}) matches no sent part (kept in ${path.join(this.reports.dir, 'unmatched')})`,
      );
      return;
    }
    if (record.category === 'delivered')
      this.latency.delivery.observe(Math.max(0, (r.at.getTime() - Date.parse(sent.sentAt)) / 1000));
    if (this.o.service.saveOutletReport) {
      const ok = await this.o.service.saveOutletReport(
        sent.id,
        sent.part,
        SQL_STATUS[record.category] as never,
        r.at,
      );
      if (!ok)
        this.o.log('warn', `Delivery report ${r.messageId}: no sentitems row ${sent.id} part ${sent.part}`);
    }
    this.o.log(
      'info',
      `Delivery report: ${r.state} to ${sent.number}, message id ${r.messageId} -> ${sent.id} part ${sent.part}${sent.origin ? ` (sent by ${sent.origin})` : ''}`,
    );
  }

  private async hook(command: string, args: readonly string[], env: Record<string, string>): Promise<void> {
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

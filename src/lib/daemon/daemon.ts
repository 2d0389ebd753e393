import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { SmsdConfig } from '../config/smsd-config.js';
import type { Phone, NotificationSetting } from '../at/phone.js';
import {
  AtCommandError,
  AtTimeoutError,
  DeviceGoneError,
  SecurityError,
  TransportOpenError,
  AtUnsupportedError,
} from '../at/errors.js';
import type { Urc } from '../at/urc.js';
import { tryDecodePdu, type DecodedPdu } from '../sms/decode.js';
import type { StatusReportPdu } from '../sms/status-report.js';
import type { DeliverPdu } from '../sms/deliver.js';
import type { SmsAddress } from '../sms/address.js';
import type { Scts } from '../sms/scts.js';
import { localBackupDate } from '../smsbackup/writer.js';
import { encodeSubmit } from '../sms/submit.js';
import type { MoveOutcome, OutboxJob, SmsdService } from '../services/types.js';
import { Reassembler, type StoredPart } from './reassembly.js';
import { NumberFilter } from './filters.js';
import { RoutedMessages } from './routed.js';
import { DeliveryReports } from '../spool/reports.js';
import { runHook, hookEnvironment, receivedHookParts, type HookPart } from './hooks.js';
import { StatusPublisher, type DaemonState, type DaemonStatus } from '../spool/status.js';
import { FaultLog, type Logger } from '../common/log.js';
import { replaceFileDurable } from '../spool/atomic.js';
import type { DaemonPaths } from './paths.js';
import { packageVersion } from '../version.js';
import { LatencyHistogram } from '../common/histogram.js';
import { Sleeper } from '../common/sleeper.js';
import { StorageHealth, type StorageArea } from './storage-health.js';

export interface DaemonOptions {
  config: SmsdConfig;
  service: SmsdService;
  paths: DaemonPaths;
  log: Logger;
  openPhone: () => Promise<Phone>;
  /** gammu-smsd's --max-failures: stop once more than this many connects failed in a row (0: never). */
  maxInitFailures?: number;
  /** Name of this daemon in status and index files (PhoneID, else the device's base name). */
  name: string;
}

/** Like Gammu's "Gammu 1.42.0 on Linux, kernel ..., compiler ...", for monitors and the phones table. */
const CLIENT = `smsgate ${packageVersion()} on ${os.type()}, kernel ${os.release()}, Node ${process.version}`;

/**
 * `smsd run`: one modem, one loop. Every modem command runs on this loop, one at a time; events
 * (a new outbox file, +CMTI, +CDS, a signal) only wake it up. Gammu's timers (ReceiveFrequency,
 * CommTimeout, StatusFrequency) remain as the fallback when an event is missed.
 */
export class SmsDaemon {
  private phone: Phone | undefined;
  private stopping = false;
  private suspended = false;
  /** The loop's sleep: outbox events, URCs and signals end it. */
  private readonly sleeper = new Sleeper();
  private receivePending = true;
  private sendPending = true;
  private readonly routedReports: StatusReportPdu[] = [];
  private lastReceive = 0;
  private lastSendScan = 0;
  private lastStatus = 0;
  private lastReset = Date.now();
  private lastHardReset = Date.now();
  private consecutiveErrors = 0;
  private connectFailures = 0;
  private readonly reassembler = new Reassembler();
  private senders: NumberFilter;
  private smscs: NumberFilter;
  private readonly reports: DeliveryReports;
  private readonly statusFile: StatusPublisher;
  private readonly faults: FaultLog;
  private notifications: NotificationSetting | undefined;
  private ignoredReported = new Set<string>();
  private readonly status: DaemonStatus;
  private done: Promise<void> | undefined;
  /** Set after a SIM problem only a person can fix; cleared by SIGHUP, SIGUSR2 or a restart. */
  private needsOperator = false;
  /** The back-off's sleep: only the operator (stop, suspend, resume, reload) ends it. */
  private readonly operator = new Sleeper();
  /** Failing local storage steps (never a modem fault): back-off, log, status, metrics. */
  readonly storage: StorageHealth;
  /**
   * A message whose local bookkeeping failed after the modem took it (or after it failed for
   * good): its claim is kept and only the missing steps are retried; nothing else is sent
   * meanwhile, so at most one message waits in memory.
   */
  private held: HeldJob | undefined;

  constructor(private readonly o: DaemonOptions) {
    const c = o.config;
    [this.senders, this.smscs] = this.filters(c);
    this.reports = new DeliveryReports(
      o.paths.reportsDir,
      o.name,
      c.smsd.phoneId,
      c.smsd.deliveryReportDelay * 1000,
    );
    this.statusFile = new StatusPublisher(o.paths.statusDir, o.name);
    this.faults = new FaultLog(o.log);
    this.storage = new StorageHealth(o.log);
    this.routed = new RoutedMessages(o.log);
    this.status = {
      pid: process.pid,
      phoneId: c.smsd.phoneId,
      device: c.gammu.device,
      state: 'starting',
      client: CLIENT,
      signalPercent: -1,
      batteryPercent: -1,
      sent: 0,
      received: 0,
      failed: 0,
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
  }

  /** Queued → sent (all parts), and SMSC → handset for delivered reports (metrics). */
  readonly latency = { queue: new LatencyHistogram(), delivery: new LatencyHistogram() };

  get counters(): Readonly<DaemonStatus> {
    return this.status;
  }

  private get s() {
    return this.o.config.smsd;
  }

  /** Memories receive() lists (SM first), and the one AT+CPMS selected for reading last. */
  private readMemories: string[] = ['SM'];
  private selectedMemory = 'SM';

  /** Messages the modem routed to us with +CMT, waiting for the next receive pass (bounded). */
  private readonly routed: RoutedMessages;

  private setState(state: DaemonState, lastError?: string): void {
    this.status.state = state;
    if (lastError !== undefined) this.status.lastError = lastError;
    this.publishStatus();
  }

  private publishStatus(): void {
    this.status.storage = this.storage.status();
    this.statusFile.publish(this.status);
  }

  /** A local step failed: held, retried later with back-off; loud, but never a modem reset. */
  private storageFailed(area: StorageArea, err: unknown): void {
    this.storage.fail(area, describe(err));
    this.publishStatus();
  }

  private storageWorks(area: StorageArea): void {
    if (this.storage.ok(area)) this.publishStatus();
  }

  /** Gammu's include/exclude lists for senders and SMSCs (config sections merged with the files). */
  private filters(c: SmsdConfig): [NumberFilter, NumberFilter] {
    const senders = NumberFilter.fromConfig(
      c.includeNumbers,
      c.smsd.includeNumbersFile?.path,
      c.excludeNumbers,
      c.smsd.excludeNumbersFile?.path,
    );
    const smscs = NumberFilter.fromConfig(
      c.includeSmsc,
      c.smsd.includeSmscFile?.path,
      c.excludeSmsc,
      c.smsd.excludeSmscFile?.path,
    );
    if (senders.ignoresExclude)
      this.o.log('warn', 'Exclude numbers available, but IGNORED (include numbers are set)');
    return [senders, smscs];
  }

  /** Wakes the loop (new outbox file, URC, signal). */
  poke(what: 'send' | 'receive' | 'any' = 'any'): void {
    if (what === 'send') this.sendPending = true;
    if (what === 'receive') this.receivePending = true;
    this.sleeper.wake();
  }

  private waitForWake(ms: number): Promise<void> {
    return this.sleeper.sleep(ms, this.stopping);
  }

  async start(): Promise<void> {
    await this.o.service.init();
    this.o.log(
      'info',
      `CommTimeout=${this.s.commTimeout}, SendTimeout=${this.s.sendTimeout}, ReceiveFrequency=${this.s.receiveFrequency}, ResetFrequency=${this.s.resetFrequency}, HardResetFrequency=${this.s.hardResetFrequency}`,
    );
    this.o.log(
      'info',
      `checks: CheckSecurity=${+this.s.checkSecurity}, CheckBattery=${+this.s.checkBattery}, CheckSignal=${+this.s.checkSignal}, CheckNetwork=${+this.s.checkNetwork}`,
    );
    this.o.log('info', `mode: Send=${+this.s.send}, Receive=${+this.s.receive}`);
    this.o.log('info', `deliveryreport = ${this.s.deliveryReport}`);
    this.o.log('info', `phoneid = ${this.s.phoneId}`);
    this.o.service.onOutboxChange?.(() => this.poke('send'));
    this.done = this.loop();
    return this.done;
  }

  /** INT/TERM: the send in progress finishes, then the loop ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    this.operator.wake();
    await this.done;
  }

  suspend(): void {
    this.suspended = true;
    this.operatorAction();
    this.poke();
  }

  resume(): void {
    this.suspended = false;
    this.operatorAction();
    this.poke('receive');
  }

  /** SIGHUP: re-read the config and reconnect with it (Gammu restarts its main loop). */
  reload(configPath: string | undefined): void {
    void (async () => {
      try {
        const { loadSmsdConfig } = await import('../config/smsd-config.js');
        const next = loadSmsdConfig(configPath).config;
        next.gammu.device = this.o.config.gammu.device; // an embedded emulator keeps its device
        Object.assign(this.o.config.smsd, next.smsd);
        for (const k of ['includeNumbers', 'excludeNumbers', 'includeSmsc', 'excludeSmsc'] as const)
          this.o.config[k] = next[k];
        [this.senders, this.smscs] = this.filters(this.o.config);
        this.o.log('info', 'configuration reloaded');
        this.operatorAction();
        await this.disconnect('resetting');
        this.poke('receive');
      } catch (err) {
        this.o.log('error', `reload failed, keeping the old configuration: ${describe(err)}`);
      }
    })();
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopping) {
        if (this.suspended) {
          await this.disconnect('suspended');
          this.setState('suspended');
          await this.waitForWake(3_600_000);
          continue;
        }
        if (!this.phone) {
          if (this.needsOperator) {
            // Wrong PIN, PUK, no SIM: trying again would burn the SIM's last attempts.
            await this.waitForOperator(3_600_000);
            continue;
          }
          const ok = await this.connect();
          const limit = this.o.maxInitFailures ?? 0;
          if (!ok && limit > 0 && this.connectFailures > limit)
            throw new Error(
              `${this.connectFailures} attempts to start talking to the modem failed (--max-failures ${limit})`,
            );
          if (!ok) {
            await this.waitForOperator(this.backoffMs());
            continue;
          }
        }
        try {
          await this.cycle();
          this.consecutiveErrors = 0;
        } catch (err) {
          await this.onModemError(err);
        }
      }
    } finally {
      if (this.held)
        this.o.log(
          'warn',
          `stopping with ${this.held.job.id} held: its local bookkeeping is not done (${this.storage.status().error ?? '?'}); it stays in the outbox${this.held.unrecorded.size > 0 ? ' and parts whose sending was not recorded will be sent again' : ''}`,
        );
      await this.disconnect('stopped');
      await this.o.service.free();
      this.setState('stopped');
    }
  }

  /**
   * A wait that only the operator ends early (stop, suspend, resume, reload): outbox and modem events
   * must not turn a back-off into a reconnect storm.
   */
  private waitForOperator(ms: number): Promise<void> {
    return this.operator.sleep(ms, this.stopping);
  }

  private operatorAction(): void {
    this.needsOperator = false;
    this.operator.wake();
  }

  private backoffMs(): number {
    return Math.min(30_000, 500 * 2 ** Math.min(this.connectFailures, 6));
  }

  private async connect(): Promise<boolean> {
    this.setState('connecting');
    this.o.log('info', 'Starting phone communication...');
    let phone: Phone | undefined;
    try {
      phone = await this.o.openPhone();
      phone.channel.on('urc', (u: Urc) => this.onUrc(u));
      phone.channel.on('close', () => this.poke());
      await phone.init();
      if (this.s.checkSecurity) await phone.unlock(this.s.pin);
      const id = await phone.identify();
      Object.assign(this.status, {
        manufacturer: id.manufacturer,
        model: id.model,
        imei: id.imei,
        imsi: id.imsi,
      });
      this.notifications = await phone.setNotifications().catch(() => undefined);
      this.routed.connected();
      await phone.enableFastSms(true).catch(() => false);
      await phone.selectMemory('SM', 'SM').catch(() => undefined);
      // Gammu reads every folder: a modem may store what it receives in the phone memory (its
      // CPMS receive memory, or SM when full), where an SM-only reader would never look.
      const caps = await phone.memories().catch(() => undefined);
      const readable = caps?.read.filter((m) => m === 'SM' || m === 'ME') ?? [];
      this.readMemories = readable.length > 0 ? readable.sort().reverse() : ['SM'];
      this.selectedMemory = 'SM';
      // The receiving number of what arrives: OwnNumber, else the SIM's own (AT+CNUM), else none.
      const ownNumber = this.s.ownNumber || (await phone.ownNumber().catch(unsupported));
      if (!this.s.ownNumber)
        this.o.log(
          'info',
          ownNumber
            ? `own number from the SIM (AT+CNUM): ${ownNumber}`
            : 'the SIM does not tell its number (AT+CNUM) and OwnNumber is not set: the receiving number stays empty',
        );
      this.status.ownNumber = ownNumber || undefined;
      await this.o.service.initAfterConnect({
        phoneId: this.s.phoneId,
        ...(ownNumber ? { ownNumber } : {}),
        imei: id.imei ?? '',
        imsi: id.imsi ?? '',
      });
      this.phone = phone;
      this.connectFailures = 0;
      this.consecutiveErrors = 0;
      this.receivePending = true;
      this.sendPending = true;
      this.faults.clear('phone communication established');
      this.o.log('info', `connected to ${id.manufacturer ?? '?'} ${id.model ?? '?'} IMEI ${id.imei ?? '?'}`);
      this.setState('connected');
      await this.refreshStatus().catch(() => undefined);
      return true;
    } catch (err) {
      await phone?.close().catch(() => undefined);
      this.connectFailures++;
      const msg = describe(err);
      this.faults.fault(`phone communication failed: ${msg}`);
      this.setState('error', msg);
      if (err instanceof SecurityError || err instanceof AtUnsupportedError) {
        this.needsOperator = true;
        this.o.log(
          'error',
          'not retrying until the configuration is fixed and smsd gets SIGHUP (or SIGUSR2, or a restart)',
        );
      }
      if (this.s.runOnFailure)
        void this.hook(this.s.runOnFailure, ['INIT'], hookEnvironment(this.s.phoneId, [], []));
      return false;
    }
  }

  private async disconnect(state: DaemonState): Promise<void> {
    const phone = this.phone;
    this.phone = undefined;
    if (phone) {
      await phone.enableFastSms(false).catch(() => undefined);
      await phone.close().catch(() => undefined);
      this.o.log('info', `phone communication closed (${state})`);
    }
  }

  private async onModemError(err: unknown): Promise<void> {
    const msg = describe(err);
    this.consecutiveErrors++;
    if (err instanceof DeviceGoneError || this.consecutiveErrors > 2 || err instanceof AtTimeoutError) {
      this.faults.fault(`modem problem, reconnecting: ${msg}`);
      this.setState('resetting', msg);
      const gone = err instanceof DeviceGoneError;
      if (!gone && this.phone) await this.phone.reboot().catch(() => undefined);
      await this.disconnect('resetting');
      this.connectFailures = gone ? Math.max(this.connectFailures, 1) : this.connectFailures;
      await this.waitForWake(gone ? 1000 : 200);
    } else {
      this.o.log('warn', `modem error: ${msg}`);
    }
  }

  private onUrc(u: Urc): void {
    switch (u.type) {
      case 'cmti':
      case 'cdsi':
        this.poke('receive');
        break;
      case 'cds': {
        const r = tryDecodePdu(u.pdu);
        if (r.ok && r.value.type === 'status-report') this.routedReports.push(r.value);
        else this.keepBadPdu(u.pdu, r.ok ? `unexpected ${r.value.type} in +CDS` : r.error.message);
        this.poke();
        break;
      }
      case 'cmt': {
        // Routed message (mt=2: a modem without storage notifications, or atgen_setCNMI): never on
        // the SIM, so it is kept here until the next receive pass saves it with the stored ones.
        const r = tryDecodePdu(u.pdu, { allowTrailing: true });
        if (r.ok && r.value.type === 'deliver') this.routed.add(r.value);
        else if (r.ok && r.value.type === 'status-report') this.routedReports.push(r.value);
        else this.keepBadPdu(u.pdu, r.ok ? `unexpected ${r.value.type} in +CMT` : r.error.message);
        this.poke('receive');
        break;
      }
      case 'clip':
        if (this.s.runOnIncomingCall)
          void this.hook(this.s.runOnIncomingCall, [u.number], hookEnvironment(this.s.phoneId, [], []));
        break;
      default:
        break;
    }
  }

  /** One pass of Gammu's main loop, minus the sleeping. */
  private async cycle(): Promise<void> {
    const now = Date.now();
    const inboxDue = this.storage.due('inbox');
    if (this.phone) {
      await this.routed.adjust(this.phone, this.notifications, this.storage.failing('inbox'));
      const held = this.routed.count || undefined;
      if (this.status.routedHeld !== held) {
        this.status.routedHeld = held;
        this.publishStatus();
      }
    }
    while (inboxDue && this.routedReports.length > 0) {
      const report = this.routedReports[0] as StatusReportPdu;
      try {
        await this.onStatusReport(report);
      } catch (err) {
        this.storageFailed('inbox', err); // kept in memory, tried again after the back-off
        break;
      }
      this.routedReports.shift();
    }
    if (
      this.s.receive &&
      inboxDue &&
      (this.receivePending ||
        this.storage.failing('inbox') ||
        now - this.lastReceive >= this.s.receiveFrequency * 1000)
    ) {
      this.receivePending = false;
      this.lastReceive = now;
      await this.receive();
    }
    const hardDue =
      this.s.hardResetFrequency > 0 && now - this.lastHardReset >= this.s.hardResetFrequency * 1000;
    if (hardDue || (this.s.resetFrequency > 0 && now - this.lastReset >= this.s.resetFrequency * 1000)) {
      // Gammu: a soft reset reinitialises the link, a hard one reboots the modem. Either way the
      // connection is set up again from scratch (identify, PIN, CNMI) by the main loop.
      this.lastReset = now;
      if (hardDue) {
        this.lastHardReset = now;
        this.o.log('info', 'periodic hard reset of the phone (HardResetFrequency): AT+CFUN=1,1');
        await this.phone?.reboot().catch(() => undefined);
      } else this.o.log('info', 'periodic soft reset of the phone (ResetFrequency): reconnecting');
      await this.disconnect('resetting');
      return;
    }
    let sent = false;
    const storageRetry =
      (this.held !== undefined && this.storage.due('sent')) ||
      (this.storage.failing('outbox') && this.storage.due('outbox'));
    if (
      this.s.send &&
      (this.sendPending || storageRetry || now - this.lastSendScan >= this.s.commTimeout * 1000)
    ) {
      sent = await this.sendOne();
      if (!sent) {
        this.sendPending = false;
        this.lastSendScan = Date.now();
      }
    }
    if (this.s.statusFrequency > 0 && now - this.lastStatus >= this.s.statusFrequency * 1000)
      await this.refreshStatus();
    if (sent) return; // more may be queued: go on at once
    const next = Math.min(
      this.s.receive
        ? this.storage.failing('inbox')
          ? this.storage.nextAt('inbox')
          : this.lastReceive + this.s.receiveFrequency * 1000
        : Infinity,
      this.storage.nextAt('sent'),
      this.storage.nextAt('outbox'),
      this.s.send ? this.lastSendScan + this.s.commTimeout * 1000 : Infinity,
      this.s.statusFrequency > 0 ? this.lastStatus + this.s.statusFrequency * 1000 : Infinity,
      this.s.resetFrequency > 0 ? this.lastReset + this.s.resetFrequency * 1000 : Infinity,
      this.s.hardResetFrequency > 0 ? this.lastHardReset + this.s.hardResetFrequency * 1000 : Infinity,
    );
    await this.waitForWake(Math.max(this.s.loopSleep * 1000, Math.min(next - Date.now(), 3_600_000)));
  }

  private async refreshStatus(): Promise<void> {
    const phone = this.phone;
    if (!phone) return;
    this.lastStatus = Date.now();
    if (this.s.checkBattery) {
      const b = await phone.battery().catch(unsupported);
      if (b) this.status.batteryPercent = b.percent;
    }
    if (this.s.checkSignal) {
      const q = await phone.signal();
      this.status.signalPercent = q.percent;
      this.status.signalDbm = q.dbm;
    }
    if (this.s.checkNetwork) {
      const n = await phone.network();
      this.status.operatorName = n.operatorName;
      this.status.operatorCode = n.operatorCode;
      if (n.stateName === 'not-registered') await phone.setPower(true).catch(unsupported);
    }
    await this.o.service.refreshPhoneStatus({
      batteryPercent: this.status.batteryPercent,
      signalPercent: this.status.signalPercent,
      networkCode: this.status.operatorCode,
      networkName: this.status.operatorName,
    });
    this.setState('connected');
  }

  // ------------------------------------------------------------------ receiving

  private keepBadPdu(pdu: string, reason: string, where = ''): void {
    const name = `BADPDU${new Date().toISOString().replace(/[-:.]/g, '')}_${Math.random().toString(36).slice(2, 8)}.txt`;
    fs.mkdirSync(this.o.paths.badPduDir, { recursive: true });
    replaceFileDurable(
      path.join(this.o.paths.badPduDir, name),
      Buffer.from(`; ${reason}${where ? ` (${where})` : ''}\n${pdu}\n`),
    );
    this.o.log(
      'warn',
      `undecodable PDU from the modem${where ? ` at ${where}` : ''} kept as ${name}: ${reason}`,
    );
  }

  private async receive(): Promise<void> {
    const phone = this.phone;
    if (!phone) return;
    const parts: StoredPart[] = [];
    for (const memory of this.readMemories) {
      await this.useMemory(phone, memory);
      for (const m of await phone.listMessages()) {
        const part = await this.takeStored(phone, memory, m);
        if (part) parts.push(part);
      }
    }
    await this.assembleAndSave(phone, parts);
  }

  /** AT+CPMS=<memory> before listing or deleting there (only when it changes). */
  private async useMemory(phone: Phone, memory: string): Promise<void> {
    if (this.selectedMemory === memory) return;
    await phone.selectMemory(memory);
    this.selectedMemory = memory;
  }

  /** A stored message: a part to assemble, or dealt with here (bad PDU, status report, excluded). */
  private async takeStored(
    phone: Phone,
    memory: string,
    m: { index: number; stat: number; pdu: string },
  ): Promise<StoredPart | undefined> {
    if (m.stat === 2 || m.stat === 3) return undefined; // stored outgoing messages are not ours to take
    const decoded = tryDecodePdu(m.pdu, { allowTrailing: true });
    if (!this.storage.due('inbox')) return undefined; // a store failed in this pass: left on the SIM
    if (!decoded.ok) {
      try {
        this.keepBadPdu(m.pdu, decoded.error.message, `${memory} ${m.index}`);
      } catch (err) {
        this.storageFailed('inbox', err);
        return undefined; // left on the SIM
      }
      await phone.deleteMessage(m.index);
      return undefined;
    }
    const pdu: DecodedPdu = decoded.value;
    if (pdu.type === 'status-report') {
      try {
        await this.onStatusReport(pdu);
      } catch (err) {
        this.storageFailed('inbox', err);
        return undefined; // left on the SIM, read again after the back-off
      }
      this.storageWorks('inbox');
      await this.useMemory(phone, memory); // saving it may not touch the modem, but be sure
      await phone.deleteMessage(m.index);
      return undefined;
    }
    if (pdu.type !== 'deliver') return undefined;
    const smsc = pdu.smsc?.number ?? '';
    const sender = pdu.originator.number;
    if (!this.smscs.accepts(smsc) || !this.senders.accepts(sender)) {
      const why = !this.smscs.accepts(smsc) ? `SMSC: ${smsc}` : `sender: ${sender}`;
      const key = `${memory}|${m.index}|${m.pdu}`;
      if (!this.ignoredReported.has(key)) this.o.log('info', `Message excluded because of ${why}`);
      this.ignoredReported.add(key);
      return undefined; // left on the SIM, as Gammu does
    }
    return { memory, index: m.index, pdu };
  }

  private async assembleAndSave(phone: Phone, parts: StoredPart[]): Promise<void> {
    for (const r of [...this.routed.parts]) {
      const smsc = r.pdu.smsc?.number ?? '';
      if (this.smscs.accepts(smsc) && this.senders.accepts(r.pdu.originator.number)) parts.push(r);
      else {
        // Nowhere to leave it (it is not on the SIM): dropped, as Gammu drops what it excludes.
        this.o.log('info', `Routed message from ${r.pdu.originator.number} excluded (SMSC ${smsc}); dropped`);
        this.routed.remove(r);
      }
    }
    const groups = this.reassembler.group(parts);
    this.reassembler.retain(new Set(groups.map((g) => g.key)));
    for (const g of groups) {
      if (!g.complete) {
        if (!this.reassembler.incompleteDue(g.key, Date.now(), this.s.multipartTimeout * 1000)) {
          this.o.log('debug', `Incomplete multipart message ${g.key}, waiting for other parts`);
          continue;
        }
        this.o.log(
          'warn',
          `Incomplete multipart message ${g.key} (${g.ordered.length} of ${g.total} parts), processing after timeout`,
        );
      }
      const text = g.ordered.map((p) => p.text ?? '').join('');
      if (!this.storage.due('inbox')) return; // the inbox failed in this pass: the rest stays on the SIM
      let ids: string[];
      try {
        ids = await this.o.service.saveInbox({ parts: g.ordered, complete: g.complete, text });
      } catch (err) {
        // Not a modem fault: the parts stay on the SIM (routed ones in memory) until it works again.
        this.storageFailed('inbox', err);
        return;
      }
      this.storageWorks('inbox');
      this.reassembler.forget(g.key);
      // Only after the inbox copy is durable: from the SIM, or from the routed ones kept in memory.
      for (const p of g.parts)
        if (p.memory === 'routed') this.routed.remove(p);
        else {
          await this.useMemory(phone, p.memory);
          await phone.deleteMessage(p.index);
        }
      this.status.received += g.ordered.length;
      this.o.log('info', `Received ${ids.join(' ')} from ${g.ordered[0]?.originator.number ?? '?'}`);
      this.setState('connected');
      if (this.s.runOnReceive) {
        const hp = receivedHookParts(g.ordered);
        void this.hook(this.s.runOnReceive, ids, hookEnvironment(this.s.phoneId, hp, [text]));
      }
    }
  }

  private async onStatusReport(pdu: StatusReportPdu): Promise<void> {
    // The network's delivery time: the SMSC's own stamps (TP-SCTS to TP-DT), whatever the backend.
    if (pdu.statusInfo.category === 'delivered')
      this.latency.delivery.observe((pdu.discharge.date.getTime() - pdu.scts.date.getTime()) / 1000);
    if (this.o.service.saveDeliveryReport) {
      // SQL: the report updates its sentitems row (Gammu never stores it in the inbox there).
      const r = await this.o.service.saveDeliveryReport(pdu);
      const what = `${pdu.statusInfo.description} to ${pdu.recipient.number}, message reference 0x${pdu.mr.toString(16).padStart(2, '0').toUpperCase()}`;
      if (r.matched) this.o.log('info', `Delivery report: ${what} -> ${r.id} part ${r.part} (${r.status})`);
      else this.o.log('warn', `Delivery report: ${what}: ${r.reason}`);
      return;
    }
    const matched = this.reports.handle(pdu);
    if (this.s.deliveryReport === 'sms') {
      // Gammu's DeliveryReport = sms: the report also lands in the inbox, its text the status word.
      const ids = await this.o.service.saveInbox({ parts: [reportAsMessage(pdu)], complete: true, text: '' });
      this.o.log('info', `Delivery report ${ids.join(' ')}`);
    }
    const what = `${pdu.statusInfo.description} to ${pdu.recipient.number}, message reference 0x${pdu.mr.toString(16).padStart(2, '0').toUpperCase()}`;
    if (matched) this.o.log('info', `Delivery report: ${what} -> ${matched.id} part ${matched.part}`);
    else
      this.o.log(
        'warn',
        `Delivery report: ${what} matches no sent message (kept in ${path.join(this.reports.dir, 'unmatched')})`,
      );
  }

  // ------------------------------------------------------------------ sending

  /**
   * Sends the next message, or goes on with the held one. Returns true when it did something and
   * more may be ready at once; false when there is nothing to do now.
   */
  private async sendOne(): Promise<boolean> {
    const phone = this.phone;
    if (!phone) return false;
    if (this.held) {
      if (!this.storage.due('sent')) return false;
      return this.process(this.held, phone);
    }
    if (!this.storage.due('outbox')) return false;
    let job: OutboxJob | undefined;
    try {
      job = await this.o.service.findOutbox();
    } catch (err) {
      this.storageFailed('outbox', err);
      return false;
    }
    this.storageWorks('outbox');
    if (!job) return false;
    this.o.log('info', `New message to send: ${job.id}`);
    return this.process({ job, unrecorded: new Map(), unindexed: new Map(), outcome: 'sent' }, phone);
  }

  /**
   * The steps of one message: each part to the modem, then its record (service) and its entry in
   * the report index, then the move to sent/ (or error/). A modem step that fails is a send failure;
   * a local step that fails holds the message with its claim, and only the missing steps run again.
   */
  private async process(h: HeldJob, phone: Phone): Promise<boolean> {
    const { job } = h;
    const msg = job.message;
    if (h.outcome === 'sent' && msg.ussd) {
      if (!job.sentParts.has(0)) return this.sendUssd(h, phone);
    } else if (h.outcome === 'sent') {
      const wantReport = this.s.deliveryReport !== 'no';
      for (const [i, part] of msg.parts.entries()) {
        if (!job.sentParts.has(i)) {
          const smsc = part.smsc ?? this.s.smsc;
          // An explicit yes/no of the message (SQL DeliveryReport column) wins; otherwise the config's.
          const pdu = encodeSubmit({ ...part, smsc, statusReport: part.statusReport ?? wantReport });
          let mr: number;
          try {
            ({ mr } = await phone.sendMessage(pdu.hex, pdu.tpduLength));
          } catch (err) {
            return this.onSendFailure(h, err);
          }
          // The network has it: from here on, nothing may send this part again.
          job.sentParts.set(i, mr);
          h.unrecorded.set(i, mr);
          h.unindexed.set(i, mr);
          this.o.log(
            'info',
            `Transmitted ${job.id} (part ${i + 1}/${msg.parts.length}) to ${part.number}, message reference 0x${mr.toString(16).padStart(2, '0').toUpperCase()}`,
          );
        }
        if (!(await this.recordPart(h, i))) return false;
      }
    }
    return this.finish(h);
  }

  /** The move to sent/ (or error/) that ends a message, and what follows it. */
  private async finish(h: HeldJob): Promise<boolean> {
    const { job } = h;
    try {
      await this.o.service.moveSms(job, h.outcome, h.reason);
    } catch (err) {
      return this.hold(h, err);
    }
    this.held = undefined;
    this.storageWorks('sent');
    if (h.outcome === 'error') {
      this.o.log('error', `Moved to errorbox, reached MaxRetries: ${job.id}`);
      return true;
    }
    this.status.sent++;
    if (job.queuedAt) this.latency.queue.observe((Date.now() - job.queuedAt.getTime()) / 1000);
    this.setState('connected');
    if (this.s.runOnSent) void this.hook(this.s.runOnSent, [job.id], hookEnvironment(this.s.phoneId, [], []));
    return true;
  }

  /** The local records of a part the modem took: the service's (resume point) and the report index. */
  private async recordPart(h: HeldJob, i: number): Promise<boolean> {
    const { job } = h;
    const mr = h.unrecorded.get(i);
    if (mr !== undefined) {
      try {
        await this.o.service.addSentInfo(job, i, mr);
      } catch (err) {
        return this.hold(h, err);
      }
      h.unrecorded.delete(i);
    }
    const imr = h.unindexed.get(i);
    const part = job.message.parts[i];
    if (imr !== undefined && part) {
      try {
        this.reports.recordSent({
          id: job.id,
          part: i + 1,
          parts: job.message.parts.length,
          number: part.number,
          mr: imr,
        });
      } catch (err) {
        return this.hold(h, err);
      }
      h.unindexed.delete(i);
    }
    return true;
  }

  private hold(h: HeldJob, err: unknown): false {
    if (this.held !== h)
      this.o.log('warn', `${h.job.id}: held with its claim until its local bookkeeping can be done`);
    this.held = h;
    this.storageFailed('sent', err);
    return false;
  }

  /**
   * A USSD code (Class 127 in the SMS backup): dialled with AT+CUSD; the network's answer is stored
   * as a received message from the code (as Gammu does), which runs RunOnReceive; then the outbox
   * file moves to sent/.
   */
  private async sendUssd(h: HeldJob, phone: Phone): Promise<boolean> {
    const { job } = h;
    const code = job.message.number;
    let reply: { status: number; text: string | undefined };
    try {
      reply = await phone.sendUssd(code, this.s.sendTimeout * 1000);
    } catch (err) {
      return this.onSendFailure(h, err);
    }
    job.sentParts.set(0, 0); // dialled: a held USSD is not dialled again
    const text = reply.text ?? '';
    this.o.log('info', `USSD ${code}: ${text}`);
    let ids: string[] = [];
    try {
      ids = await this.o.service.saveInbox({ parts: [ussdAsMessage(code, text)], complete: true, text });
      this.storageWorks('inbox');
    } catch (err) {
      // The answer is in the log line above; dialling again would not give the same answer.
      this.storageFailed('inbox', err);
    }
    if (!(await this.finish(h))) return false;
    if (this.s.runOnReceive && ids.length > 0) {
      const part: HookPart = { number: code, text, messageClass: 127, reference: 0, timestamp: new Date() };
      void this.hook(this.s.runOnReceive, ids, hookEnvironment(this.s.phoneId, [part], [text]));
    }
    return true;
  }

  /** The modem refused or failed a send (nothing left for that part): retry later, or error/. */
  private async onSendFailure(h: HeldJob, err: unknown): Promise<boolean> {
    const { job } = h;
    const reason = describe(err);
    this.status.failed++;
    this.o.log('error', `Error sending ${job.id}: ${reason}`);
    if (this.s.runOnFailure)
      void this.hook(this.s.runOnFailure, [job.id], hookEnvironment(this.s.phoneId, [], []));
    this.receivePending = true; // Gammu checks for incoming messages after a failed send
    let decision: 'retry' | 'give-up' = 'retry';
    try {
      decision = await this.o.service.updateRetries(
        job,
        reason,
        this.s.maxRetries,
        this.s.retryTimeout * 1000,
      );
    } catch (err2) {
      // The retry count could not be kept; the service released the message for a later retry.
      this.storageFailed('sent', err2);
    }
    if (decision === 'give-up') {
      h.outcome = 'error';
      h.reason = `${reason} (after ${job.attempts} attempts)`;
      await this.finish(h);
    }
    // The modem itself misbehaving (no answer, device gone) is a fault of the link, not of the message.
    if (!(err instanceof AtCommandError)) throw err;
    return true;
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

/** A message in the middle of its steps (see SmsDaemon.process). */
interface HeldJob {
  job: OutboxJob;
  /** Parts the modem took whose record (service addSentInfo) is not stored yet: part → TP-MR. */
  unrecorded: Map<number, number>;
  /** Parts not yet in the delivery-report index. */
  unindexed: Map<number, number>;
  outcome: MoveOutcome;
  reason?: string;
}

/**
 * Something that is not an SMS-DELIVER (a USSD answer, a status report) in the shape of a received
 * GSM-7 text message, so the inbox stores it as Gammu does.
 */
function asReceivedMessage(originator: SmsAddress, text: string, scts: Scts, smsc?: SmsAddress): DeliverPdu {
  return {
    type: 'deliver',
    smsc,
    tpduLength: 0,
    firstOctet: 0,
    flags: {
      mms: false,
      loopPrevention: false,
      statusReportIndication: false,
      udhi: false,
      replyPath: false,
    },
    originator,
    pid: 0,
    dcs: { raw: 0, alphabet: 'gsm7', messageClass: -1, compressed: false },
    coding: 'gsm7',
    messageClass: -1,
    scts,
    udl: text.length,
    text,
  };
}

/** A USSD answer: a message from the code, stamped now (Class 127 in Gammu). */
function ussdAsMessage(code: string, text: string): DeliverPdu {
  const now = new Date();
  const { utc: _utc, ...local } = localBackupDate(now);
  const scts: Scts = { date: now, tzMinutes: -now.getTimezoneOffset(), local };
  return asReceivedMessage({ number: code, toa: 0x81, ton: 0, npi: 1 }, text, scts);
}

/** A status report as Gammu stores it with DeliveryReport = sms: the status word from the recipient. */
function reportAsMessage(r: StatusReportPdu): DeliverPdu {
  const word = { delivered: 'Delivered', failed: 'Failed', pending: 'Pending', unknown: 'Unknown' }[
    r.statusInfo.category
  ];
  return asReceivedMessage(r.recipient, word, r.discharge, r.smsc);
}

/**
 * For optional commands: an error answer (not supported, +CME ERROR) is no answer to use; no answer
 * at all (a hung or vanished modem) is a fault of the link and goes on up, so it is noticed now and
 * not only at the next command's resync.
 */
function unsupported(err: unknown): undefined {
  if (err instanceof AtCommandError) return undefined;
  throw err;
}

export function describe(err: unknown): string {
  // The modem's own words (e.g. `+CMS ERROR: 500`) are what an operator searches for.
  if (err instanceof AtCommandError) return `${err.resultLine} (${err.description}) on ${err.command}`;
  if (err instanceof SecurityError) {
    const what: Record<string, string> = {
      WRONG_PIN: 'wrong PIN in the config',
      PIN_REQUIRED: 'the SIM needs a PIN (set PIN in [smsd])',
      PUK_REQUIRED: 'the SIM is PUK-locked',
      NO_SIM: 'no SIM',
      OTHER_LOCK: 'the SIM or phone is locked',
    };
    return `${what[err.problem] ?? err.problem}: ${err.message}`;
  }
  if (err instanceof TransportOpenError || err instanceof AtTimeoutError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

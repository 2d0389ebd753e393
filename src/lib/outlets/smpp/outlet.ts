import { encodeGsm7 } from '../../sms/gsm7.js';
import { encodeUcs2 } from '../../sms/ucs2.js';
import { concatInfo, parseUdh } from '../../sms/udh.js';
import type {
  MessageIdFormat,
  Outlet,
  OutletHandlers,
  OutletPart,
  OutletStatus,
  ReceiptSettings,
  ReloadResult,
  SubmitOutcome,
} from '../types.js';
import type { SmsdConfig } from '../../config/smsd-config.js';
import {
  CMD,
  FrameError,
  decodeDataSm,
  decodeDeliverSm,
  decodeMessageId,
  encodeSubmit,
  statusName,
  type Pdu,
} from './codec.js';
import { applyUpstreamReload, readUpstreamConfig, type UpstreamConfig } from './config.js';
import { BindRefused, Link, LinkLost, type LinkKind } from './link.js';
import { isReceipt, parseMo, parseReceipt } from './receipt.js';

export type OutletLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

interface Waiting {
  part: OutletPart;
  body: Buffer;
  resolve(o: SubmitOutcome): void;
  /** Sent before on a link that dropped without answering: the next send may duplicate it. */
  unanswered: boolean;
}

/** Temporary answers (Kannel's list): the SMSC is busy, not the message wrong. */
const THROTTLE = new Set([0x58, 0x14]);
const TEMPORARY = new Set([0x08, 0x64]);
const MAX_THROTTLE_MS = 30_000;

/**
 * `Connection = smpp|smpps`: an ESME bound to an upstream SMSC (transceiver, transmitter,
 * receiver, or a transmitter + receiver pair). Up to Window submit_sm in flight; throttling answers
 * pause the link with a growing delay and requeue the part (not a failure); parts unanswered when a
 * link drops are sent again on the next bind (counted); each link reconnects with back-off.
 */
export class SmppOutlet implements Outlet {
  readonly messageIdFormat: MessageIdFormat;
  private handlers: OutletHandlers | undefined;
  private tx: Link | undefined;
  private rx: Link | undefined;
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private throttledUntil = 0;
  private throttleMs: number;
  private nextSendAt = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly sleeps = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private firstBound: { resolve(): void; reject(e: Error): void } | undefined;
  private readonly st: OutletStatus;
  /** Sends per second, measured over the last few seconds (status file, monitor). */
  private rateWindow: number[] = [];

  constructor(
    private readonly cfg: UpstreamConfig,
    private readonly log: OutletLog,
  ) {
    this.messageIdFormat = cfg.messageIdFormat;
    this.throttleMs = cfg.throttleDelayMs;
    this.st = {
      connection: cfg.tls ? 'smpps' : 'smpp',
      state: 'connecting',
      inFlight: 0,
      window: cfg.bindMode === 'receiver' ? 0 : cfg.window,
      submitted: 0,
      accepted: 0,
      temporaryErrors: 0,
      permanentErrors: 0,
      resentUnanswered: 0,
      moReceived: 0,
      reportsReceived: 0,
    };
  }

  get receipts(): ReceiptSettings {
    return { timeoutMs: this.cfg.receiptTimeoutMs, limit: this.cfg.receiptLimit };
  }

  /**
   * SIGHUP: the settings read per submit or per timer tick change in place (the links share this
   * config object); those of the bind itself are named for a restart and left as they are.
   */
  reload(config: SmsdConfig): ReloadResult {
    const { upstream: next, warnings } = readUpstreamConfig(config);
    for (const w of warnings) this.log('warn', w.message);
    const result = applyUpstreamReload(this.cfg, next);
    if (this.cfg.bindMode !== 'receiver') this.st.window = this.cfg.window;
    this.nextSendAt = 0;
    this.pump();
    return result;
  }

  private get where(): string {
    return `${this.cfg.host}:${this.cfg.port}`;
  }

  start(handlers: OutletHandlers): Promise<void> {
    this.handlers = handlers;
    const first = new Promise<void>((resolve, reject) => (this.firstBound = { resolve, reject }));
    const roles: [LinkKind, 'tx' | 'rx' | 'both'][] =
      this.cfg.bindMode === 'transceiver'
        ? [['transceiver', 'both']]
        : this.cfg.bindMode === 'transmitter'
          ? [['transmitter', 'tx']]
          : this.cfg.bindMode === 'receiver'
            ? [['receiver', 'rx']]
            : [
                ['transmitter', 'tx'],
                ['receiver', 'rx'],
              ];
    this.loops = roles.map(([kind, role]) => this.maintain(kind, role));
    return first;
  }

  private allBound(): boolean {
    const needTx = this.cfg.bindMode !== 'receiver';
    const needRx = this.cfg.bindMode !== 'transmitter';
    return (!needTx || !!this.tx?.bound) && (!needRx || !!this.rx?.bound);
  }

  private setState(state: OutletStatus['state'], lastError?: string): void {
    this.st.state = state;
    if (lastError !== undefined) this.st.lastError = lastError;
    this.handlers?.state?.(this.status());
  }

  /** Keeps one bind up until close: connect, bind, wait for the link to drop, back off, again. */
  private async maintain(kind: LinkKind, role: 'tx' | 'rx' | 'both'): Promise<void> {
    let failures = 0;
    let lastProblem = '';
    while (!this.closing) {
      let onDown: (reason: string) => void = () => undefined;
      const down = new Promise<string>((resolve) => (onDown = resolve));
      const link = new Link(kind, this.cfg, {
        incoming: (p) => this.incoming(p),
        down: (reason, wasBound) => {
          if (role !== 'rx' && this.tx === link) this.tx = undefined;
          if (role !== 'tx' && this.rx === link) this.rx = undefined;
          if (wasBound) onDown(reason);
        },
      });
      try {
        await link.open();
      } catch (err) {
        failures++;
        const problem =
          err instanceof BindRefused
            ? `${err.message}${err.status === 0x0e || err.status === 0x0f ? ` (check SystemId and Password in [upstream]; system_id "${this.cfg.systemId}")` : ''}`
            : `cannot connect to the SMSC at ${this.where}: ${(err as Error).message}`;
        const delay = this.backoff(failures, err instanceof BindRefused);
        // One clear line per distinct problem, not one per attempt: a wrong password must not flood the log.
        if (problem !== lastProblem)
          this.log(
            'error',
            `${kind} bind: ${problem}; retrying with back-off (next in ${Math.round(delay / 100) / 10} s)`,
          );
        else this.log('debug', `${kind} bind: ${problem} (attempt ${failures})`);
        lastProblem = problem;
        if (!this.tx && !this.rx) this.setState('down', problem);
        await this.sleep(delay);
        continue;
      }
      if (this.closing) {
        await link.unbind(1000);
        break;
      }
      if (role !== 'rx') this.tx = link;
      if (role !== 'tx') this.rx = link;
      if (failures > 0 || lastProblem) this.log('info', `${kind} bind to ${this.where} restored`);
      else this.log('info', `bound to ${this.where} as ${kind} (system_id ${this.cfg.systemId})`);
      failures = 0;
      lastProblem = '';
      if (this.allBound()) {
        this.setState('bound');
        this.firstBound?.resolve();
        this.firstBound = undefined;
      }
      this.pump();
      const reason = await down;
      if (this.closing) break;
      this.log('warn', `${kind} link to ${this.where} lost: ${reason}; reconnecting`);
      this.setState(this.tx || this.rx ? 'bound' : 'connecting', reason);
      await this.sleep(this.cfg.reconnectDelayMs);
    }
  }

  private backoff(failures: number, refused: boolean): number {
    // A refused bind (wrong password) starts slower: the SMSC may lock the account after a burst.
    const base = refused ? Math.max(this.cfg.reconnectDelayMs, 2000) : this.cfg.reconnectDelayMs;
    const ms = Math.min(this.cfg.reconnectMaxMs, base * 2 ** Math.min(failures - 1, 16));
    return ms * (0.9 + Math.random() * 0.2);
  }

  private sleep(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleeps.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleeps.add(done);
    });
  }

  // ---------------------------------------------------------------- sending

  submit(part: OutletPart): Promise<SubmitOutcome> {
    if (this.st.window === 0)
      return Promise.resolve({ kind: 'permanent', reason: 'BindMode = receiver has no transmitter bind' });
    if (this.closing) return Promise.resolve({ kind: 'temporary', reason: 'outlet closing' });
    let body: Buffer;
    try {
      body = this.encode(part);
    } catch (err) {
      return Promise.resolve({ kind: 'permanent', reason: `cannot encode: ${(err as Error).message}` });
    }
    return new Promise<SubmitOutcome>((resolve) => {
      this.queue.push({ part, body, resolve, unanswered: false });
      this.pump();
    });
  }

  private encode(p: OutletPart): Buffer {
    const c = this.cfg;
    let ud: Buffer;
    let dc: number;
    if (p.coding === 'gsm') {
      ud = Buffer.from(encodeGsm7(p.text ?? ''));
      dc = 0x00;
    } else if (p.coding === 'ucs2') {
      ud = encodeUcs2(p.text ?? '');
      dc = 0x08;
    } else {
      ud = Buffer.from(p.data ?? new Uint8Array());
      dc = 0x04;
    }
    if (p.flash) dc |= 0x10; // class 0
    let udh = p.udh && p.udh.length > 0 ? Buffer.from(p.udh) : undefined;
    let sar: { ref: number; total: number; seq: number } | undefined;
    if (c.useSar && udh && p.partCount > 1) {
      const ies = parseUdh(udh);
      const concat = concatInfo(ies);
      if (concat && ies.length === 1) {
        sar = { ref: concat.ref, total: concat.total, seq: concat.seq };
        udh = undefined;
      }
    }
    const sm = udh ? Buffer.concat([udh, ud]) : ud;
    const payload = c.usePayload && sm.length > 0;
    const [srcTon, srcNpi, src] = this.source(p.sender ?? c.sourceAddress);
    const [dstTon, dstNpi, dst] = this.destination(p.destination);
    return encodeSubmit({
      serviceType: c.serviceType,
      srcTon,
      srcNpi,
      src,
      dstTon,
      dstNpi,
      dst,
      esmClass: udh ? 0x40 : 0,
      protocolId: 0,
      priority: Math.max(0, Math.min(3, p.priority ?? 0)),
      validity: relativeValidity(p.validityMinutes),
      registeredDelivery: p.report ? 1 : 0,
      dataCoding: dc,
      shortMessage: payload ? Buffer.alloc(0) : sm,
      ...(payload ? { payload: sm } : {}),
      ...(sar ? { sar } : {}),
    });
  }

  private source(s: string): [number, number, string] {
    if (s === '') return [0, 0, ''];
    if (/^\+\d+$/.test(s)) return [1, 1, s.slice(1)];
    if (/^\d+$/.test(s)) return [this.cfg.sourceTon ?? 0, this.cfg.sourceNpi ?? 1, s];
    return [5, 0, s]; // alphanumeric sender
  }

  private destination(d: string): [number, number, string] {
    if (/^\+\d+$/.test(d)) return [1, 1, d.slice(1)];
    if (/^00\d+$/.test(d)) return [1, 1, d.slice(2)];
    return [this.cfg.destTon ?? 0, this.cfg.destNpi ?? 1, d];
  }

  /** Sends what the window, the throttle and Throughput allow. */
  private pump(): void {
    if (this.pumpTimer) return;
    const link = this.tx;
    while (link?.bound && this.inFlight < this.cfg.window && this.queue.length > 0) {
      const now = Date.now();
      const wait = Math.max(this.throttledUntil, this.nextSendAt) - now;
      if (wait > 0) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, wait);
        return;
      }
      if (this.cfg.throughput > 0)
        this.nextSendAt = Math.max(now, this.nextSendAt) + 1000 / this.cfg.throughput;
      const w = this.queue.shift() as Waiting;
      this.send(link, w);
    }
  }

  private send(link: Link, w: Waiting): void {
    this.inFlight++;
    this.st.submitted++;
    if (w.unanswered) this.st.resentUnanswered++;
    this.countRate();
    link.request(CMD.submit_sm, w.body).then(
      (resp) => {
        this.inFlight--;
        this.answered(w, resp);
        this.pump();
      },
      (err: Error) => {
        this.inFlight--;
        // Sent, no answer, link gone: the SMSC may have it. Send again on the next bind (the
        // alternative is losing it); counted so an operator sees possible duplicates.
        if (this.closing) w.resolve({ kind: 'temporary', reason: err.message, unanswered: true });
        else {
          w.unanswered = err instanceof LinkLost;
          this.queue.unshift(w);
        }
        this.pump();
      },
    );
  }

  private answered(w: Waiting, resp: Pdu): void {
    if (resp.status === 0) {
      this.st.accepted++;
      this.throttleMs = this.cfg.throttleDelayMs;
      if (this.throttledUntil !== 0 && Date.now() >= this.throttledUntil) {
        this.throttledUntil = 0;
        delete this.st.throttledUntil;
      }
      w.resolve({ kind: 'accepted', messageId: decodeMessageId(resp.body) });
      return;
    }
    const name = statusName(resp.status);
    if (THROTTLE.has(resp.status) || TEMPORARY.has(resp.status)) {
      this.st.temporaryErrors++;
      if (Date.now() >= this.throttledUntil) {
        this.throttledUntil = Date.now() + this.throttleMs;
        this.st.throttledUntil = new Date(this.throttledUntil).toISOString();
        this.log('warn', `SMSC answered ${name}: pausing submits for ${this.throttleMs} ms`);
        this.throttleMs = Math.min(MAX_THROTTLE_MS, this.throttleMs * 2);
      }
      this.queue.unshift(w);
      return;
    }
    this.st.permanentErrors++;
    this.st.lastError = name;
    w.resolve({ kind: 'permanent', reason: name });
  }

  private countRate(): void {
    const sec = Math.floor(Date.now() / 1000);
    const last = this.rateWindow.length - 2;
    if (last >= 0 && this.rateWindow[last] === sec) this.rateWindow[last + 1]!++;
    else {
      this.rateWindow.push(sec, 1);
      if (this.rateWindow.length > 20) this.rateWindow = this.rateWindow.slice(-20);
    }
  }

  /** Submits per second over the last 5 whole seconds. */
  private rate(): number {
    const now = Math.floor(Date.now() / 1000);
    let n = 0;
    for (let i = 0; i < this.rateWindow.length; i += 2)
      if ((this.rateWindow[i] as number) >= now - 5 && (this.rateWindow[i] as number) < now)
        n += this.rateWindow[i + 1] as number;
    return n / 5;
  }

  // ---------------------------------------------------------------- receiving

  private async incoming(p: Pdu): Promise<number> {
    const h = this.handlers;
    if (!h) return 0x64;
    let sm;
    try {
      sm = p.command === CMD.data_sm ? decodeDataSm(p.body) : decodeDeliverSm(p.body);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.log(
        'warn',
        `malformed ${p.command === CMD.data_sm ? 'data_sm' : 'deliver_sm'} from the SMSC: ${err.message}`,
      );
      return 0x66; // ESME_RX_R_APPN: rejected for good, no redelivery loop
    }
    if (isReceipt(sm.esmClass)) {
      const r = parseReceipt(sm);
      if (!r) {
        this.log('warn', `receipt without a message id: ${sm.message.toString('latin1')}`);
        return 0;
      }
      await h.report(r);
      this.st.reportsReceived++;
      return 0;
    }
    await h.mo(parseMo(sm, `smpp:${this.where}`));
    this.st.moReceived++;
    return 0;
  }

  // ---------------------------------------------------------------- status and close

  status(): OutletStatus {
    return {
      ...this.st,
      inFlight: this.inFlight,
      ...(this.throttledUntil > Date.now()
        ? { throttledUntil: new Date(this.throttledUntil).toISOString() }
        : {}),
      submitRate: this.rate(),
      queued: this.queue.length,
    };
  }

  async close(drainMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    for (const w of this.queue.splice(0))
      w.resolve({
        kind: 'temporary',
        reason: 'outlet closing',
        ...(w.unanswered ? { unanswered: true } : {}),
      });
    for (const wake of [...this.sleeps]) wake();
    const until = Date.now() + drainMs;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    this.setState('closing');
    const links = new Set([this.tx, this.rx].filter((l): l is Link => l !== undefined));
    await Promise.all([...links].map((l) => l.unbind(Math.max(500, until - Date.now()))));
    await Promise.all(this.loops);
    this.firstBound?.reject(new Error('outlet closed before it was bound'));
    this.firstBound = undefined;
    this.setState('unbound');
  }
}

/** SMPP relative validity `YYMMDDhhmmss000R` for a number of minutes (undefined: SMSC default). */
export function relativeValidity(minutes: number | undefined): string {
  if (minutes === undefined || minutes <= 0) return '';
  const two = (n: number) => String(n).padStart(2, '0');
  let m = Math.round(minutes);
  const years = Math.floor(m / 525_600);
  m -= years * 525_600;
  const months = Math.floor(m / 43_200);
  m -= months * 43_200;
  const days = Math.floor(m / 1440);
  m -= days * 1440;
  const hours = Math.floor(m / 60);
  m -= hours * 60;
  return `${two(Math.min(years, 99))}${two(months)}${two(days)}${two(hours)}${two(m)}00000R`;
}

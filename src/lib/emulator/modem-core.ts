import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { formatError } from './errors.js';
import { type BuiltPdu, type IncomingInput, buildIncoming } from './incoming.js';
import { type SentRecord } from './records.js';
import { MEMORY_NAMES, type MemoryName, SmsMemory, type StoredMessage } from './storage.js';
import {
  type SimState,
  type ModemSettings,
  type ModemFaults,
  type FaultInput,
  type ModemEmulatorOptions,
  type Profile,
  type DeliverOutcome,
  type ModemStatus,
  type ModemEvents,
} from './modem-types.js';
import {
  DEFAULT_SETTINGS,
  PIN_ATTEMPTS,
  PUK_ATTEMPTS,
  MAX_PDU_HEX,
  MAX_LINE,
  CTRL_Z,
  ESC,
  prng,
  escapeBytes,
  type Reply,
  type Handler,
  respond,
  SETTING_CHECKS,
  FAULT_CHECKS,
  check,
  profileDefaults,
  DEFAULT_FAULTS,
} from './modem-setup.js';

/**
 * A GSM modem as a pure state machine over a byte stream: AT commands in PDU mode, SIM/phone
 * message storage holding real PDUs, AT+CMGS with the `> ` prompt, status reports for TP-SRR
 * sends, and faults (latency, +CMS ERROR, hang, error storm, garbage). It has no I/O of its own;
 * transports (pty.ts, server.ts) attach streams.
 */
export abstract class ModemCore extends EventEmitter<ModemEvents> {
  protected settings: ModemSettings;
  protected faults: ModemFaults;
  protected profile: Profile;
  protected fun = 1;
  /** AT+CUSD presentation setting, and the USSD codes dialled so far (for tests). */
  protected cusdMode = 0;
  protected readonly ussdCodes: string[] = [];
  protected copsMode = 0;
  protected sim: SimState;
  protected pinAttempts = PIN_ATTEMPTS;
  protected pukAttempts = PUK_ATTEMPTS;
  protected readonly memories: Record<MemoryName, SmsMemory>;
  /** Incoming PDUs waiting for free storage, like a network retrying delivery to a full SIM. */
  protected readonly queue: BuiltPdu[] = [];
  protected readonly sentRecords: SentRecord[] = [];
  protected readonly streams = new Map<Duplex, () => void>();
  protected readonly timers = new Set<NodeJS.Timeout>();
  protected readonly rand: () => number;
  protected readonly log: ((line: string) => void) | undefined;
  protected readonly now: () => Date;

  protected inbuf = '';
  protected mode: 'command' | 'pdu' = 'command';
  protected pduLength = 0;
  protected pduHex = '';
  protected pumping = false;
  /** Bumped by every power cycle so a command in flight (latency) is not answered into the new session. */
  protected epoch = 0;
  protected disposed = false;
  protected mr = 0;
  protected concatRef: number;
  protected sends = 0;
  protected lastReg = 0;
  protected readonly counters = { commands: 0, sent: 0, sendErrors: 0, badPdus: 0, received: 0, reports: 0 };
  protected readonly handlers: Record<string, Handler>;

  constructor(options: ModemEmulatorOptions = {}) {
    super();
    const { faults, seed, log, now, preload, ...settings } = options;
    const given = check<ModemSettings>(settings, SETTING_CHECKS, 'setting');
    this.settings = {
      ...DEFAULT_SETTINGS,
      ...given,
      memories: [...(given.memories ?? DEFAULT_SETTINGS.memories)],
    };
    this.faults = { ...DEFAULT_FAULTS };
    if (faults) this.setFault(faults);
    this.rand = prng(seed ?? Date.now());
    this.concatRef = Math.floor(this.rand() * 256);
    this.now = now ?? (() => new Date());
    if (typeof log === 'function') this.log = log;
    else if (log === true || (log === undefined && process.env.SMSGATE_EMULATOR_DEBUG)) {
      this.log = (line) => process.stderr.write(`[modem] ${line}\n`);
    }
    this.memories = {
      SM: new SmsMemory('SM', this.settings.simSize),
      ME: new SmsMemory('ME', this.settings.meSize),
    };
    this.profile = profileDefaults(this.settings.memories);
    this.sim = this.initialSim();
    this.lastReg = this.registration();
    this.handlers = this.buildHandlers();
    for (const p of preload ?? []) {
      for (const b of buildIncoming(p, this.incomingDefaults())) {
        this.memories.SM.store({
          stat: 0,
          kind: b.kind,
          pdu: b.pdu,
          tpduLength: b.tpduLength,
          storedAt: this.now().toISOString(),
        });
      }
    }
  }

  // ---------------------------------------------------------------- transport side

  /** Connects a byte stream (the host side of a serial line); returns a function that detaches it. */
  attach(stream: Duplex): () => void {
    const existing = this.streams.get(stream);
    if (existing) return existing;
    const onData = (chunk: Buffer | string): void => this.input(chunk);
    const onError = (e: Error): void => this.debug(`stream error: ${e.message}`);
    const detach = (): void => {
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('close', detach);
      this.streams.delete(stream);
    };
    stream.on('data', onData);
    stream.on('error', onError);
    stream.on('close', detach);
    this.streams.set(stream, detach);
    return detach;
  }

  detach(stream: Duplex): void {
    this.streams.get(stream)?.();
  }

  /** Bytes from the host. */
  input(data: Buffer | string): void {
    if (this.disposed) return;
    const s = typeof data === 'string' ? data : data.toString('latin1');
    if (this.faults.hang) {
      this.debug(`(hung, ignored ${JSON.stringify(escapeBytes(s))})`);
      return;
    }
    this.inbuf += s;
    void this.pump();
  }

  /** Stops timers and detaches streams; the emulator ignores everything afterwards. */
  dispose(): void {
    this.disposed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const detach of [...this.streams.values()]) detach();
  }

  /**
   * Power cycle, as when the device drops off the bus and comes back: volatile settings back to
   * defaults, SIM asks for its PIN again, a pending prompt and a hang are gone. Storage survives.
   */
  powerCycle(reason: 'cfun' | 'power' = 'power'): void {
    this.epoch++;
    this.inbuf = '';
    this.mode = 'command';
    this.pduHex = '';
    this.faults.hang = false;
    this.profile = profileDefaults(this.settings.memories);
    this.fun = 1;
    this.copsMode = 0;
    if (this.sim === 'READY' || this.sim === 'ABSENT') this.sim = this.initialSim();
    this.lastReg = this.registration();
    this.debug(`power cycle (${reason})`);
    this.emit('reset', reason);
  }

  // ---------------------------------------------------------------- control side

  /** A message from the network: raw DELIVER/STATUS-REPORT hex, `{pdu}`, or a described message. */
  deliver(input: IncomingInput): DeliverOutcome {
    const built = buildIncoming(input, this.incomingDefaults());
    const outcome: DeliverOutcome = { parts: built.length, stored: [], routed: 0, queued: 0 };
    for (const b of built) {
      const r = this.receive(b);
      if (r === 'routed') outcome.routed++;
      else if (r === 'queued') outcome.queued++;
      else outcome.stored.push({ memory: r.memory, index: r.index });
    }
    this.counters.received += built.length;
    return outcome;
  }

  set(input: Partial<ModemSettings>): void {
    const partial = check<ModemSettings>(input, SETTING_CHECKS, 'setting');
    Object.assign(this.settings, partial);
    if (partial.memories) this.settings.memories = [...partial.memories];
    this.memories.SM.size = this.settings.simSize;
    this.memories.ME.size = this.settings.meSize;
    if (partial.simInserted === false) this.sim = 'ABSENT';
    else if (partial.simInserted === true && this.sim === 'ABSENT') this.sim = this.initialSim();
    this.checkRegistration();
    this.flushQueue();
  }

  setFault(input: FaultInput): void {
    const { garbage, ...rest } = check<ModemFaults>(input, FAULT_CHECKS, 'fault') as FaultInput;
    const wasHung = this.faults.hang;
    Object.assign(this.faults, rest);
    if (garbage !== undefined) this.faults.garbage = garbage === true ? 1 : garbage === false ? 0 : garbage;
    if (wasHung && !this.faults.hang) {
      // Whatever was half-typed before the hang is gone.
      this.inbuf = '';
      this.mode = 'command';
      this.pduHex = '';
    }
  }

  getSettings(): ModemSettings {
    return { ...this.settings, memories: [...this.settings.memories] };
  }

  getFaults(): ModemFaults {
    return { ...this.faults };
  }

  /** Successful sends, in order. */
  get sent(): SentRecord[] {
    return this.sentRecords.filter((r) => r.error === null);
  }

  /** USSD codes dialled with AT+CUSD, in order. */
  get ussdRequests(): string[] {
    return [...this.ussdCodes];
  }

  /** Every decoded SUBMIT, refused ones (error set) included. */
  get sendAttempts(): SentRecord[] {
    return [...this.sentRecords];
  }

  clearSent(): void {
    this.sentRecords.length = 0;
  }

  /** Stored messages of one or all memories. */
  messages(memory?: MemoryName): StoredMessage[] {
    const names = memory ? [memory] : MEMORY_NAMES;
    return names.flatMap((n) => this.memories[n].list().map((m) => ({ ...m })));
  }

  /** Deletes stored messages (all, or of one memory), then stores queued ones. */
  clearMessages(memory?: MemoryName): void {
    for (const n of memory ? [memory] : MEMORY_NAMES) this.memories[n].clear();
    this.flushQueue();
  }

  status(): ModemStatus {
    const storage = {} as Record<MemoryName, { used: number; total: number }>;
    for (const n of MEMORY_NAMES) storage[n] = { used: this.memories[n].used, total: this.memories[n].size };
    return {
      settings: this.getSettings(),
      faults: this.getFaults(),
      sim: this.sim,
      pinAttemptsLeft: this.pinAttempts,
      pukAttemptsLeft: this.pukAttempts,
      registration: this.registration(),
      state: {
        echo: this.profile.echo,
        cmee: this.profile.cmee,
        cscs: this.profile.cscs,
        cnmi: [...this.profile.cnmi],
        cmms: this.profile.cmms,
        fun: this.fun,
        mode: this.mode,
        memories: [...this.profile.mem],
      },
      storage,
      queued: this.queue.length,
      counters: { ...this.counters },
      nextMr: (this.mr + 1) % 256,
      attached: this.streams.size,
    };
  }

  // ---------------------------------------------------------------- input parsing

  protected async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inbuf.length > 0 && !this.disposed && !this.faults.hang) {
        if (this.mode === 'pdu') {
          if (!(await this.pumpPdu())) break;
          continue;
        }
        const cr = this.inbuf.indexOf('\r');
        if (cr < 0) {
          if (this.inbuf.length > MAX_LINE) this.inbuf = '';
          break;
        }
        const raw = this.inbuf.slice(0, cr);
        this.inbuf = this.inbuf.slice(cr + 1);
        const line = this.cleanLine(raw);
        // Lines not starting with AT are line noise to a modem (also Gammu's leading ESC\r).
        if (!/^\s*AT/i.test(line)) {
          if (line.trim() !== '') this.debug(`>> ${escapeBytes(line)} (no AT prefix, ignored)`);
          continue;
        }
        await this.runCommand(line.trim());
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Drops LF (of CR LF), ESC outside a prompt, NULs; applies backspace (S5) like a modem's line editor. */
  protected cleanLine(raw: string): string {
    let out = '';
    for (const ch of raw) {
      if (ch === '\b') out = out.slice(0, -1);
      else if (ch !== '\n' && ch !== ESC && ch !== '\0') out += ch;
    }
    return out;
  }

  /** Consumes PDU input after the prompt; true when a terminator was handled and parsing continues. */
  protected async pumpPdu(): Promise<boolean> {
    const z = this.inbuf.indexOf(CTRL_Z);
    const e = this.inbuf.indexOf(ESC);
    const end = [z, e].filter((i) => i >= 0).sort((a, b) => a - b)[0];
    const chunk = end === undefined ? this.inbuf : this.inbuf.slice(0, end);
    const hex = chunk.replace(/[\r\n]/g, '');
    if (this.profile.echo && chunk.length > 0) this.write(chunk, 'echo');
    this.pduHex += hex;
    if (end === undefined) {
      this.inbuf = '';
      if (this.pduHex.length > MAX_PDU_HEX) {
        this.mode = 'command';
        this.pduHex = '';
        this.write(respond([], this.cms(304)).out, 'reply');
      }
      return false;
    }
    const terminator = this.inbuf.charAt(end);
    this.inbuf = this.inbuf.slice(end + 1);
    const pdu = this.pduHex;
    this.pduHex = '';
    this.mode = 'command';
    if (terminator === ESC) {
      this.debug(`>> ${escapeBytes(pdu)}<ESC> (send cancelled)`);
      this.write(respond([], 'OK').out, 'reply');
      return true;
    }
    this.debug(`>> ${escapeBytes(pdu)}<CTRL-Z>`);
    const epoch = this.epoch;
    if (this.faults.latencyMs > 0) await this.sleep(this.faults.latencyMs);
    if (epoch !== this.epoch || this.disposed) return true;
    const reply = this.faults.errorStorm ? respond([], 'ERROR') : this.submit(pdu);
    this.write(reply.out, 'reply');
    reply.after?.();
    return true;
  }

  protected async runCommand(line: string): Promise<void> {
    this.counters.commands++;
    this.emit('command', line);
    this.debug(`>> ${escapeBytes(line)}`);
    if (this.profile.echo) this.write(`${line}\r`, 'echo');
    const epoch = this.epoch;
    if (this.faults.latencyMs > 0) await this.sleep(this.faults.latencyMs);
    if (epoch !== this.epoch || this.disposed) return;
    let reply: Reply;
    if (this.faults.errorStorm) reply = respond([], 'ERROR');
    else {
      try {
        reply = this.dispatch(line);
      } catch (e) {
        this.debug(`handler failed: ${e instanceof Error ? e.message : String(e)}`);
        reply = respond([], 'ERROR');
      }
    }
    this.write(reply.out, 'reply');
    reply.after?.();
  }

  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  // ---------------------------------------------------------------- output

  protected write(s: string, kind: 'echo' | 'reply' | 'urc'): void {
    if (this.disposed) return;
    if (this.faults.hang) {
      this.debug(`(hung, not sent: ${escapeBytes(s)})`);
      return;
    }
    let buf = Buffer.from(s, 'utf8');
    if (kind !== 'echo' && this.faults.garbage > 0 && this.rand() < this.faults.garbage) {
      // Line noise: high bytes and printable junk, never CR/LF, so it cannot fake a result code.
      const junk = Buffer.alloc(1 + Math.floor(this.rand() * 8));
      for (let i = 0; i < junk.length; i++) {
        junk[i] =
          this.rand() < 0.5 ? 0x80 + Math.floor(this.rand() * 0x7f) : 0x21 + Math.floor(this.rand() * 0x5e);
      }
      buf = Buffer.concat([junk, buf]);
    }
    if (kind !== 'echo') this.debug(`<< ${escapeBytes(buf.toString('latin1'))}`);
    this.emit('output', buf);
    for (const stream of this.streams.keys()) {
      if (!stream.destroyed && stream.writable) stream.write(buf);
    }
  }

  protected debug(line: string): void {
    this.log?.(line);
  }

  // ---------------------------------------------------------------- helpers

  protected initialSim(): SimState {
    if (!this.settings.simInserted) return 'ABSENT';
    return this.settings.pin !== null ? 'SIM PIN' : 'READY';
  }

  /** +CREG <stat> as the host sees it: a locked SIM or radio off cannot register. */
  protected registration(): number {
    if (this.sim !== 'READY' || this.fun !== 1 || this.copsMode === 2) return 0;
    return this.settings.registration;
  }

  protected registered(): boolean {
    const r = this.registration();
    return r === 1 || r === 5;
  }

  protected checkRegistration(): void {
    const reg = this.registration();
    if (reg === this.lastReg) return;
    this.lastReg = reg;
    for (const [name, n] of [
      ['+CREG', this.profile.cregMode],
      ['+CGREG', this.profile.cgregMode],
    ] as const) {
      if (n === 0) continue;
      const loc =
        n === 2 && (reg === 1 || reg === 5) ? `,"${this.settings.lac}","${this.settings.cellId}"` : '';
      this.write(`\r\n${name}: ${reg}${loc}\r\n`, 'urc');
    }
  }

  protected ok(...lines: string[]): Reply {
    return respond(lines, 'OK');
  }

  protected error(): Reply {
    return respond([], 'ERROR');
  }

  protected cme(code: number): string {
    return formatError('CME', code, this.profile.cmee);
  }

  protected cms(code: number): string {
    return formatError('CMS', code, this.profile.cmee);
  }

  protected cmeReply(code: number): Reply {
    return respond([], this.cme(code));
  }

  protected cmsReply(code: number): Reply {
    return respond([], this.cms(code));
  }

  /** The error a SIM-dependent command gets while the SIM is missing or locked, else undefined. */
  protected simGate(kind: 'CME' | 'CMS'): Reply | undefined {
    const codes: Record<SimState, [number, number] | undefined> = {
      READY: undefined,
      ABSENT: [10, 310],
      'SIM PIN': [11, 311],
      'SIM PUK': [12, 316],
      BLOCKED: [13, 313],
    };
    const c = codes[this.sim];
    if (!c) return undefined;
    return kind === 'CME' ? this.cmeReply(c[0]) : this.cmsReply(c[1]);
  }

  /** Text in the TE character set: UCS2 means hex of UTF-16BE, as real modems print it. */
  protected encodeText(s: string): string {
    if (this.profile.cscs !== 'UCS2') return s;
    return Buffer.from(s, 'utf16le').swap16().toString('hex').toUpperCase();
  }

  protected decodeText(s: string): string {
    if (this.profile.cscs === 'UCS2' && /^([0-9A-Fa-f]{4})+$/.test(s)) {
      return Buffer.from(s, 'hex').swap16().toString('utf16le');
    }
    return s;
  }

  protected incomingDefaults(): { smsc: string; tzMinutes: number; now: Date; nextRef: () => number } {
    return {
      smsc: this.settings.smsc,
      tzMinutes: this.settings.tzMinutes,
      now: this.now(),
      nextRef: () => {
        this.concatRef = (this.concatRef + 1) % 256;
        return this.concatRef;
      },
    };
  }

  // ---------------------------------------------------------------- receiving

  /** Routes or stores one PDU from the network per AT+CNMI, or queues it while storage is full. */
  protected receive(b: BuiltPdu): 'routed' | 'queued' | StoredMessage {
    const [mode, mt, , ds] = this.profile.cnmi;
    if (mode >= 1) {
      if (
        b.kind === 'deliver' &&
        ((mt === 2 && b.messageClass !== 2) || (mt === 3 && b.messageClass === 3))
      ) {
        this.write(`\r\n+CMT: ,${b.tpduLength}\r\n${b.pdu}\r\n`, 'urc');
        this.emit('routed', 'CMT', b.pdu);
        return 'routed';
      }
      if (b.kind === 'status-report' && ds === 1) {
        this.write(`\r\n+CDS: ${b.tpduLength}\r\n${b.pdu}\r\n`, 'urc');
        this.emit('routed', 'CDS', b.pdu);
        return 'routed';
      }
    }
    // Keep arrival order: nothing overtakes a queued message.
    if (this.queue.length > 0) {
      this.queue.push(b);
      return 'queued';
    }
    return this.storeNow(b) ?? (this.queue.push(b), 'queued');
  }

  protected storeNow(b: BuiltPdu): StoredMessage | undefined {
    const memName = this.profile.mem[2];
    const stored = this.memories[memName].store({
      stat: 0,
      kind: b.kind,
      pdu: b.pdu,
      tpduLength: b.tpduLength,
      storedAt: this.now().toISOString(),
    });
    if (!stored) return undefined;
    const [mode, mt, , ds] = this.profile.cnmi;
    if (mode >= 1) {
      if (b.kind === 'deliver' && mt >= 1) this.write(`\r\n+CMTI: "${memName}",${stored.index}\r\n`, 'urc');
      if (b.kind === 'status-report' && ds === 2)
        this.write(`\r\n+CDSI: "${memName}",${stored.index}\r\n`, 'urc');
    }
    this.emit('stored', { ...stored });
    return stored;
  }

  protected flushQueue(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (!next || !this.storeNow(next)) return;
      this.queue.shift();
    }
  }

  /** The command set (modem.ts): one command line to its reply. */
  protected abstract dispatch(line: string): Reply;
  /** The AT+ handlers by name, built once per modem. */
  protected abstract buildHandlers(): Record<string, Handler>;
  /** A PDU typed after AT+CMGS's prompt. */
  protected abstract submit(hex: string): Reply;
}

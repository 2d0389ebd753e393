import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { PduError, type SubmitPdu, decodeSubmit, encodeStatusReport } from '../sms/index.js';
import { EmulatorError, formatError } from './errors.js';
import { type BuiltPdu, type IncomingInput, buildIncoming } from './incoming.js';
import { type SentRecord, sentRecord } from './records.js';
import { MEMORY_NAMES, type MemoryName, type MessageStat, SmsMemory, type StoredMessage } from './storage.js';

export type SimState = 'READY' | 'SIM PIN' | 'SIM PUK' | 'BLOCKED' | 'ABSENT';

/** Identity and radio/SIM state; all settable at start and at run time (`set`). */
export interface ModemSettings {
  manufacturer: string;
  model: string;
  revision: string;
  imei: string;
  imsi: string;
  /** Long alphanumeric operator name (AT+COPS format 0). */
  operatorName: string;
  /** Numeric MCC+MNC (AT+COPS format 2). */
  operatorCode: string;
  ownNumber: string;
  /** Service centre (AT+CSCA?), also the SMSC written in incoming PDUs and reports. */
  smsc: string;
  /** +CREG <stat> while the SIM is ready and the radio on: 0 not registered, 1 home, 2 searching, 3 denied, 5 roaming. */
  registration: number;
  /** Location area code and cell id (hex) for +CREG with n=2. */
  lac: string;
  cellId: string;
  /** +CSQ: 0..31 or 99 (unknown). */
  rssi: number;
  ber: number;
  /** +CBC <bcl>, percent. */
  battery: number;
  /** +CBC <bcs>: 0 on battery, 1 battery connected but on mains, 2 no battery, 3 power fault. */
  batteryState: number;
  /** SIM PIN; null = the SIM is not PIN-locked. After a reset or power cycle the SIM asks for it again. */
  pin: string | null;
  puk: string;
  simInserted: boolean;
  /** Slots in SIM ("SM") and phone ("ME") storage. */
  simSize: number;
  meSize: number;
  /** Memories offered by AT+CPMS=?; the first is where the modem stores what it receives at power-on. */
  memories: MemoryName[];
  /** Delay between a SUBMIT with TP-SRR and its status report. */
  reportDelayMs: number;
  /** TP-Status of generated reports: 0 delivered, 0x30.. pending, 0x40.. / 0x60.. failed. */
  reportStatus: number;
  /** Answers AT+CUSD (USSD) with a `+CUSD: 0,"Reply for <code>",15` URC; false: ERROR, like modems without USSD. */
  ussd: boolean;
  /** Zone written in time stamps, minutes east of UTC. */
  tzMinutes: number;
}

/** Faults, settable at start and at run time (`setFault`). */
export interface ModemFaults {
  /** Delay before answering each command (and before +CMGS after Ctrl-Z). */
  latencyMs: number;
  /** Every Nth SMS send (AT+CMGS with a valid PDU) fails with +CMS ERROR: 500; 0 = never. */
  cmsErrorEvery: number;
  /** Ignore everything (no echo, no answers, no notifications) until cleared or the device vanishes/returns. */
  hang: boolean;
  /** Every command answers ERROR. */
  errorStorm: boolean;
  /** Probability (0..1) of random bytes before each answer or notification. */
  garbage: number;
  /** After AT+CFUN=1,1 the device disappears for this long (USB re-enumeration); done by the transport. */
  resetVanishMs: number;
}

export type FaultInput = Partial<Omit<ModemFaults, 'garbage'>> & { garbage?: boolean | number };

export interface ModemEmulatorOptions extends Partial<ModemSettings> {
  faults?: FaultInput;
  /** Seed for garbage bytes and concatenation references (reproducible runs). */
  seed?: number;
  /** Debug log (`>> cmd` / `<< reply`); true = stderr. Default: stderr when SMSGATE_EMULATOR_DEBUG is set. */
  log?: boolean | ((line: string) => void);
  /** Clock, for tests. */
  now?: () => Date;
  /** Messages already on the SIM at power-on (stored in SM, unread, no notification). */
  preload?: IncomingInput[];
}

/** Settings that a reset restores (ATZ, AT+CFUN=1,1, power cycle). */
interface Profile {
  echo: boolean;
  cmee: number;
  cscs: string;
  /** mode, mt, bm, ds, bfr */
  cnmi: [number, number, number, number, number];
  cmms: number;
  clip: number;
  crc: number;
  cregMode: number;
  cgregMode: number;
  copsFormat: number;
  csms: number;
  /** mem1 (read/delete), mem2 (write/send), mem3 (receive). */
  mem: [MemoryName, MemoryName, MemoryName];
}

export interface DeliverOutcome {
  /** PDUs that reached the modem. */
  parts: number;
  stored: Array<{ memory: MemoryName; index: number }>;
  /** Routed straight to the host (+CMT / +CDS). */
  routed: number;
  /** Waiting for free storage. */
  queued: number;
}

export interface ReportInfo {
  mr: number;
  recipient: string;
  status: number;
  pdu: string;
}

export interface ModemStatus {
  settings: ModemSettings;
  faults: ModemFaults;
  sim: SimState;
  pinAttemptsLeft: number;
  pukAttemptsLeft: number;
  registration: number;
  state: {
    echo: boolean;
    cmee: number;
    cscs: string;
    cnmi: number[];
    cmms: number;
    fun: number;
    mode: 'command' | 'pdu';
    memories: MemoryName[];
  };
  storage: Record<MemoryName, { used: number; total: number }>;
  queued: number;
  counters: {
    commands: number;
    sent: number;
    sendErrors: number;
    badPdus: number;
    received: number;
    reports: number;
  };
  nextMr: number;
  attached: number;
}

export interface ModemEvents {
  command: [line: string];
  output: [data: Buffer];
  submit: [record: SentRecord, pdu: SubmitPdu];
  /** A send refused after the PDU: bad PDU/length (record null, code 304), fault or no network. */
  'submit-error': [record: SentRecord | null, code: number, reason: string];
  stored: [msg: StoredMessage];
  routed: [kind: 'CMT' | 'CDS', pdu: string];
  report: [info: ReportInfo];
  /** The modem reset itself (AT+CFUN=1,1) or was power-cycled (vanish). */
  reset: [reason: 'cfun' | 'power'];
}

const DEFAULT_SETTINGS: ModemSettings = {
  manufacturer: 'smsgate',
  model: 'SMSGATE-EMU',
  revision: 'smsgate-emulator 1.0',
  imei: '356938035643809',
  imsi: '001010123456789',
  operatorName: 'SMSGATE',
  operatorCode: '00101',
  ownNumber: '+491700000001',
  smsc: '+491710760000',
  registration: 1,
  lac: '00A1',
  cellId: '0000B2C3',
  rssi: 20,
  ber: 0,
  battery: 100,
  batteryState: 0,
  pin: null,
  puk: '12345678',
  simInserted: true,
  simSize: 30,
  meSize: 100,
  memories: ['SM', 'ME'],
  reportDelayMs: 1000,
  reportStatus: 0,
  ussd: true,
  tzMinutes: localZoneMinutes(),
};

const DEFAULT_FAULTS: ModemFaults = {
  latencyMs: 0,
  cmsErrorEvery: 0,
  hang: false,
  errorStorm: false,
  garbage: 0,
  resetVanishMs: 0,
};

const CHARSETS = ['GSM', 'IRA', 'UCS2'];
const PIN_ATTEMPTS = 3;
const PUK_ATTEMPTS = 10;
/** Longer than any PDU (2 * (12 + 164) hex digits); beyond it the input is junk, not a PDU. */
const MAX_PDU_HEX = 1024;
const MAX_LINE = 2048;
const CTRL_Z = '\x1a';
const ESC = '\x1b';

function localZoneMinutes(): number {
  return Math.round(-new Date().getTimezoneOffset() / 15) * 15;
}

/** mulberry32: tiny seeded PRNG so garbage and references are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Transcript-style escaping for the debug log. */
export function escapeBytes(s: string): string {
  return s
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n')
    .replace(/\x1a/g, '<CTRL-Z>')
    .replace(/\x1b/g, '<ESC>')
    .replace(/[^\x20-\x7e\\<>]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Upper-cases a command line outside double quotes, so PINs and numbers in quotes keep their case. */
function upperOutsideQuotes(s: string): string {
  let out = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    out += quoted ? ch : ch.toUpperCase();
  }
  return out;
}

/** Splits `a,"b,c",d` into ['a', 'b,c', 'd'] (quotes removed, blanks trimmed). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

function int(s: string | undefined): number {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN;
}

type Form = 'exec' | 'read' | 'test' | 'set';
interface Cmd {
  name: string;
  form: Form;
  args: string[];
}
/** What a command answers; `after` runs once the answer is written (reset after OK, prompt mode...). */
interface Reply {
  out: string;
  after?: () => void;
}
type Handler = (c: Cmd) => Reply;

/** 27.005/27.007 response shape: `\r\n<line>\r\n...` then `\r\n<final>\r\n`. */
function respond(lines: string[], final: string): Reply {
  const info = lines.length > 0 ? `\r\n${lines.join('\r\n')}\r\n` : '';
  return { out: `${info}\r\n${final}\r\n` };
}

type Validator = (v: unknown) => boolean;
const isStr: Validator = (v) => typeof v === 'string';
const isDigits: Validator = (v) => typeof v === 'string' && /^\d{1,20}$/.test(v);
const isBool: Validator = (v) => typeof v === 'boolean';
const intIn =
  (min: number, max: number, ...extra: number[]): Validator =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && ((v >= min && v <= max) || extra.includes(v));
const isNumber: Validator = (v) => typeof v === 'string' && /^\+?[0-9*#]{1,20}$/.test(v);

const SETTING_CHECKS: Record<keyof ModemSettings, [Validator, string]> = {
  manufacturer: [isStr, 'a string'],
  model: [isStr, 'a string'],
  revision: [isStr, 'a string'],
  imei: [isDigits, 'digits'],
  imsi: [isDigits, 'digits'],
  operatorName: [isStr, 'a string'],
  operatorCode: [isDigits, 'digits (MCC+MNC)'],
  ownNumber: [(v) => v === '' || isNumber(v), 'a phone number, or "" for a SIM without its number'],
  smsc: [isNumber, 'a phone number'],
  registration: [intIn(0, 5), '0..5'],
  lac: [(v) => typeof v === 'string' && /^[0-9A-Fa-f]{1,8}$/.test(v), 'hex'],
  cellId: [(v) => typeof v === 'string' && /^[0-9A-Fa-f]{1,8}$/.test(v), 'hex'],
  rssi: [intIn(0, 31, 99), '0..31 or 99'],
  ber: [intIn(0, 7, 99), '0..7 or 99'],
  battery: [intIn(0, 100), '0..100'],
  batteryState: [intIn(0, 3), '0..3'],
  pin: [(v) => v === null || (typeof v === 'string' && /^\d{4,8}$/.test(v)), 'null or 4..8 digits'],
  puk: [(v) => typeof v === 'string' && /^\d{8}$/.test(v), '8 digits'],
  simInserted: [isBool, 'a boolean'],
  simSize: [intIn(1, 1000), '1..1000'],
  meSize: [intIn(1, 1000), '1..1000'],
  memories: [
    (v) =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((m) => MEMORY_NAMES.includes(m as MemoryName)) &&
      new Set(v).size === v.length,
    'a non-empty list of "SM", "ME"',
  ],
  reportDelayMs: [intIn(0, 86_400_000), '0..86400000'],
  reportStatus: [intIn(0, 255), '0..255'],
  ussd: [isBool, 'a boolean'],
  tzMinutes: [(v) => intIn(-1185, 1185)(v) && (v as number) % 15 === 0, 'a multiple of 15'],
};

const FAULT_CHECKS: Record<keyof ModemFaults, [Validator, string]> = {
  latencyMs: [intIn(0, 600_000), '0..600000'],
  cmsErrorEvery: [intIn(0, 1_000_000), '0.. (0 = off)'],
  hang: [isBool, 'a boolean'],
  errorStorm: [isBool, 'a boolean'],
  garbage: [
    (v) => typeof v === 'boolean' || (typeof v === 'number' && v >= 0 && v <= 1),
    'a boolean or 0..1',
  ],
  resetVanishMs: [intIn(0, 600_000), '0..600000'],
};

/** Validates a partial settings/faults object; undefined values are dropped (absent flags). */
function check<T extends object>(
  input: object,
  table: Record<keyof T, [Validator, string]>,
  what: string,
): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    // Own keys only: "constructor" or "__proto__" from a JSON request must not find Object.prototype.
    const entry = Object.hasOwn(table, key) ? (table as Record<string, [Validator, string]>)[key] : undefined;
    if (!entry) throw new EmulatorError(`unknown ${what} "${key}"`);
    if (!entry[0](value))
      throw new EmulatorError(`${what} ${key} must be ${entry[1]}, got ${JSON.stringify(value)}`);
    out[key] = value;
  }
  return out as Partial<T>;
}

function profileDefaults(memories: readonly MemoryName[]): Profile {
  const m = memories[0] ?? 'SM';
  return {
    echo: true,
    cmee: 0,
    cscs: 'GSM',
    cnmi: [0, 0, 0, 0, 0],
    cmms: 0,
    clip: 0,
    crc: 0,
    cregMode: 0,
    cgregMode: 0,
    copsFormat: 0,
    csms: 0,
    mem: [m, m, m],
  };
}

/**
 * A GSM modem as a pure state machine over a byte stream: AT commands in PDU mode, SIM/phone
 * message storage holding real PDUs, AT+CMGS with the `> ` prompt, status reports for TP-SRR
 * sends, and faults (latency, +CMS ERROR, hang, error storm, garbage). It has no I/O of its own;
 * transports (pty.ts, server.ts) attach streams.
 */
export class ModemEmulator extends EventEmitter<ModemEvents> {
  private settings: ModemSettings;
  private faults: ModemFaults;
  private profile: Profile;
  private fun = 1;
  /** AT+CUSD presentation setting, and the USSD codes dialled so far (for tests). */
  private cusdMode = 0;
  private readonly ussdCodes: string[] = [];
  private copsMode = 0;
  private sim: SimState;
  private pinAttempts = PIN_ATTEMPTS;
  private pukAttempts = PUK_ATTEMPTS;
  private readonly memories: Record<MemoryName, SmsMemory>;
  /** Incoming PDUs waiting for free storage, like a network retrying delivery to a full SIM. */
  private readonly queue: BuiltPdu[] = [];
  private readonly sentRecords: SentRecord[] = [];
  private readonly streams = new Map<Duplex, () => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rand: () => number;
  private readonly log: ((line: string) => void) | undefined;
  private readonly now: () => Date;

  private inbuf = '';
  private mode: 'command' | 'pdu' = 'command';
  private pduLength = 0;
  private pduHex = '';
  private pumping = false;
  /** Bumped by every power cycle so a command in flight (latency) is not answered into the new session. */
  private epoch = 0;
  private disposed = false;
  private mr = 0;
  private concatRef: number;
  private sends = 0;
  private lastReg = 0;
  private readonly counters = { commands: 0, sent: 0, sendErrors: 0, badPdus: 0, received: 0, reports: 0 };
  private readonly handlers: Record<string, Handler>;

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

  private async pump(): Promise<void> {
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
  private cleanLine(raw: string): string {
    let out = '';
    for (const ch of raw) {
      if (ch === '\b') out = out.slice(0, -1);
      else if (ch !== '\n' && ch !== ESC && ch !== '\0') out += ch;
    }
    return out;
  }

  /** Consumes PDU input after the prompt; true when a terminator was handled and parsing continues. */
  private async pumpPdu(): Promise<boolean> {
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

  private async runCommand(line: string): Promise<void> {
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  // ---------------------------------------------------------------- output

  private write(s: string, kind: 'echo' | 'reply' | 'urc'): void {
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

  private debug(line: string): void {
    this.log?.(line);
  }

  // ---------------------------------------------------------------- helpers

  private initialSim(): SimState {
    if (!this.settings.simInserted) return 'ABSENT';
    return this.settings.pin !== null ? 'SIM PIN' : 'READY';
  }

  /** +CREG <stat> as the host sees it: a locked SIM or radio off cannot register. */
  private registration(): number {
    if (this.sim !== 'READY' || this.fun !== 1 || this.copsMode === 2) return 0;
    return this.settings.registration;
  }

  private registered(): boolean {
    const r = this.registration();
    return r === 1 || r === 5;
  }

  private checkRegistration(): void {
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

  private ok(...lines: string[]): Reply {
    return respond(lines, 'OK');
  }

  private error(): Reply {
    return respond([], 'ERROR');
  }

  private cme(code: number): string {
    return formatError('CME', code, this.profile.cmee);
  }

  private cms(code: number): string {
    return formatError('CMS', code, this.profile.cmee);
  }

  private cmeReply(code: number): Reply {
    return respond([], this.cme(code));
  }

  private cmsReply(code: number): Reply {
    return respond([], this.cms(code));
  }

  /** The error a SIM-dependent command gets while the SIM is missing or locked, else undefined. */
  private simGate(kind: 'CME' | 'CMS'): Reply | undefined {
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
  private encodeText(s: string): string {
    if (this.profile.cscs !== 'UCS2') return s;
    return Buffer.from(s, 'utf16le').swap16().toString('hex').toUpperCase();
  }

  private decodeText(s: string): string {
    if (this.profile.cscs === 'UCS2' && /^([0-9A-Fa-f]{4})+$/.test(s)) {
      return Buffer.from(s, 'hex').swap16().toString('utf16le');
    }
    return s;
  }

  private incomingDefaults(): { smsc: string; tzMinutes: number; now: Date; nextRef: () => number } {
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
  private receive(b: BuiltPdu): 'routed' | 'queued' | StoredMessage {
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

  private storeNow(b: BuiltPdu): StoredMessage | undefined {
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

  private flushQueue(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (!next || !this.storeNow(next)) return;
      this.queue.shift();
    }
  }

  // ---------------------------------------------------------------- sending

  private submit(hex: string): Reply {
    const announced = this.pduLength;
    let pdu: SubmitPdu;
    try {
      pdu = decodeSubmit(hex, { tpduLength: announced });
    } catch (e) {
      if (!(e instanceof PduError)) throw e;
      this.counters.badPdus++;
      this.debug(`bad PDU: ${e.message}`);
      this.emit('submit-error', null, 304, e.message);
      return this.cmsReply(304);
    }
    const time = this.now();
    const refuse = (code: number, reason: string): Reply => {
      const record = sentRecord(pdu, hex.toUpperCase(), announced, time, null, code);
      this.sentRecords.push(record);
      this.counters.sendErrors++;
      this.emit('submit-error', record, code, reason);
      return this.cmsReply(code);
    };
    if (!this.registered()) return refuse(331, 'not registered');
    this.sends++;
    const every = this.faults.cmsErrorEvery;
    if (every > 0 && this.sends % every === 0) return refuse(500, `cmsErrorEvery ${every}`);
    this.mr = (this.mr + 1) % 256;
    const mr = this.mr;
    const record = sentRecord(pdu, hex.toUpperCase(), announced, time, mr, null);
    this.sentRecords.push(record);
    this.counters.sent++;
    this.emit('submit', record, pdu);
    if (pdu.flags.statusReportRequest) this.scheduleReport(pdu, mr, time, this.settings.reportStatus);
    return this.ok(`+CMGS: ${mr}`);
  }

  private scheduleReport(pdu: SubmitPdu, mr: number, scts: Date, status: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.disposed) return;
      try {
        const report = encodeStatusReport({
          smsc: this.settings.smsc,
          mr,
          recipient: pdu.recipient.number,
          scts,
          discharge: this.now(),
          status,
          tzMinutes: this.settings.tzMinutes,
        });
        this.counters.reports++;
        this.emit('report', { mr, recipient: pdu.recipient.number, status, pdu: report.hex });
        this.receive({
          pdu: report.hex,
          tpduLength: report.tpduLength,
          kind: 'status-report',
          messageClass: -1,
        });
      } catch (e) {
        this.debug(`cannot build status report: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, this.settings.reportDelayMs);
    this.timers.add(t);
  }

  // ---------------------------------------------------------------- commands

  private dispatch(line: string): Reply {
    const u = upperOutsideQuotes(line);
    const body = u.slice(2);
    if (body === '') return this.ok();
    let m = /^E([01]?)$/.exec(body);
    if (m) {
      this.profile.echo = m[1] === '1';
      return this.ok();
    }
    if (/^(Z|&F)0?$/.test(body)) {
      this.profile = profileDefaults(this.settings.memories);
      return this.ok();
    }
    if (/^I\d?$/.test(body)) {
      const s = this.settings;
      return this.ok(s.manufacturer, s.model, `Revision: ${s.revision}`);
    }
    // Harmless basic commands from common init strings.
    if (/^(V1|Q0|&W0?|&D[0-2]?|&C[01]?|S\d+=\d+|H0?|X[0-4])$/.test(body)) return this.ok();
    m = /^([+$^%#][A-Z][A-Z0-9]*)(=\?|\?|=.*)?$/.exec(body);
    if (!m) return this.error();
    const name = m[1] ?? '';
    const rest = m[2] ?? '';
    const form: Form = rest === '' ? 'exec' : rest === '?' ? 'read' : rest === '=?' ? 'test' : 'set';
    const handler = this.handlers[name];
    if (!handler) return this.error();
    return handler({ name, form, args: form === 'set' ? splitArgs(rest.slice(1)) : [] });
  }

  private buildHandlers(): Record<string, Handler> {
    const s = (): ModemSettings => this.settings;
    const p = (): Profile => this.profile;
    /** exec-only information commands; the test form answers OK like real modems. */
    const info =
      (value: () => string, gate?: 'CME'): Handler =>
      (c) => {
        if (c.form === 'test') return this.ok();
        if (c.form !== 'exec') return this.error();
        return (gate && this.simGate(gate)) || this.ok(value());
      };
    /** `=n` within a range, `?` prints it, `=?` prints the range. */
    const setting =
      (name: string, get: () => number, put: (n: number) => void, range: string, max: number): Handler =>
      (c) => {
        if (c.form === 'read') return this.ok(`${name}: ${get()}`);
        if (c.form === 'test') return this.ok(`${name}: ${range}`);
        const n = c.form === 'exec' ? 0 : int(c.args[0]);
        if (!(n >= 0 && n <= max)) return this.cmeReply(4);
        put(n);
        return this.ok();
      };
    const h: Record<string, Handler> = {
      '+CGMI': info(() => s().manufacturer),
      '+GMI': info(() => s().manufacturer),
      '+CGMM': info(() => s().model),
      '+GMM': info(() => s().model),
      '+CGMR': info(() => s().revision),
      '+GMR': info(() => s().revision),
      '+CGSN': info(() => s().imei),
      '+GSN': info(() => s().imei),
      '+CIMI': info(() => s().imsi, 'CME'),
      '+GCAP': info(() => '+GCAP: +CGSM'),
      '+CNUM': (c) => {
        if (c.form === 'test') return this.ok();
        if (c.form !== 'exec') return this.error();
        const n = s().ownNumber;
        // A SIM without its number (common) answers OK with no +CNUM line.
        if (n === '') return this.simGate('CME') ?? this.ok();
        return (
          this.simGate('CME') ?? this.ok(`+CNUM: "","${this.encodeText(n)}",${n.startsWith('+') ? 145 : 129}`)
        );
      },
      '+CMEE': setting(
        '+CMEE',
        () => p().cmee,
        (n) => (p().cmee = n),
        '(0-2)',
        2,
      ),
      '+CSCS': (c) => {
        if (c.form === 'read') return this.ok(`+CSCS: "${p().cscs}"`);
        if (c.form === 'test') return this.ok(`+CSCS: (${CHARSETS.map((x) => `"${x}"`).join(',')})`);
        const cs = (c.args[0] ?? '').toUpperCase();
        if (c.form !== 'set' || !CHARSETS.includes(cs)) return this.cmeReply(4);
        p().cscs = cs;
        return this.ok();
      },
      '+CPIN': (c) => this.cpin(c),
      '+CFUN': (c) => this.cfun(c),
      '+CREG': (c) => this.creg(c, '+CREG'),
      '+CGREG': (c) => this.creg(c, '+CGREG'),
      '+COPS': (c) => this.cops(c),
      '+CSQ': (c) => {
        if (c.form === 'test') return this.ok('+CSQ: (0-31,99),(0-7,99)');
        if (c.form !== 'exec') return this.error();
        return this.fun === 1 ? this.ok(`+CSQ: ${s().rssi},${s().ber}`) : this.ok('+CSQ: 99,99');
      },
      // USSD: the network's answer comes as a +CUSD URC after the OK, as on real modems.
      '+CUSD': (c) => {
        if (!s().ussd) return this.error();
        if (c.form === 'test') return this.ok('+CUSD: (0-2)');
        if (c.form === 'read') return this.ok(`+CUSD: ${this.cusdMode}`);
        if (c.form !== 'set') return this.error();
        const mode = Number(c.args[0] ?? '0');
        if (!Number.isInteger(mode) || mode < 0 || mode > 2) return this.cmeReply(50);
        this.cusdMode = mode === 2 ? this.cusdMode : mode;
        const code = c.args[1];
        if (code === undefined || mode === 2) return this.ok();
        if (this.fun !== 1 || s().registration === 0) return this.cmeReply(30);
        this.ussdCodes.push(code);
        return { ...this.ok(), after: () => this.write(`\r\n+CUSD: 0,"Reply for ${code}",15\r\n`, 'urc') };
      },
      '+CBC': (c) => {
        if (c.form === 'test') return this.ok('+CBC: (0-3),(0-100)');
        if (c.form !== 'exec') return this.error();
        return this.ok(`+CBC: ${s().batteryState},${s().battery}`);
      },
      '+CSCA': (c) => {
        if (c.form === 'test') return this.ok();
        const gate = this.simGate('CMS');
        if (gate) return gate;
        if (c.form === 'read') {
          const n = s().smsc;
          return this.ok(`+CSCA: "${this.encodeText(n)}",${n.startsWith('+') ? 145 : 129}`);
        }
        const n = this.decodeText(c.args[0] ?? '');
        if (c.form !== 'set' || !/^\+?[0-9]{1,20}$/.test(n)) return this.cmsReply(304);
        const toa = c.args[1] === undefined || c.args[1] === '' ? undefined : int(c.args[1]);
        s().smsc = toa === 145 && !n.startsWith('+') ? `+${n}` : n;
        return this.ok();
      },
      '+CSMS': (c) => {
        if (c.form === 'read') return this.ok(`+CSMS: ${p().csms},1,1,1`);
        if (c.form === 'test') return this.ok('+CSMS: (0,1)');
        const n = int(c.args[0]);
        if (c.form !== 'set' || (n !== 0 && n !== 1)) return this.cmsReply(303);
        p().csms = n;
        return this.ok('+CSMS: 1,1,1');
      },
      '+CMGF': (c) => {
        if (c.form === 'read') return this.ok('+CMGF: 0');
        if (c.form === 'test') return this.ok('+CMGF: (0)');
        // PDU mode only: text mode is refused, so a host falls back to (or insists on) PDU.
        return c.form === 'set' && c.args[0] === '0' ? this.ok() : this.error();
      },
      '+CPMS': (c) => this.cpms(c),
      '+CNMI': (c) => this.cnmi(c),
      '+CMMS': setting(
        '+CMMS',
        () => p().cmms,
        (n) => (p().cmms = n),
        '(0-2)',
        2,
      ),
      '+CLIP': (c) =>
        c.form === 'read'
          ? this.ok(`+CLIP: ${p().clip},1`)
          : setting(
              '+CLIP',
              () => p().clip,
              (n) => (p().clip = n),
              '(0,1)',
              1,
            )(c),
      '+CRC': setting(
        '+CRC',
        () => p().crc,
        (n) => (p().crc = n),
        '(0,1)',
        1,
      ),
      '+CHUP': (c) => (c.form === 'exec' || c.form === 'test' ? this.ok() : this.error()),
      '+CNMA': () => this.ok(),
      '+CMGL': (c) => this.cmgl(c),
      '+CMGR': (c) => this.cmgr(c),
      '+CMGD': (c) => this.cmgd(c),
      '+CMGS': (c) => this.cmgs(c),
    };
    return h;
  }

  private cpin(c: Cmd): Reply {
    if (c.form === 'test') return this.ok();
    if (c.form === 'read') {
      if (this.sim === 'ABSENT') return this.cmeReply(10);
      if (this.sim === 'BLOCKED') return this.cmeReply(13);
      return this.ok(`+CPIN: ${this.sim}`);
    }
    if (c.form !== 'set') return this.error();
    const [code = '', newPin] = c.args;
    switch (this.sim) {
      case 'ABSENT':
        return this.cmeReply(10);
      case 'BLOCKED':
        return this.cmeReply(13);
      case 'READY':
        return this.cmeReply(3);
      case 'SIM PIN':
        if (code === this.settings.pin) {
          this.sim = 'READY';
          this.pinAttempts = PIN_ATTEMPTS;
          const after = (): void => this.checkRegistration();
          return { ...this.ok(), after };
        }
        if (--this.pinAttempts <= 0) this.sim = 'SIM PUK';
        return this.cmeReply(16);
      case 'SIM PUK':
        if (newPin === undefined || !/^\d{4,8}$/.test(newPin)) return this.cmeReply(12);
        if (code === this.settings.puk) {
          this.settings.pin = newPin;
          this.sim = 'READY';
          this.pinAttempts = PIN_ATTEMPTS;
          this.pukAttempts = PUK_ATTEMPTS;
          return { ...this.ok(), after: () => this.checkRegistration() };
        }
        if (--this.pukAttempts <= 0) this.sim = 'BLOCKED';
        return this.cmeReply(16);
    }
  }

  private cfun(c: Cmd): Reply {
    if (c.form === 'read') return this.ok(`+CFUN: ${this.fun}`);
    if (c.form === 'test') return this.ok('+CFUN: (0,1,4),(0,1)');
    if (c.form !== 'set') return this.error();
    const fun = int(c.args[0]);
    const rst = c.args[1] === undefined ? 0 : int(c.args[1]);
    if (![0, 1, 4].includes(fun) || (rst !== 0 && rst !== 1)) return this.cmeReply(4);
    if (rst === 1) return { ...this.ok(), after: () => this.powerCycle('cfun') };
    this.fun = fun;
    return { ...this.ok(), after: () => this.checkRegistration() };
  }

  private creg(c: Cmd, name: '+CREG' | '+CGREG'): Reply {
    const key = name === '+CREG' ? 'cregMode' : 'cgregMode';
    if (c.form === 'test') return this.ok(`${name}: (0-2)`);
    if (c.form === 'read') {
      const n = this.profile[key];
      const reg = this.registration();
      const loc =
        n === 2 && (reg === 1 || reg === 5) ? `,"${this.settings.lac}","${this.settings.cellId}"` : '';
      return this.ok(`${name}: ${n},${reg}${loc}`);
    }
    const n = c.form === 'exec' ? 0 : int(c.args[0]);
    if (!(n >= 0 && n <= 2)) return this.cmeReply(4);
    this.profile[key] = n;
    return this.ok();
  }

  private cops(c: Cmd): Reply {
    const s = this.settings;
    if (c.form === 'test') {
      return this.ok(
        `+COPS: (2,"${this.encodeText(s.operatorName)}","${this.encodeText(s.operatorName)}","${s.operatorCode}"),,(0-4),(0-2)`,
      );
    }
    if (c.form === 'read') {
      if (!this.registered()) return this.ok(`+COPS: ${this.copsMode}`);
      const f = this.profile.copsFormat;
      const oper = f === 2 ? s.operatorCode : this.encodeText(s.operatorName);
      return this.ok(`+COPS: ${this.copsMode},${f},"${oper}"`);
    }
    if (c.form !== 'set') return this.error();
    const mode = int(c.args[0]);
    const format = c.args[1] === undefined || c.args[1] === '' ? undefined : int(c.args[1]);
    if (!(mode >= 0 && mode <= 4) || (format !== undefined && !(format >= 0 && format <= 2)))
      return this.cmeReply(4);
    if (mode === 3) {
      this.profile.copsFormat = format ?? 0;
      return this.ok();
    }
    if (mode === 1 || mode === 4) {
      const oper = this.decodeText(c.args[2] ?? '');
      if (oper !== s.operatorCode && oper !== s.operatorName) {
        if (mode === 1) return this.cmeReply(30);
      }
    }
    if (format !== undefined) this.profile.copsFormat = format;
    this.copsMode = mode === 4 ? 0 : mode;
    return { ...this.ok(), after: () => this.checkRegistration() };
  }

  private cpms(c: Cmd): Reply {
    const offered = this.settings.memories;
    if (c.form === 'test') {
      const list = `(${offered.map((m) => `"${m}"`).join(',')})`;
      return this.ok(`+CPMS: ${list},${list},${list}`);
    }
    const gate = this.simGate('CMS');
    if (gate) return gate;
    const usage = (m: MemoryName): string => `${this.memories[m].used},${this.memories[m].size}`;
    if (c.form === 'read') {
      return this.ok(`+CPMS: ${this.profile.mem.map((m) => `"${m}",${usage(m)}`).join(',')}`);
    }
    if (c.form !== 'set') return this.error();
    const wanted = c.args.map((a) => a.toUpperCase());
    if (wanted.length > 3 || wanted.some((m) => !offered.includes(m as MemoryName)))
      return this.cmsReply(302);
    wanted.forEach((m, i) => (this.profile.mem[i] = m as MemoryName));
    return { ...this.ok(`+CPMS: ${this.profile.mem.map(usage).join(',')}`), after: () => this.flushQueue() };
  }

  private cnmi(c: Cmd): Reply {
    if (c.form === 'read') return this.ok(`+CNMI: ${this.profile.cnmi.join(',')}`);
    if (c.form === 'test') return this.ok('+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)');
    if (c.form !== 'set') return this.error();
    const max = [2, 3, 2, 2, 1];
    const next = [...this.profile.cnmi] as Profile['cnmi'];
    if (c.args.length > 5) return this.cmsReply(303);
    for (let i = 0; i < c.args.length; i++) {
      const a = c.args[i];
      if (a === undefined || a === '') continue;
      const n = int(a);
      if (!(n >= 0 && n <= (max[i] ?? 0)) || (i === 2 && n === 1)) return this.cmsReply(303);
      next[i] = n;
    }
    this.profile.cnmi = next;
    return this.ok();
  }

  /** mem1: where AT+CMGL/CMGR/CMGD read and delete. */
  private readMemory(): SmsMemory {
    return this.memories[this.profile.mem[0]];
  }

  private cmgl(c: Cmd): Reply {
    if (c.form === 'test') return this.ok('+CMGL: (0-4)');
    const gate = this.simGate('CMS');
    if (gate) return gate;
    const stat = c.form === 'exec' ? 0 : int(c.args[0]);
    if (c.form === 'read' || !(stat >= 0 && stat <= 4)) return this.cmsReply(302);
    const lines: string[] = [];
    for (const msg of this.readMemory().list()) {
      if (stat !== 4 && msg.stat !== stat) continue;
      lines.push(`+CMGL: ${msg.index},${msg.stat},,${msg.tpduLength}`, msg.pdu);
      // 27.005: listing a REC UNREAD message makes it REC READ.
      if (msg.stat === 0) msg.stat = 1;
    }
    return this.ok(...lines);
  }

  private cmgr(c: Cmd): Reply {
    if (c.form === 'test') return this.ok();
    const gate = this.simGate('CMS');
    if (gate) return gate;
    if (c.form !== 'set') return this.error();
    const msg = this.readMemory().get(int(c.args[0]));
    if (!msg) return this.cmsReply(321);
    const reply = this.ok(`+CMGR: ${msg.stat},,${msg.tpduLength}`, msg.pdu);
    if (msg.stat === 0) msg.stat = 1;
    return reply;
  }

  private cmgd(c: Cmd): Reply {
    const mem = this.readMemory();
    if (c.form === 'test') {
      const used = mem.list().map((m) => m.index);
      return this.ok(`+CMGD: (${used.join(',')}),(0-4)`);
    }
    const gate = this.simGate('CMS');
    if (gate) return gate;
    if (c.form !== 'set') return this.error();
    const index = int(c.args[0]);
    const flag = c.args[1] === undefined ? 0 : int(c.args[1]);
    if (!(flag >= 0 && flag <= 4)) return this.cmsReply(302);
    if (flag === 0) {
      if (!(index >= 1 && index <= mem.size)) return this.cmsReply(321);
      mem.delete(index);
    } else {
      const doomed: Record<number, MessageStat[]> = { 1: [1], 2: [1, 3], 3: [1, 2, 3], 4: [0, 1, 2, 3] };
      for (const m of mem.list()) if (doomed[flag]?.includes(m.stat)) mem.delete(m.index);
    }
    // Freed space: the network's retried deliveries land now, announced after the OK.
    return { ...this.ok(), after: () => this.flushQueue() };
  }

  private cmgs(c: Cmd): Reply {
    if (c.form === 'test') return this.ok();
    const gate = this.simGate('CMS');
    if (gate) return gate;
    if (c.form !== 'set') return this.error();
    const length = int(c.args[0]);
    if (c.args.length !== 1 || !(length >= 1 && length <= 255)) return this.cmsReply(304);
    this.pduLength = length;
    return {
      out: '\r\n> ',
      after: () => {
        this.mode = 'pdu';
        this.pduHex = '';
      },
    };
  }
}

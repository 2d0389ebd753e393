/** The emulated modem's settings, faults, events and status: its interface to transports, the control
 * channel and tests (the modem itself: modem-core.ts and modem.ts). */
import type { SubmitPdu } from '../sms/index.js';
import type { IncomingInput } from './incoming.js';
import type { SentRecord } from './records.js';
import type { MemoryName, StoredMessage } from './storage.js';

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
export interface Profile {
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

/** What an emulated modem starts with (defaults, limits), how settings and faults given to it are
 * checked, and the small text helpers of its command parser. */
import { EmulatorError } from './errors.js';
import { MEMORY_NAMES, type MemoryName } from './storage.js';
import type { ModemSettings, ModemFaults, Profile } from './modem-types.js';

export const DEFAULT_SETTINGS: ModemSettings = {
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

export const DEFAULT_FAULTS: ModemFaults = {
  latencyMs: 0,
  cmsErrorEvery: 0,
  hang: false,
  errorStorm: false,
  garbage: 0,
  resetVanishMs: 0,
};

export const CHARSETS = ['GSM', 'IRA', 'UCS2'];
export const PIN_ATTEMPTS = 3;
export const PUK_ATTEMPTS = 10;
/** Longer than any PDU (2 * (12 + 164) hex digits); beyond it the input is junk, not a PDU. */
export const MAX_PDU_HEX = 1024;
export const MAX_LINE = 2048;
export const CTRL_Z = '\x1a';
export const ESC = '\x1b';

export function localZoneMinutes(): number {
  return Math.round(-new Date().getTimezoneOffset() / 15) * 15;
}

/** mulberry32: tiny seeded PRNG so garbage and references are reproducible. */
export function prng(seed: number): () => number {
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
export function upperOutsideQuotes(s: string): string {
  let out = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    out += quoted ? ch : ch.toUpperCase();
  }
  return out;
}

/** Splits `a,"b,c",d` into ['a', 'b,c', 'd'] (quotes removed, blanks trimmed). */
export function splitArgs(s: string): string[] {
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

export function int(s: string | undefined): number {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN;
}

export type Form = 'exec' | 'read' | 'test' | 'set';
export interface Cmd {
  name: string;
  form: Form;
  args: string[];
}
/** What a command answers; `after` runs once the answer is written (reset after OK, prompt mode...). */
export interface Reply {
  out: string;
  after?: () => void;
}
export type Handler = (c: Cmd) => Reply;

/** 27.005/27.007 response shape: `\r\n<line>\r\n...` then `\r\n<final>\r\n`. */
export function respond(lines: string[], final: string): Reply {
  const info = lines.length > 0 ? `\r\n${lines.join('\r\n')}\r\n` : '';
  return { out: `${info}\r\n${final}\r\n` };
}

export type Validator = (v: unknown) => boolean;
export const isStr: Validator = (v) => typeof v === 'string';
export const isDigits: Validator = (v) => typeof v === 'string' && /^\d{1,20}$/.test(v);
export const isBool: Validator = (v) => typeof v === 'boolean';
export const intIn =
  (min: number, max: number, ...extra: number[]): Validator =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && ((v >= min && v <= max) || extra.includes(v));
export const isNumber: Validator = (v) => typeof v === 'string' && /^\+?[0-9*#]{1,20}$/.test(v);

export const SETTING_CHECKS: Record<keyof ModemSettings, [Validator, string]> = {
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

export const FAULT_CHECKS: Record<keyof ModemFaults, [Validator, string]> = {
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
export function check<T extends object>(
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

export function profileDefaults(memories: readonly MemoryName[]): Profile {
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

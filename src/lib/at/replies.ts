/**
 * Pure parsers for AT reply lines (the information lines of a response, final result excluded).
 * Shapes come from real modems: Gammu's test dumps (tests/at-creg, at-cpms, at-cnmi, at-smsc) and
 * the transcript of gammu-smsd 1.42. Parsers are lenient where modems are sloppy (missing quotes,
 * missing spaces, vendor prefixes) and throw AtParseError where guessing would mislead.
 */
import { AtParseError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Field helpers

/**
 * Split a parameter list on top-level commas: commas inside quotes or parentheses don't count.
 * Tokens are trimmed but keep their quotes (use unquote) so `""` (empty) and `` (absent) differ.
 */
export function splitFields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let depth = 0;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ',' && !quoted && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur.trim());
  return out;
}

/** Strip surrounding double quotes, also a lone leading or trailing one (broken modems). */
export function unquote(s: string): string {
  return s.trim().replace(/^"/, '').replace(/"$/, '');
}

function toInt(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = unquote(s);
  return /^-?\d+$/.test(t) ? Number(t) : undefined;
}

/**
 * The text after `+XXX:` on the first line that carries that prefix (case-insensitive, space after
 * the colon optional, junk before it tolerated: some modems glue lines together).
 */
export function findInfo(lines: readonly string[], prefix: string): string | undefined {
  const p = prefix.toUpperCase();
  for (const line of lines) {
    const at = line.toUpperCase().indexOf(p + ':');
    if (at >= 0) return line.slice(at + p.length + 1).trim();
  }
  return undefined;
}

function requireInfo(lines: readonly string[], prefix: string, command: string): string {
  const body = findInfo(lines, prefix);
  if (body === undefined) throw new AtParseError(command, `no ${prefix}: line in reply`, lines);
  return body;
}

/**
 * `(0-2)`, `(0,1,3)`, `(2)`, `0-3`, `(0-1,3)` -> the allowed numbers. Empty -> [].
 */
export function parseRange(s: string): number[] {
  const out = new Set<number>();
  const body = s.trim().replace(/^\(/, '').replace(/\)$/, '');
  for (const part of body.split(',')) {
    const t = unquote(part);
    if (t === '') continue;
    const r = /^(\d+)\s*-\s*(\d+)$/.exec(t);
    if (r && r[1] !== undefined && r[2] !== undefined) {
      const lo = Number(r[1]);
      const hi = Math.min(Number(r[2]), lo + 255); // a bogus "0-99999" must not loop forever
      for (let i = lo; i <= hi; i++) out.add(i);
    } else if (/^\d+$/.test(t)) {
      out.add(Number(t));
    }
  }
  return [...out].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Identification: AT+CGMI, AT+CGMM, AT+CGMR, AT+CGSN, AT+CIMI

/** Prefixes some modems put in front of identification replies (`+CGMI: "Huawei"`, `Revision: 1.0`). */
const ID_PREFIX =
  /^(\+C?G(MI|MM|MR|SN)|\+CIMI|Manufacturer|Model|Revision|IMEI|IMSI|SW ?Version|Firmware(\s+version)?)\s*:\s*/i;

/** First meaningful line of an identification reply, prefixes and quotes removed. */
export function parseIdentification(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const t = unquote(line.trim().replace(ID_PREFIX, ''));
    if (t !== '') return t;
  }
  return undefined;
}

/** AT+CGSN: the 14..17 digit IMEI (or IMEISV), wherever the modem puts it. */
export function parseImei(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const m = /\d{14,17}/.exec(line);
    if (m) return m[0];
  }
  return parseIdentification(lines);
}

/** AT+CIMI: the 6..15 digit IMSI. */
export function parseImsi(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const m = /\d{6,15}/.exec(line);
    if (m) return m[0];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// SIM security: AT+CPIN?

export const SECURITY_STATES = [
  'READY',
  'SIM PIN',
  'SIM PUK',
  'PH-SIM PIN',
  'PH-FSIM PIN',
  'PH-FSIM PUK',
  'SIM PIN2',
  'SIM PUK2',
  'PH-NET PIN',
  'PH-NET PUK',
  'PH-NETSUB PIN',
  'PH-NETSUB PUK',
  'PH-SP PIN',
  'PH-SP PUK',
  'PH-CORP PIN',
  'PH-CORP PUK',
] as const;
export type SecurityState = (typeof SECURITY_STATES)[number];

/** `+CPIN: READY`, `+CPIN: "SIM PIN"`, `+CPIN:SIM PUK`. */
export function parseCpin(lines: readonly string[]): SecurityState {
  const body = requireInfo(lines, '+CPIN', 'AT+CPIN?');
  const state = unquote(body).toUpperCase().replace(/\s+/g, ' ');
  const known = SECURITY_STATES.find((s) => s === state);
  if (!known) throw new AtParseError('AT+CPIN?', `unknown SIM state "${state}"`, lines);
  return known;
}

// ---------------------------------------------------------------------------------------------
// Network: AT+CREG? / AT+COPS?

export const REGISTRATION_STATES = [
  'not-registered', // 0: not registered, not searching
  'home', // 1
  'searching', // 2
  'denied', // 3
  'unknown', // 4
  'roaming', // 5
  'home-sms-only', // 6 (E-UTRAN)
  'roaming-sms-only', // 7
  'emergency-only', // 8
  'home-csfb-not-preferred', // 9
  'roaming-csfb-not-preferred', // 10
] as const;
export type RegistrationStateName = (typeof REGISTRATION_STATES)[number];

export interface Registration {
  /** The <n> (URC mode) field of a query reply; absent in the unsolicited form. */
  n?: number;
  state: number;
  stateName: RegistrationStateName;
  /** Location area code, hex as the modem reports it, uppercase, without quotes. */
  lac?: string;
  /** Cell id, hex, uppercase. */
  cid?: string;
  /** Access technology (0 GSM, 2 UTRAN, 7 E-UTRAN...). */
  act?: number;
}

function hexField(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.replace(/"/g, '').trim().toUpperCase();
  return /^[0-9A-F]+$/.test(t) ? t : undefined;
}

/**
 * Body of `+CREG:` (or +CGREG/+CEREG) in either form: query `<n>,<stat>[,<lac>,<ci>[,<AcT>]]` or
 * unsolicited `<stat>[,<lac>,<ci>[,<AcT>]]`. Fields never contain commas, so a plain split copes
 * with the broken quoting seen in the wild (`2,1,"0B,"0100701",7`, `2,1,"5E25`).
 */
export function parseRegistrationBody(body: string): Registration | undefined {
  const f = body.split(',').map((s) => s.trim());
  // <n> comes first in a query answer; the unsolicited form (which a few modems also use to answer
  // the query) starts with <stat> followed by a quoted or hex LAC.
  const looksLikeLac = (s: string): boolean => s.includes('"') || !/^\d+$/.test(s) || Number(s) > 10;
  const hasN = f.length >= 2 && !looksLikeLac(f[1] ?? '');
  const base = hasN ? 1 : 0;
  const state = toInt(f[base]);
  if (state === undefined || state < 0 || state >= REGISTRATION_STATES.length) return undefined;
  const reg: Registration = { state, stateName: REGISTRATION_STATES[state] ?? 'unknown' };
  if (hasN) {
    const n = toInt(f[0]);
    if (n !== undefined) reg.n = n;
  }
  const lac = hexField(f[base + 1]);
  const cid = hexField(f[base + 2]);
  const act = toInt(f[base + 3]);
  if (lac !== undefined) reg.lac = lac;
  if (cid !== undefined) reg.cid = cid;
  if (act !== undefined) reg.act = act;
  return reg;
}

/** AT+CREG? reply; undefined when the modem answered just OK (seen in the wild). */
export function parseCreg(lines: readonly string[], prefix = '+CREG'): Registration | undefined {
  const body = findInfo(lines, prefix);
  if (body === undefined) return undefined;
  const reg = parseRegistrationBody(body);
  if (!reg) throw new AtParseError(`AT${prefix}?`, `cannot parse "${body}"`, lines);
  return reg;
}

export interface OperatorInfo {
  mode: number;
  /** 0 long alphanumeric, 1 short alphanumeric, 2 numeric (MCC+MNC). */
  format?: number;
  operator?: string;
  act?: number;
}

/** `+COPS: 0,0,"Telekom.de",7`, `+COPS: 0,2,"26201",7`, `+COPS: 0` (not registered). */
export function parseCops(lines: readonly string[]): OperatorInfo {
  const body = requireInfo(lines, '+COPS', 'AT+COPS?');
  const f = splitFields(body);
  const mode = toInt(f[0]);
  if (mode === undefined) throw new AtParseError('AT+COPS?', `cannot parse "${body}"`, lines);
  const info: OperatorInfo = { mode };
  const format = toInt(f[1]);
  if (format !== undefined) info.format = format;
  if (f[2] !== undefined && unquote(f[2]) !== '') info.operator = unquote(f[2]);
  const act = toInt(f[3]);
  if (act !== undefined) info.act = act;
  return info;
}

// ---------------------------------------------------------------------------------------------
// Signal and battery: AT+CSQ / AT+CBC

export interface SignalQuality {
  /** 0..31, 99 = unknown. */
  rssi: number;
  /** 0..7, 99 = unknown. */
  ber: number;
  /** 2*rssi - 113; -1 when unknown (Gammu's convention, shown as-is by the monitor). */
  dbm: number;
  /** Gammu's SignalPercent: 3*rssi capped at 100; -1 when unknown. */
  percent: number;
  /** Gammu's BitErrorRate in %; -1 when unknown. */
  berPercent: number;
}

const BER_PERCENT = [0, 0, 1, 1, 2, 5, 9, 18] as const;

/** `+CSQ: 17,99`, `+CSQ: 99,99`. */
export function parseCsq(lines: readonly string[]): SignalQuality {
  const body = requireInfo(lines, '+CSQ', 'AT+CSQ');
  const f = splitFields(body);
  const rssi = toInt(f[0]);
  const ber = toInt(f[1]) ?? 99;
  if (rssi === undefined) throw new AtParseError('AT+CSQ', `cannot parse "${body}"`, lines);
  const known = rssi >= 0 && rssi <= 31;
  return {
    rssi,
    ber,
    dbm: known ? 2 * rssi - 113 : -1,
    percent: known ? Math.min(100, 3 * rssi) : -1,
    berPercent: BER_PERCENT[ber] ?? -1,
  };
}

export type ChargeState = 'battery-powered' | 'battery-connected' | 'no-battery' | 'power-fault' | 'unknown';
const CHARGE_STATES: readonly ChargeState[] = [
  'battery-powered',
  'battery-connected',
  'no-battery',
  'power-fault',
];

export interface BatteryStatus {
  /** <bcl>, 0..100. */
  percent: number;
  /** <bcs> per 27.007 (SIMCom reuses it as 0 not charging / 1 charging / 2 done). */
  chargeState: ChargeState;
  bcs: number;
  /** Third field some modems add (SIMCom, Quectel). */
  voltageMv?: number;
}

/** `+CBC: 0,100`, `+CBC: 1,75,4012`. */
export function parseCbc(lines: readonly string[]): BatteryStatus {
  const body = requireInfo(lines, '+CBC', 'AT+CBC');
  const f = splitFields(body);
  const bcs = toInt(f[0]);
  const bcl = toInt(f[1]);
  if (bcs === undefined || bcl === undefined)
    throw new AtParseError('AT+CBC', `cannot parse "${body}"`, lines);
  const out: BatteryStatus = { percent: bcl, bcs, chargeState: CHARGE_STATES[bcs] ?? 'unknown' };
  const mv = toInt(f[2]);
  if (mv !== undefined) out.voltageMv = mv;
  return out;
}

// ---------------------------------------------------------------------------------------------
// SMSC: AT+CSCA?

/** A number sent as UCS2 hex (modem charset UCS2): `002B0034...` -> `+4...`. */
function decodeUcs2Number(s: string): string | undefined {
  if (!/^([0-9A-Fa-f]{4}){2,}$/.test(s)) return undefined;
  let out = '';
  for (let i = 0; i < s.length; i += 4) out += String.fromCharCode(parseInt(s.slice(i, i + 4), 16));
  return /^\+?[0-9*#]+$/.test(out) ? out : undefined;
}

export interface Smsc {
  number: string;
  type?: number;
}

/**
 * `+CSCA: "+491710760000",145`, `+CSCA: "6281100000",145` (type 145 without `+`: added),
 * `+CSCA: "+4917"` (no type), UCS2 hex with or without quotes. An empty number (`"",129`) is
 * returned as undefined: the SIM has none (Gammu reports it as an error).
 */
export function parseCsca(lines: readonly string[]): Smsc | undefined {
  const body = requireInfo(lines, '+CSCA', 'AT+CSCA?');
  const f = splitFields(body);
  let number = unquote(f[0] ?? '');
  const type = toInt(f[1]);
  number = decodeUcs2Number(number) ?? number;
  if (number === '') return undefined;
  if (!/^\+?[0-9*#]+$/.test(number))
    throw new AtParseError('AT+CSCA?', `invalid SMSC number "${number}"`, lines);
  if (type === 145 && !number.startsWith('+')) number = `+${number}`;
  const smsc: Smsc = { number };
  if (type !== undefined) smsc.type = type;
  return smsc;
}

/**
 * AT+CNUM: `+CNUM: "Own","+491700000001",145` (one line per number; the first voice number is the
 * SIM's), the alpha field may be empty, the number may be UCS2 hex. No line or an empty number:
 * the SIM does not know its number (many do not), undefined.
 */
export function parseCnum(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const m = /^\+CNUM:\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const f = splitFields(m[1] ?? '');
    let number = unquote(f[1] ?? '');
    number = decodeUcs2Number(number) ?? number;
    if (!/^\+?[0-9*#]+$/.test(number)) continue;
    if (toInt(f[2]) === 145 && !number.startsWith('+')) number = `+${number}`;
    return number;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Message storage: AT+CPMS=? / AT+CPMS=... / AT+CPMS?

export interface MemoryCapabilities {
  /** <mem1>: memories that can be read and deleted. */
  read: string[];
  /** <mem2>: memories that can be written and sent from. */
  write: string[];
  /** <mem3>: where received messages can be stored. */
  receive: string[];
}

/**
 * `+CPMS: ("SM","ME"),("SM","ME"),("SM")`, with spaces (`("SM", "ME", "SM_P")`), nested lists,
 * or no parentheses at all (`+CPMS: "SM","ME"`: taken as valid for every role). An empty answer
 * (`+CPMS: `, Samsung J700) gives empty lists: the caller falls back to trying "SM" and "ME".
 */
export function parseCpmsSupported(lines: readonly string[]): MemoryCapabilities {
  const body = requireInfo(lines, '+CPMS', 'AT+CPMS=?');
  const names = (s: string): string[] => [...s.matchAll(/"([^"]*)"/g)].map((m) => (m[1] ?? '').toUpperCase());
  const groups = [...body.matchAll(/\(([^()]*)\)/g)].map((m) => names(m[1] ?? ''));
  if (groups.length === 0) {
    const all = names(body);
    return { read: all, write: [...all], receive: [...all] };
  }
  const read = groups[0] ?? [];
  return { read, write: groups[1] ?? [...read], receive: groups[2] ?? [...(groups[1] ?? read)] };
}

export interface MemoryUsage {
  /** Present in the AT+CPMS? form, absent in the reply to a selection. */
  memory?: string;
  used: number;
  total: number;
}

/**
 * Both shapes: the reply to a selection (`+CPMS: 4,30,4,30,4,30`, or only one or two pairs) and
 * the query (`+CPMS: "SM",0,30,"SM",0,30,"SM",0,30`; Samsung sends that shape for selections too).
 * Returned in order: read, write, receive.
 */
export function parseCpmsStatus(lines: readonly string[], command = 'AT+CPMS?'): MemoryUsage[] {
  const body = requireInfo(lines, '+CPMS', command);
  const f = splitFields(body);
  const out: MemoryUsage[] = [];
  let i = 0;
  while (i < f.length) {
    const tok = f[i] ?? '';
    let memory: string | undefined;
    if (toInt(tok) === undefined) {
      memory = unquote(tok).toUpperCase();
      i++;
    }
    const used = toInt(f[i]);
    const total = toInt(f[i + 1]);
    if (used === undefined || total === undefined) break;
    out.push(memory === undefined ? { used, total } : { memory, used, total });
    i += 2;
  }
  if (out.length === 0) throw new AtParseError(command, `cannot parse "${body}"`, lines);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Messages: AT+CMGL / AT+CMGR / AT+CMGS

/** <stat> in PDU mode. */
export const MESSAGE_STATUS = {
  receivedUnread: 0,
  receivedRead: 1,
  storedUnsent: 2,
  storedSent: 3,
  all: 4,
} as const;

export interface StoredMessage {
  index: number;
  /** 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT. */
  stat: number;
  /** TPDU length in octets as the modem announced it (SMSC field excluded). */
  length: number;
  /** Full PDU hex as stored (SMSC field + TPDU), uppercase. */
  pdu: string;
  /** The optional <alpha> field (phonebook name), rarely filled in. */
  alpha?: string;
}

const HEX_LINE = /^[0-9A-Fa-f]+$/;

/** Text-mode words some modems use for <stat> even in PDU mode. */
const STAT_WORDS: Readonly<Record<string, number>> = {
  'REC UNREAD': 0,
  'REC READ': 1,
  'STO UNSENT': 2,
  'STO SENT': 3,
};

function parseStat(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  return toInt(s) ?? STAT_WORDS[unquote(s).toUpperCase()];
}

/**
 * Reply of AT+CMGL=4: repeated `+CMGL: <index>,<stat>,[<alpha>],<length>` + PDU line. Tolerates an
 * empty list, blank lines, lowercase hex, an alpha field containing commas, a PDU wrapped over
 * several lines, and a header glued to the end of the previous PDU line (seen by Gammu on some phones).
 */
export function parseCmgl(lines: readonly string[]): StoredMessage[] {
  // Un-glue "<pdu>+CMGL: ..." first, so every header starts a line.
  const flat: string[] = [];
  for (const raw of lines) {
    const parts = raw.trim().split(/(?=\+CMGL:)/i);
    for (const p of parts) if (p.trim() !== '') flat.push(p.trim());
  }
  const out: StoredMessage[] = [];
  let cur: StoredMessage | undefined;
  for (const line of flat) {
    if (/^\+CMGL:/i.test(line)) {
      if (cur) out.push(cur);
      const f = splitFields(line.slice(line.indexOf(':') + 1));
      const index = toInt(f[0]);
      const stat = parseStat(f[1]);
      const length = toInt(f[f.length - 1]);
      if (index === undefined || stat === undefined || length === undefined || f.length < 3) {
        throw new AtParseError('AT+CMGL', `cannot parse "${line}"`, lines);
      }
      cur = { index, stat, length, pdu: '' };
      const alpha = f.length >= 4 ? unquote(f.slice(2, -1).join(',')) : '';
      if (alpha !== '') cur.alpha = alpha;
    } else if (cur && HEX_LINE.test(line)) {
      cur.pdu += line.toUpperCase();
    } else {
      throw new AtParseError('AT+CMGL', `unexpected line "${line}"`, lines);
    }
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Reply of AT+CMGR=<index>: `+CMGR: <stat>,[<alpha>],<length>` + PDU. Undefined when the location
 * is empty (a bare OK, or a header without PDU as some modems send for empty slots).
 */
export function parseCmgr(lines: readonly string[], index: number): StoredMessage | undefined {
  const at = lines.findIndex((l) => /\+CMGR:/i.test(l));
  if (at < 0) return undefined;
  const header = lines[at] ?? '';
  const f = splitFields(header.slice(header.toUpperCase().indexOf('+CMGR:') + 6));
  const stat = parseStat(f[0]);
  const length = toInt(f[f.length - 1]);
  if (stat === undefined || length === undefined || f.length < 2) {
    throw new AtParseError(`AT+CMGR=${index}`, `cannot parse "${header}"`, lines);
  }
  const pdu = lines
    .slice(at + 1)
    .map((l) => l.trim())
    .filter((l) => HEX_LINE.test(l))
    .join('')
    .toUpperCase();
  if (pdu === '' || length === 0) return undefined;
  const msg: StoredMessage = { index, stat, length, pdu };
  const alpha = f.length >= 3 ? unquote(f.slice(1, -1).join(',')) : '';
  if (alpha !== '') msg.alpha = alpha;
  return msg;
}

/** `+CMGS: <mr>[,<ackpdu>]` -> the TP-Message-Reference (0..255). */
export function parseCmgs(lines: readonly string[]): number {
  const body = requireInfo(lines, '+CMGS', 'AT+CMGS');
  const mr = toInt(splitFields(body)[0]);
  if (mr === undefined) throw new AtParseError('AT+CMGS', `cannot parse "${body}"`, lines);
  return mr;
}

// ---------------------------------------------------------------------------------------------
// New message indications: AT+CNMI=?

/** `+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)` -> allowed values per parameter (mode, mt, bm, ds, bfr). */
export function parseCnmiSupported(lines: readonly string[]): number[][] {
  const body = requireInfo(lines, '+CNMI', 'AT+CNMI=?');
  return splitFields(body).map(parseRange);
}

/**
 * Gammu's `atgen_setCNMI`: comma separated digits for mode,mt,bm,ds,bfr; an empty entry keeps the
 * automatic choice (e.g. `,,2`). Returns one entry per parameter, undefined = automatic.
 */
export function parseCnmiOverride(s: string): (number | undefined)[] {
  const parts = s.split(',').map((p) => p.trim());
  if (parts.length > 5) throw new RangeError(`atgen_setCNMI: at most 5 values, got "${s}"`);
  return parts.map((p) => {
    if (p === '' || p === '-1') return undefined;
    if (!/^\d+$/.test(p)) throw new RangeError(`atgen_setCNMI: "${p}" is not a number`);
    return Number(p);
  });
}

/**
 * Choose AT+CNMI parameters from what the modem offers:
 * - mode 2 (buffer URCs while the link is busy, flush after) else 1 (discard when busy) else 0..3;
 * - mt 1 (store in memory, announce with +CMTI: survives our crashes) else 2 (+CMT routed) else 0;
 * - bm 0 (no cell broadcasts);
 * - ds 1 (route status reports as +CDS) else 2 (+CDSI) else 0. Gammu prefers 2, but Quectel and
 *   others store the report in "SR" and announce it as `+CDSI: "SM",0`, so it is lost; +CDS is not.
 * - bfr 0 (flush buffered URCs) if offered, else the first offered; omitted if the modem lists
 *   only 4 parameters.
 * An override value is used when the modem accepts it (Gammu's rule); otherwise the automatic one.
 * Returns undefined when the modem offers neither mode 1 nor 2 (no usable notifications).
 */
export function chooseCnmi(
  supported: number[][],
  override: (number | undefined)[] = [],
): number[] | undefined {
  const allowed = (i: number): number[] => supported[i] ?? [];
  const pick = (i: number, prefs: number[]): number | undefined => {
    const ok = allowed(i);
    const o = override[i];
    if (o !== undefined && ok.includes(o)) return o;
    return prefs.find((p) => ok.includes(p));
  };
  const mode = pick(0, [2, 1]);
  if (mode === undefined) return undefined;
  const params = [mode, pick(1, [1, 2, 0]) ?? 0, pick(2, [0]) ?? 0, pick(3, [1, 2, 0]) ?? 0];
  if (supported.length >= 5 && allowed(4).length > 0) params.push(pick(4, [0, ...allowed(4)]) ?? 0);
  return params;
}

// ---------------------------------------------------------------------------------------------
// USSD: +CUSD

export interface UssdReply {
  /** 0 no further action, 1 further action required, 2 terminated by network, 4 not supported... */
  status: number;
  /** As sent by the modem (may be hex depending on the modem and <dcs>; the caller decodes). */
  text?: string;
  dcs?: number;
}

/** Body of `+CUSD: <m>[,"<str>",<dcs>]`. */
export function parseCusdBody(body: string): UssdReply | undefined {
  const f = splitFields(body);
  const status = toInt(f[0]);
  if (status === undefined) return undefined;
  const out: UssdReply = { status };
  if (f[1] !== undefined) out.text = unquote(f[1]);
  const dcs = toInt(f[2]);
  if (dcs !== undefined) out.dcs = dcs;
  return out;
}

/**
 * `[gammu] Connection = kannel`: `Device` is bearerbox's smsbox-port (host:port) and the `[kannel]`
 * section (kept raw by the config loader) holds the box settings. Times are in seconds.
 */
import type { IniSection } from '../../config/ini.js';
import type { SmsdConfig } from '../../config/smsd-config.js';
import { RECEIPT_DEFAULTS, type ReloadResult } from '../types.js';

export interface KannelSettings {
  host: string;
  port: number;
  /** Sent in the identify message; bearerbox's smsbox-route sends this box its MO. */
  boxId: string;
  /** Heartbeat period (bearerbox sends none; it is ours to tell we are alive). */
  heartbeatMs: number;
  /** Most unacknowledged MT at once. */
  window: number;
  /** First reconnect delay, doubled after each failed attempt up to reconnectMaxMs. */
  reconnectMs: number;
  reconnectMaxMs: number;
  /** An MT unacknowledged this long means the link is dead: it is dropped and reconnected. */
  ackTimeoutMs: number;
  /** dlr_mask of a message that asks for a report, and of one that does not (0: none). */
  dlrMask: number;
  dlrMaskNoReport: number;
  /** smsc_id of every MT (a hint unless the smsc group has allowed-smsc-id). */
  smscId: string | undefined;
  /** Sender of a message that names none. */
  sender: string | undefined;
  /** Largest frame taken from bearerbox (bytes); a longer one closes the link. */
  maxFrame: number;
  /** Most MO/DLR being stored at once; more are answered "try later" (after a back-off). */
  inboundLimit: number;
  /** How many inbound ids are remembered to drop redeliveries. */
  dedupeSize: number;
  /** A part without its final DLR this long is closed as "no receipt" (outlet-reports.ts). */
  receiptTimeoutMs: number;
  /** Most parts waiting for a DLR; at the limit the oldest is closed as "no receipt". */
  receiptLimit: number;
}

export class KannelConfigError extends Error {
  override name = 'KannelConfigError';
}

export const KANNEL_DEFAULTS = {
  heartbeatSeconds: 10,
  window: 100,
  reconnectSeconds: 1,
  reconnectMaxSeconds: 30,
  ackTimeoutSeconds: 30,
  dlrMask: 27,
  maxFrame: 1_048_576,
  inboundLimit: 1000,
  dedupeSize: 20_000,
} as const;

const KEYS = [
  'BoxId',
  'HeartbeatInterval',
  'Window',
  'ReconnectDelay',
  'ReconnectDelayMax',
  'AckTimeout',
  'DlrMask',
  'DlrMaskNoReport',
  'SmscId',
  'Sender',
  'ReceiptTimeout',
  'ReceiptLimit',
];

/** host:port, [v6]:port. */
export function parseHostPort(device: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(device) ?? /^([^:\s]+):(\d{1,5})$/.exec(device);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] as string, port };
}

/**
 * Reads `[gammu] Device` and `[kannel]`. Throws KannelConfigError naming file:line, key, value and
 * what is allowed; unknown keys are warnings (with a suggestion when close to a known one).
 */
export function readKannelConfig(
  config: Pick<SmsdConfig, 'gammu' | 'smsd' | 'kannel'>,
  file: string,
): { settings: KannelSettings; warnings: string[] } {
  const warnings: string[] = [];
  const sections: readonly IniSection[] = config.kannel;
  const values = new Map<string, { value: string; line: number; rawKey: string }>();
  // As everywhere in Gammu's format: the first section that sets a key wins, the last line in it.
  for (const s of sections) {
    const own = new Map<string, { value: string; line: number; rawKey: string }>();
    for (const e of s.entries) if (e.value !== '') own.set(e.key, e);
    for (const [k, v] of own) if (!values.has(k)) values.set(k, v);
  }
  const known = new Map(KEYS.map((k) => [k.toLowerCase(), k]));
  for (const [k, v] of values)
    if (!known.has(k)) {
      const near = KEYS.find((n) => n.toLowerCase().startsWith(k.slice(0, 4)));
      warnings.push(
        `${file}:${v.line}: unknown key ${v.rawKey} in [kannel] is ignored${near ? `; did you mean ${near}?` : ''}`,
      );
    }

  const where = (k: string): string => {
    const v = values.get(k);
    return v ? `${file}:${v.line}: ${v.rawKey} = ${v.value}` : file;
  };
  const num = (k: string, def: number, min: number, max: number, integer = true): number => {
    const v = values.get(k);
    if (!v) return def;
    const n = Number(v.value);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new KannelConfigError(
        `${where(k)} is not valid; use ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      );
    return n;
  };
  const seconds = (k: string, def: number, min = 0.01, max = 86_400): number =>
    Math.round(num(k, def, min, max, false) * 1000);
  const text = (k: string, max: number, spaces = false): string | undefined => {
    const v = values.get(k);
    if (!v) return undefined;
    // These go into the box protocol and bearerbox's logs verbatim: printable ASCII only.
    if (v.value.length > max || !(spaces ? /^[\x20-\x7e]+$/ : /^[\x21-\x7e]+$/).test(v.value))
      throw new KannelConfigError(
        `${where(k)} is not valid; use up to ${max} printable characters${spaces ? '' : ' without spaces'}`,
      );
    return v.value;
  };

  const target = parseHostPort(config.gammu.device);
  if (!target)
    throw new KannelConfigError(
      `${file}: [gammu] Device = ${config.gammu.device} is not valid for Connection = kannel; use host:port of bearerbox's smsbox-port (e.g. 127.0.0.1:13001)`,
    );
  const boxId = text('boxid', 64) ?? (config.smsd.phoneId || '');
  if (boxId === '')
    throw new KannelConfigError(
      `${file}: Connection = kannel needs [kannel] BoxId = <the smsbox-id of bearerbox's smsbox-route> (or [smsd] PhoneID)`,
    );
  const reconnectMs = seconds('reconnectdelay', KANNEL_DEFAULTS.reconnectSeconds, 0.01, 3600);
  const reconnectMaxMs = seconds('reconnectdelaymax', KANNEL_DEFAULTS.reconnectMaxSeconds, 0.01, 3600);
  if (reconnectMaxMs < reconnectMs)
    throw new KannelConfigError(
      `${where('reconnectdelaymax')} is below ReconnectDelay (${reconnectMs / 1000}); use a value from ${reconnectMs / 1000} to 3600`,
    );
  const settings: KannelSettings = {
    ...target,
    boxId,
    heartbeatMs: seconds('heartbeatinterval', KANNEL_DEFAULTS.heartbeatSeconds, 1, 3600),
    window: num('window', KANNEL_DEFAULTS.window, 1, 10_000),
    reconnectMs,
    reconnectMaxMs,
    ackTimeoutMs: seconds('acktimeout', KANNEL_DEFAULTS.ackTimeoutSeconds, 1, 3600),
    dlrMask: num('dlrmask', KANNEL_DEFAULTS.dlrMask, 0, 31),
    dlrMaskNoReport: num('dlrmasknoreport', 0, 0, 31),
    smscId: text('smscid', 64),
    sender: text('sender', 32, true),
    maxFrame: KANNEL_DEFAULTS.maxFrame,
    inboundLimit: KANNEL_DEFAULTS.inboundLimit,
    dedupeSize: KANNEL_DEFAULTS.dedupeSize,
    receiptTimeoutMs: seconds('receipttimeout', RECEIPT_DEFAULTS.timeoutSeconds, 1, 366 * 86_400),
    receiptLimit: num('receiptlimit', RECEIPT_DEFAULTS.limit, 1, 100_000_000),
  };
  return { settings, warnings };
}

/** SIGHUP: the changed keys that apply now go into `cur`; Device and BoxId need a restart. */
export function applyKannelReload(cur: KannelSettings, next: KannelSettings): ReloadResult {
  const c = cur as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  const needRestart = [
    ...(c.host !== n.host || c.port !== n.port ? ['Device'] : []),
    ...(c.boxId !== n.boxId ? ['BoxId'] : []),
  ];
  const applied: string[] = [];
  for (const [k, name] of [
    ['window', 'Window'],
    ['heartbeatMs', 'HeartbeatInterval'],
    ['reconnectMs', 'ReconnectDelay'],
    ['reconnectMaxMs', 'ReconnectDelayMax'],
    ['ackTimeoutMs', 'AckTimeout'],
    ['dlrMask', 'DlrMask'],
    ['dlrMaskNoReport', 'DlrMaskNoReport'],
    ['smscId', 'SmscId'],
    ['sender', 'Sender'],
    ['receiptTimeoutMs', 'ReceiptTimeout'],
    ['receiptLimit', 'ReceiptLimit'],
  ] as const)
    if (c[k] !== n[k]) {
      c[k] = n[k];
      applied.push(name);
    }
  return { applied, needRestart };
}

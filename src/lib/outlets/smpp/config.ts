import fs from 'node:fs';
import type { SmsdConfig } from '../../config/smsd-config.js';
import { ConfigError, makeWarning, quote, type ConfigWarning } from '../../config/errors.js';
import { parseBool, parseEnum, parseInteger, type ValueSource } from '../../config/values.js';
import { suggest } from '../../config/suggest.js';
import { RECEIPT_DEFAULTS, type MessageIdFormat, type ReloadResult } from '../types.js';

export const BIND_MODES = ['transceiver', 'transmitter', 'receiver', 'pair'] as const;
export type BindMode = (typeof BIND_MODES)[number];
export const ID_FORMATS: readonly MessageIdFormat[] = ['auto', 'same', 'hex', 'dec'];

/** `[gammu] Connection = smpp|smpps`, `Device = host:port` and the `[upstream]` section. */
export interface UpstreamConfig {
  tls: boolean;
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType: string;
  bindMode: BindMode;
  addressRange: string;
  window: number;
  /** Submits per second, 0 = unlimited. */
  throughput: number;
  messageIdFormat: MessageIdFormat;
  /** Sender when the message names none (SourceAddress). */
  sourceAddress: string;
  /** TON/NPI forced for numeric senders that are not international (national, short codes). */
  sourceTon: number | undefined;
  sourceNpi: number | undefined;
  destTon: number | undefined;
  destNpi: number | undefined;
  serviceType: string;
  useSar: boolean;
  usePayload: boolean;
  enquireLinkMs: number;
  /** Nothing heard for this long (no answer to enquire_link either): the link is dead. */
  linkTimeoutMs: number;
  /** A submit without an answer this long counts as lost with the link: reconnect. */
  responseTimeoutMs: number;
  reconnectDelayMs: number;
  reconnectMaxMs: number;
  /** After ESME_RTHROTTLED / ESME_RMSGQFUL: first pause, doubled while it lasts. */
  throttleDelayMs: number;
  tlsCa: string | undefined;
  tlsServerName: string | undefined;
  tlsVerify: boolean;
  /** A part without its final receipt this long is closed as "no receipt" (outlet-reports.ts). */
  receiptTimeoutMs: number;
  /** Most parts waiting for a receipt; at the limit the oldest is closed as "no receipt". */
  receiptLimit: number;
}

/** Every key of [upstream], canonical spelling (smsdrc(5) documents each). */
export const UPSTREAM_KEYS = [
  'SystemId',
  'Password',
  'SystemType',
  'BindMode',
  'AddressRange',
  'Window',
  'Throughput',
  'MessageIdFormat',
  'SourceAddress',
  'SourceTon',
  'SourceNpi',
  'DestTon',
  'DestNpi',
  'ServiceType',
  'UseSar',
  'UsePayload',
  'EnquireLinkInterval',
  'LinkTimeout',
  'ResponseTimeout',
  'ReconnectDelay',
  'ReconnectMaxDelay',
  'ThrottleDelay',
  'TlsCa',
  'TlsServerName',
  'TlsVerify',
  'ReceiptTimeout',
  'ReceiptLimit',
] as const;

/** Reads the upstream SMSC settings; errors name file:line, key, value and what is allowed. */
export function readUpstreamConfig(config: SmsdConfig): {
  upstream: UpstreamConfig;
  warnings: ConfigWarning[];
} {
  const file = config.file;
  const warnings: ConfigWarning[] = [];
  const section = config.outlets.find((s) => s.name === 'upstream');
  const known = new Map(UPSTREAM_KEYS.map((k) => [k.toLowerCase(), k]));
  const entries = new Map<string, ValueSource>();
  for (const e of section?.entries ?? []) {
    if (!known.has(e.key)) {
      const hint = suggest(e.key, known.values());
      warnings.push(
        makeWarning(
          file,
          e.line,
          `unknown key ${quote(e.rawKey)} in [upstream] is ignored${hint ? `; did you mean ${hint}?` : ''}`,
          { section: 'upstream', key: e.rawKey },
        ),
      );
      continue;
    }
    // The last non-empty value wins, as in the other sections.
    if (e.value !== '') entries.set(e.key, { file, line: e.line, rawKey: e.rawKey, value: e.value });
  }
  const src = (k: string) => entries.get(k.toLowerCase());
  const int = (k: string, def: number, min = 0) => {
    const s = src(k);
    return s ? parseInteger(s, { min }) : def;
  };
  const bool = (k: string, def: boolean) => {
    const s = src(k);
    return s ? parseBool(s) : def;
  };
  const seconds = (k: string, def: number, min = 0): number => {
    const s = src(k);
    if (!s) return def * 1000;
    const n = Number(s.value);
    if (!/^\d+(\.\d+)?$/.test(s.value) || n < min)
      throw new ConfigError(
        `${s.rawKey} = ${quote(s.value)} is not valid; use a number of seconds, ${min} or more`,
        {
          file,
          line: s.line,
          key: s.rawKey,
          value: s.value,
          allowed: [`seconds, ${min} or more`],
        },
      );
    return Math.round(n * 1000);
  };
  const tonNpi = (k: string, max: number) => {
    const s = src(k);
    if (!s) return undefined;
    const n = parseInteger(s, { min: 0 });
    if (n > max)
      throw new ConfigError(`${s.rawKey} = ${quote(s.value)} is not valid; use 0 to ${max}`, {
        file,
        line: s.line,
        key: s.rawKey,
        value: s.value,
        allowed: [`0 to ${max}`],
      });
    return n;
  };
  const limited = (k: string, max: number, def: string) => {
    const s = src(k);
    const v = s?.value ?? def;
    if (s && Buffer.byteLength(v, 'latin1') > max)
      throw new ConfigError(`${s.rawKey} is longer than ${max} characters (SMPP limit)`, {
        file,
        line: s.line,
        key: s.rawKey,
        value: k === 'Password' ? '(hidden)' : v,
        allowed: [`at most ${max} characters`],
      });
    return v;
  };

  const connection = config.gammu.connection;
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(config.gammu.device);
  if (!m || !m[1] || Number(m[2]) < 1 || Number(m[2]) > 65535)
    throw new ConfigError(
      `Device = ${quote(config.gammu.device)} is not valid for Connection = ${connection}; use host:port of the SMSC`,
      { file, key: 'Device', value: config.gammu.device, allowed: ['host:port'] },
    );
  if (!section || !src('SystemId'))
    throw new ConfigError(
      `Connection = ${connection} needs [upstream] SystemId = <the account at the SMSC>`,
      {
        file,
        line: section?.line,
        key: 'SystemId',
        allowed: ['the system_id the SMSC gave you'],
      },
    );
  const bindSrc = src('BindMode');
  const idSrc = src('MessageIdFormat');
  const tlsCa = src('TlsCa')?.value;
  if (tlsCa !== undefined && !fs.existsSync(tlsCa)) {
    const s = src('TlsCa') as ValueSource;
    throw new ConfigError(`TlsCa = ${quote(tlsCa)}: no such file`, {
      file,
      line: s.line,
      key: s.rawKey,
      value: tlsCa,
    });
  }
  const upstream: UpstreamConfig = {
    tls: connection === 'smpps',
    host: m[1],
    port: Number(m[2]),
    systemId: limited('SystemId', 15, ''),
    password: limited('Password', 8, ''),
    systemType: limited('SystemType', 12, ''),
    bindMode: bindSrc ? parseEnum(bindSrc, BIND_MODES) : 'transceiver',
    addressRange: limited('AddressRange', 40, ''),
    window: int('Window', 10, 1),
    throughput: int('Throughput', 0, 0),
    messageIdFormat: idSrc ? parseEnum(idSrc, ID_FORMATS) : 'auto',
    sourceAddress: limited('SourceAddress', 20, ''),
    sourceTon: tonNpi('SourceTon', 6),
    sourceNpi: tonNpi('SourceNpi', 18),
    destTon: tonNpi('DestTon', 6),
    destNpi: tonNpi('DestNpi', 18),
    serviceType: limited('ServiceType', 5, ''),
    useSar: bool('UseSar', false),
    usePayload: bool('UsePayload', false),
    enquireLinkMs: seconds('EnquireLinkInterval', 30, 1),
    linkTimeoutMs: seconds('LinkTimeout', 0, 0),
    responseTimeoutMs: seconds('ResponseTimeout', 60, 1),
    reconnectDelayMs: seconds('ReconnectDelay', 1, 0.1),
    reconnectMaxMs: seconds('ReconnectMaxDelay', 60, 0.1),
    throttleDelayMs: seconds('ThrottleDelay', 1, 0.01),
    tlsCa,
    tlsServerName: src('TlsServerName')?.value,
    tlsVerify: bool('TlsVerify', true),
    receiptTimeoutMs: seconds('ReceiptTimeout', RECEIPT_DEFAULTS.timeoutSeconds, 1),
    receiptLimit: int('ReceiptLimit', RECEIPT_DEFAULTS.limit, 1),
  };
  if (upstream.linkTimeoutMs === 0) upstream.linkTimeoutMs = Math.max(3 * upstream.enquireLinkMs, 10_000);
  if (upstream.useSar && upstream.usePayload) {
    const s = src('UsePayload') as ValueSource;
    throw new ConfigError('UseSar and UsePayload exclude each other; set one of them', {
      file,
      line: s.line,
      key: s.rawKey,
      value: s.value,
      allowed: ['UseSar = yes or UsePayload = yes, not both'],
    });
  }
  if (upstream.window > 1000) {
    const s = src('Window') as ValueSource;
    warnings.push(
      makeWarning(
        file,
        s.line,
        `Window = ${upstream.window} is more than SMSCs allow; most accept 10 to 100`,
        {
          section: 'upstream',
          key: s.rawKey,
        },
      ),
    );
  }
  if (upstream.tls === false && (src('TlsCa') || src('TlsServerName')))
    warnings.push(
      makeWarning(
        file,
        src('TlsCa')?.line ?? src('TlsServerName')?.line,
        'Tls* keys are ignored with Connection = smpp; use smpps',
        {
          section: 'upstream',
        },
      ),
    );
  return { upstream, warnings };
}

/** [upstream] keys a SIGHUP applies to a bound link (config field, key name). */
const LIVE_KEYS: [keyof UpstreamConfig, string][] = [
  ['window', 'Window'],
  ['throughput', 'Throughput'],
  ['sourceAddress', 'SourceAddress'],
  ['sourceTon', 'SourceTon'],
  ['sourceNpi', 'SourceNpi'],
  ['destTon', 'DestTon'],
  ['destNpi', 'DestNpi'],
  ['serviceType', 'ServiceType'],
  ['useSar', 'UseSar'],
  ['usePayload', 'UsePayload'],
  ['enquireLinkMs', 'EnquireLinkInterval'],
  ['linkTimeoutMs', 'LinkTimeout'],
  ['responseTimeoutMs', 'ResponseTimeout'],
  ['reconnectDelayMs', 'ReconnectDelay'],
  ['reconnectMaxMs', 'ReconnectMaxDelay'],
  ['throttleDelayMs', 'ThrottleDelay'],
  ['receiptTimeoutMs', 'ReceiptTimeout'],
  ['receiptLimit', 'ReceiptLimit'],
];

/** Keys of the connection and the bind: a change takes a restart of smsd run. */
const RESTART_KEYS: [keyof UpstreamConfig, string][] = [
  ['tls', 'Connection'],
  ['host', 'Device'],
  ['port', 'Device'],
  ['systemId', 'SystemId'],
  ['password', 'Password'],
  ['systemType', 'SystemType'],
  ['bindMode', 'BindMode'],
  ['addressRange', 'AddressRange'],
  ['messageIdFormat', 'MessageIdFormat'],
  ['tlsCa', 'TlsCa'],
  ['tlsServerName', 'TlsServerName'],
  ['tlsVerify', 'TlsVerify'],
];

/**
 * SIGHUP: copies into `cur` (the object the links read) the changed keys that apply to a bound
 * link; names the changed ones that need a restart, leaving them as they are.
 */
export function applyUpstreamReload(cur: UpstreamConfig, next: UpstreamConfig): ReloadResult {
  const c = cur as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  const needRestart = [...new Set(RESTART_KEYS.filter(([k]) => c[k] !== n[k]).map(([, name]) => name))];
  const applied: string[] = [];
  for (const [k, name] of LIVE_KEYS)
    if (c[k] !== n[k]) {
      c[k] = n[k];
      applied.push(name);
    }
  return { applied, needRestart };
}

import path from 'node:path';
import type { IniSection } from '../config/ini.js';
import { parseCidrList, type Cidr } from './net.js';

/**
 * The `[smppd]` section of the smsd config file (the loader keeps it raw for us). Times are in
 * seconds (fractions allowed).
 */
export interface SmppdConfig {
  port: number;
  listen: string;
  accountsFile: string;
  /** Routes (see routes.ts); without it everything goes to the spool, any modem. */
  routesFile: string | undefined;
  /** An SMPP listener over TLS beside the plain one (TlsPort, TlsKey, TlsCert, TlsListen). */
  tls: { port: number; listen: string; keyFile: string; certFile: string } | undefined;
  systemId: string;
  maxPduLength: number;
  window: number;
  sessionInitMs: number;
  enquireLinkMs: number;
  inactivityMs: number;
  responseMs: number;
  blockAttempts: number;
  blockMs: number;
  blockExempt: Cidr[];
  debug: boolean;
  /** Where smppd keeps its queues (default `<spool>/smppd`, beside reports/). */
  stateDir: string | undefined;
  /** The admin HTTP interface (KSMPPD's commands, JSON/XML, /metrics); off without AdminPort. */
  admin: AdminConfig | undefined;
}

export interface AdminConfig {
  port: number;
  listen: string;
  password: string;
  /** /metrics without the password (a Prometheus scraper on a trusted network). */
  metricsPublic: boolean;
}

export class SmppdConfigError extends Error {
  override name = 'SmppdConfigError';
}

export function readSmppdConfig(
  sections: readonly IniSection[],
  file: string,
  cwd: string,
): { config: SmppdConfig; warnings: string[] } {
  const warnings: string[] = [];
  const values = new Map<string, { value: string; line: number; rawKey: string }>();
  // A repeated section or key: the first value wins, as everywhere else in Gammu's format.
  for (const s of sections.filter((x) => x.name === 'smppd'))
    for (const e of s.entries)
      if (e.value !== '' && !values.has(e.key))
        values.set(e.key, { value: e.value, line: e.line, rawKey: e.rawKey });
  const used = new Set<string>();
  const str = (k: string): string | undefined => {
    used.add(k);
    return values.get(k)?.value;
  };
  const num = (
    k: string,
    def: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
    integer = true,
  ): number => {
    const v = values.get(k);
    used.add(k);
    if (!v) return def;
    const n = Number(v.value);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new SmppdConfigError(
        `${file}:${v.line}: ${v.rawKey} = ${v.value} is not valid; use ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      );
    return n;
  };
  const seconds = (k: string, def: number): number => Math.round(num(k, def, 0.01, 86_400, false) * 1000);
  const accounts = str('accountsfile');
  if (!accounts)
    throw new SmppdConfigError(`${file}: [smppd] needs AccountsFile = <path of the ESME accounts file>`);
  const level = (str('loglevel') ?? 'info').toLowerCase();
  if (!['debug', 'info'].includes(level))
    throw new SmppdConfigError(`${file}: LogLevel = ${level}; use debug or info`);
  let blockExempt: Cidr[] = [];
  const exempt = str('blockexempt');
  try {
    if (exempt) blockExempt = parseCidrList(exempt);
  } catch (err) {
    throw new SmppdConfigError(`${file}: BlockExempt: ${(err as Error).message}`);
  }
  const stateDir = str('statedir');
  const routes = str('routesfile');
  let tls: SmppdConfig['tls'];
  if (values.has('tlsport')) {
    const keyFile = str('tlskey');
    const certFile = str('tlscert');
    if (!keyFile || !certFile)
      throw new SmppdConfigError(
        `${file}: TlsPort needs TlsKey = <PEM key file> and TlsCert = <PEM certificate file>`,
      );
    tls = {
      port: num('tlsport', 0, 0, 65535),
      listen: str('tlslisten') ?? str('listen') ?? '0.0.0.0',
      keyFile: path.resolve(cwd, keyFile),
      certFile: path.resolve(cwd, certFile),
    };
  } else for (const k of ['tlskey', 'tlscert', 'tlslisten']) used.add(k);
  let admin: AdminConfig | undefined;
  if (values.has('adminport')) {
    const password = str('adminpassword');
    // KSMPPD refuses every admin request without its password; an open admin port is never a default.
    if (!password) throw new SmppdConfigError(`${file}: AdminPort needs AdminPassword = <a secret>`);
    const pub = (str('adminmetricspublic') ?? 'no').toLowerCase();
    if (!['yes', 'no', 'true', 'false', '1', '0'].includes(pub))
      throw new SmppdConfigError(`${file}: AdminMetricsPublic = ${pub}; use yes or no`);
    admin = {
      port: num('adminport', 0, 0, 65535),
      listen: str('adminlisten') ?? '127.0.0.1',
      password,
      metricsPublic: ['yes', 'true', '1'].includes(pub),
    };
  } else for (const k of ['adminpassword', 'adminlisten', 'adminmetricspublic']) used.add(k);
  const config: SmppdConfig = {
    port: num('port', 2775, 0, 65535),
    listen: str('listen') ?? '0.0.0.0',
    accountsFile: path.resolve(cwd, accounts),
    routesFile: routes ? path.resolve(cwd, routes) : undefined,
    tls,
    systemId: (str('systemid') ?? 'smsgate').slice(0, 15),
    maxPduLength: num('maxpdulength', 70_000, 256, 1_048_576),
    window: num('window', 100, 1, 10_000),
    sessionInitMs: seconds('sessioninittimeout', 30),
    enquireLinkMs: seconds('enquirelinkinterval', 30),
    inactivityMs: seconds('inactivitytimeout', 300),
    responseMs: seconds('responsetimeout', 30),
    blockAttempts: num('blockattempts', 5, 0, 1000),
    blockMs: seconds('blocktime', 300),
    blockExempt,
    debug: level === 'debug',
    stateDir: stateDir ? path.resolve(cwd, stateDir) : undefined,
    admin,
  };
  for (const [k, v] of values) {
    if (!used.has(k)) warnings.push(`${file}:${v.line}: unknown key ${v.rawKey} in [smppd]`);
  }
  return { config, warnings };
}

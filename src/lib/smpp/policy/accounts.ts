import type { BinaryLike, ScryptOptions } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { parseIni } from '../../config/ini.js';
import { FALSE_WORDS, TRUE_WORDS } from '../../config/values.js';
import { parseCidrList, type Cidr } from '../protocol/net.js';
import { sectionReader } from './ini-section.js';
import { simulationSettings, type Simulation } from './simulation.js';

/**
 * node:crypto, loaded when a password is hashed or checked: loading it costs about 2.5 ms, and the
 * readers of the file (`esme list`, the checks at start) never hash.
 */
async function nodeCrypto(): Promise<typeof import('node:crypto')> {
  return (await import('node:crypto')).default;
}

async function scrypt(
  password: BinaryLike,
  salt: BinaryLike,
  keylen: number,
  options: ScryptOptions,
): Promise<Buffer> {
  const crypto = await nodeCrypto();
  return (promisify(crypto.scrypt) as (...args: Parameters<typeof scrypt>) => Promise<Buffer>)(
    password,
    salt,
    keylen,
    options,
  );
}

/**
 * ESME accounts from an INI file (`AccountsFile` in [smppd]), one section per system_id:
 *
 *   [alpha]
 *   password = scrypt$16384$8$1$<salt base64>$<hash base64>
 *   enabled = yes
 *   max_binds = 2            ; 0 = unlimited
 *   allow = 127.0.0.1/32, 10.0.0.0/8   ; default: anywhere
 *   throughput = 50          ; messages (parts) per second over all binds, 0 = unlimited
 *   mo = yes                 ; receives MO messages when no route names an ESME
 *   long_mo = udh            ; udh | sar | payload
 *   source_pattern = Shop    ; regex source_addr must match
 *   message_id = hex         ; hex | decimal, message_id_length = 16
 *   default_route = spool    ; when no route matches: spool (any modem), phone:<PhoneID>, none (refuse)
 *   default_cost = 0.01      ; per part on the default route
 *   prepaid = yes            ; charge route cost x parts against the credit (ledger in the state folder)
 *   simulate = yes           ; never send: KSMPPD's simulation, with
 *   simulate_deliver_every = 1, simulate_permanent_failure_every = 0,
 *   simulate_temporary_failure_every = 0, simulate_mo_every = 0   ; every Nth submit, 0 = never
 *
 * Passwords are only ever stored hashed. system_ids compare case-insensitively (as in KSMPPD).
 */
export interface Account {
  systemId: string;
  passwordHash: string;
  enabled: boolean;
  maxBinds: number;
  allow: Cidr[];
  /**
   * KSMPPD's connect_allow_ip patterns with `*` (`10.0.0.*`), for accounts from SQL or HTTP: a
   * peer matching one of them may bind too (as may one in `allow`).
   */
  allowPatterns?: readonly string[];
  throughput: number;
  mo: boolean;
  /** source_addr must match this (whole-string regex), else ESME_RINVSRCADR. */
  sourcePattern: RegExp | undefined;
  /** Message IDs: hex or decimal digits, this many. */
  messageId: { format: 'hex' | 'decimal'; length: number };
  /** How a long MO is delivered: UDH segments, SAR TLVs, or one deliver_sm with message_payload. */
  longMo: 'udh' | 'sar' | 'payload';
  /** When no route matches: `spool`, `phone:<PhoneID>` or `none`. */
  defaultRoute: string;
  defaultCost: number;
  prepaid: boolean;
  /** KSMPPD's simulation: nothing is sent; fake answers every Nth submit (0 = never). */
  simulate: Simulation | undefined;
  /**
   * The JSON API's webhook secret (HMAC key of the signature on its calls): a shared secret, so
   * kept as given, unlike the password. Accounts from SQL or HTTP have none.
   */
  webhookSecret?: string;
}

export class AccountsError extends Error {
  override name = 'AccountsError';
}

const KNOWN_KEYS = new Set([
  'password',
  'enabled',
  'max_binds',
  'allow',
  'throughput',
  'mo',
  'source_pattern',
  'message_id',
  'message_id_length',
  'long_mo',
  'default_route',
  'default_cost',
  'prepaid',
  'simulate',
  'simulate_deliver_every',
  'simulate_permanent_failure_every',
  'simulate_temporary_failure_every',
  'simulate_mo_every',
  'webhook_secret',
]);

export interface AccountsLoad {
  accounts: Map<string, Account>;
  warnings: string[];
}

export function parseAccounts(text: string, file: string): AccountsLoad {
  const { document } = parseIni(text, file, { isRawSection: () => true });
  const accounts = new Map<string, Account>();
  const warnings: string[] = [];
  for (const s of document.sections) {
    const where = `${file}:${s.line}`;
    const get = sectionReader(s, file, KNOWN_KEYS, `[${s.rawName}]`, warnings);
    const systemId = s.rawName;
    if (systemId.length === 0 || systemId.length > 15)
      throw new AccountsError(`${where}: system_id "${systemId}" must have 1 to 15 characters`);
    const passwordHash = get('password');
    if (!passwordHash || !passwordHash.startsWith('scrypt$'))
      throw new AccountsError(
        `${where}: [${systemId}] needs password = scrypt$N$r$p$salt$hash (never plain text)`,
      );
    parseHash(passwordHash, where);
    const num = (k: string, def: number): number => {
      const v = get(k);
      if (v === undefined) return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new AccountsError(`${where}: ${k} = ${v} is not a number >= 0`);
      return n;
    };
    const bool = (k: string, def: boolean): boolean => {
      const v = get(k);
      if (v === undefined) return def;
      const w = v.toLowerCase();
      if ((TRUE_WORDS as readonly string[]).includes(w)) return true;
      if ((FALSE_WORDS as readonly string[]).includes(w)) return false;
      throw new AccountsError(`${where}: ${k} = ${v} is not yes/no`);
    };
    let allow: Cidr[];
    try {
      allow = parseCidrList(get('allow') ?? '0.0.0.0/0, ::/0');
    } catch (err) {
      throw new AccountsError(`${where}: allow: ${(err as Error).message}`);
    }
    const format = (get('message_id') ?? 'hex').toLowerCase();
    if (format !== 'hex' && format !== 'decimal')
      throw new AccountsError(`${where}: message_id = ${format}; use hex or decimal`);
    const idLength = num('message_id_length', 16);
    if (idLength < 8 || idLength > 64) throw new AccountsError(`${where}: message_id_length must be 8 to 64`);
    const longMo = (get('long_mo') ?? 'udh').toLowerCase();
    if (longMo !== 'udh' && longMo !== 'sar' && longMo !== 'payload')
      throw new AccountsError(`${where}: long_mo = ${longMo}; use udh, sar or payload`);
    const defaultRoute = get('default_route') ?? 'spool';
    if (!/^(spool|none|phone:.+)$/i.test(defaultRoute))
      throw new AccountsError(
        `${where}: default_route = ${defaultRoute}; use spool, phone:<PhoneID> or none`,
      );
    const webhookSecret = get('webhook_secret');
    if (webhookSecret !== undefined && !/^[\x21-\x7e]{16,256}$/.test(webhookSecret))
      throw new AccountsError(
        `${where}: webhook_secret must be 16 to 256 printable characters without blanks (value not shown)`,
      );
    const every = (k: string): number => Math.floor(num(k, 0));
    const key = systemId.toLowerCase();
    if (accounts.has(key)) throw new AccountsError(`${where}: system_id ${systemId} defined twice`);
    accounts.set(key, {
      systemId,
      passwordHash,
      enabled: bool('enabled', true),
      maxBinds: Math.floor(num('max_binds', 0)),
      allow,
      throughput: num('throughput', 0),
      mo: bool('mo', false),
      sourcePattern: pattern(get('source_pattern'), where),
      messageId: { format, length: Math.floor(num('message_id_length', 16)) },
      longMo,
      defaultRoute,
      defaultCost: num('default_cost', 0),
      prepaid: bool('prepaid', false),
      simulate: bool('simulate', false) ? simulationSettings(every) : undefined,
      ...(webhookSecret ? { webhookSecret } : {}),
    });
  }
  return { accounts, warnings };
}

function pattern(text: string | undefined, where: string): RegExp | undefined {
  if (text === undefined) return undefined;
  try {
    return new RegExp(`^(?:${text})$`);
  } catch (err) {
    throw new AccountsError(`${where}: source_pattern: ${(err as Error).message}`);
  }
}

export function loadAccounts(file: string): AccountsLoad {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AccountsError(`cannot read AccountsFile ${file}: ${(err as Error).message}`);
  }
  return parseAccounts(text, file);
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function parseHash(s: string, where = 'password'): ParsedHash {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(s);
  if (!m) throw new AccountsError(`${where}: malformed scrypt hash`);
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || (N & (N - 1)) !== 0 || r < 1 || p < 1)
    throw new AccountsError(`${where}: bad scrypt parameters`);
  return { N, r, p, salt: Buffer.from(m[4] ?? '', 'base64'), hash: Buffer.from(m[5] ?? '', 'base64') };
}

const DEFAULT_COST = { N: 16384, r: 8, p: 1 };

/** MySQL's PASSWORD() (4.1 to 5.7, MariaDB): `*` + HEX(SHA1(SHA1(password))), as KSMPPD stores them. */
const LEGACY_HASH = /^\*[0-9A-Fa-f]{40}$/;

/** Is `s` a stored hash we can check: ours (scrypt) or MySQL's PASSWORD() of a KSMPPD database? */
export function checkPasswordHash(s: string): string | undefined {
  if (LEGACY_HASH.test(s)) return undefined;
  try {
    parseHash(s);
    return undefined;
  } catch (err) {
    return s.startsWith('scrypt$')
      ? (err as Error).message.replace(/^password: /, '')
      : 'not a scrypt$... hash nor a MySQL PASSWORD() hash (* and 40 hex digits)';
  }
}

/** `scrypt$N$r$p$salt$hash` for the accounts file (used by `esme add/set` and by tests). */
export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const crypto = await nodeCrypto();
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, 32, {
    N: cost.N,
    r: cost.r,
    p: cost.p,
    maxmem: 256 * cost.N * cost.r,
  });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

let dummyHash: Promise<string> | undefined;

/**
 * Constant-time check of `password` against a stored hash. For an unknown system_id pass the hash
 * of another account (same cost) and `known = false`: the answer is then always false, after the
 * same work as for a wrong password, so timing does not tell which system_ids exist.
 */
export async function verifyPassword(
  password: string,
  stored: string | undefined,
  known = stored !== undefined,
): Promise<boolean> {
  const crypto = await nodeCrypto();
  const dummy = (): Promise<string> => (dummyHash ??= hashPassword(crypto.randomBytes(6).toString('hex')));
  if (stored !== undefined && LEGACY_HASH.test(stored)) {
    // Checked here, never with the server's PASSWORD() (gone in MySQL 8, absent in PostgreSQL).
    // The scrypt round costs what a modern hash costs, so timing does not tell the two kinds
    // (nor a known system_id from an unknown one) apart.
    await verifyPassword(password, await dummy(), false);
    const inner = crypto.createHash('sha1').update(password, 'utf8').digest();
    const outer = crypto.createHash('sha1').update(inner).digest();
    return crypto.timingSafeEqual(outer, Buffer.from(stored.slice(1), 'hex')) && known;
  }
  const h = parseHash(stored ?? (await dummy()));
  const derived = await scrypt(password, h.salt, h.hash.length, {
    N: h.N,
    r: h.r,
    p: h.p,
    maxmem: 256 * h.N * h.r,
  });
  return crypto.timingSafeEqual(derived, h.hash) && known;
}

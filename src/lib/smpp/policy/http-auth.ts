import crypto from 'node:crypto';
import type { Logger } from '../../common/log.js';
import type { Account } from './accounts.js';
import { parseKannelIpList } from '../protocol/net.js';
import { STATUS } from '../protocol/pdu.js';
import { defaultRouteOf } from '../sql/load.js';
import { KsmppdHttpClient, headerNumber, headerSafe, headerText, PREFIX } from './ksmppd-http.js';

/**
 * KSMPPD's HTTP auth (auth-method = 2): `X-KSMPPD-system-id` and `X-KSMPPD-password` go to the
 * auth URL; HTTP 200 with a non-zero `X-KSMPPD-Auth` admits the bind, and optional headers carry
 * the account's settings (Throughput, Max-Binds, Simulate..., Default-SMSC, Default-SMSC-Cost,
 * Connect-Allow-IP). Ours beyond KSMPPD: `X-KSMPPD-Enable-Prepaid-Billing`,
 * `X-KSMPPD-Message-ID-Format` / `-Length`.
 *
 * Positive answers are cached for a short while (AuthCacheTime) under the system_id and an HMAC of
 * the password with a key that lives only in this process, so neither the password nor a plain
 * hash of it is kept. Refusals are not cached: a fixed password works at once. Binds asking with
 * the same credentials while a request is out share it.
 */

export type AuthOutcome =
  | { ok: true; account: Account }
  | {
      ok: false;
      status: number;
      why: string;
      /** Counts against the peer's IP block (not when the service is down: not the peer's fault). */
      strike: boolean;
    };

export interface HttpAuthOptions {
  url: string;
  timeoutMs: number;
  cacheMs: number;
  log: Logger;
}

export class HttpAuthenticator {
  private readonly client: KsmppdHttpClient;
  private readonly key = crypto.randomBytes(32);
  private readonly cache = new Map<string, { account: Account; until: number }>();
  private readonly pending = new Map<string, Promise<AuthOutcome>>();

  constructor(private readonly o: HttpAuthOptions) {
    this.client = new KsmppdHttpClient(
      'HTTP auth',
      o.url,
      o.timeoutMs,
      o.log,
      'binds are refused with ESME_RBINDFAIL',
    );
  }

  private cacheKey(systemId: string, password: string): string {
    return `${systemId.toLowerCase()}\0${crypto.createHmac('sha256', this.key).update(password).digest('base64')}`;
  }

  /** Forget every cached answer (routes rebuild). */
  clear(): void {
    this.cache.clear();
  }

  authenticate(systemId: string, password: string, now = Date.now()): Promise<AuthOutcome> {
    if (!headerSafe(systemId) || !headerSafe(password))
      return Promise.resolve({
        ok: false,
        status: STATUS.RINVPASWD,
        why: 'system_id or password has characters an HTTP header cannot carry',
        strike: true,
      });
    const key = this.cacheKey(systemId, password);
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return Promise.resolve({ ok: true, account: hit.account });
    if (hit) this.cache.delete(key);
    let p = this.pending.get(key);
    if (!p) {
      p = this.ask(systemId, password).then((outcome) => {
        if (outcome.ok && this.o.cacheMs > 0)
          this.cache.set(key, { account: outcome.account, until: Date.now() + this.o.cacheMs });
        return outcome;
      });
      const done = p.finally(() => this.pending.delete(key));
      this.pending.set(key, done);
      p = done;
    }
    return p;
  }

  private async ask(systemId: string, password: string): Promise<AuthOutcome> {
    const res = await this.client.get({
      [`${PREFIX}system-id`]: systemId,
      [`${PREFIX}password`]: password,
    });
    if (!res.ok)
      return {
        ok: false,
        status: STATUS.RBINDFAIL,
        why: `HTTP auth service unavailable (${res.error})`,
        strike: false,
      };
    const auth = headerNumber(res.headers, 'Auth');
    if (res.status !== 200 || auth === undefined || !Number.isFinite(auth) || auth === 0)
      return {
        ok: false,
        // What a wrong password gets from the file and SQL accounts, so all sources answer alike.
        status: STATUS.RINVPASWD,
        why: `refused by the HTTP auth service (HTTP ${res.status}, ${PREFIX}Auth ${auth === undefined ? 'missing' : String(auth)})`,
        strike: true,
      };
    const account = accountOfHeaders(systemId, res.headers);
    if (typeof account === 'string')
      return {
        ok: false,
        status: STATUS.RBINDFAIL,
        why: `HTTP auth answer unusable: ${account}`,
        strike: false,
      };
    return { ok: true, account };
  }
}

/** The numeric X-KSMPPD-* headers of an auth answer (finite, not negative). */
export const NUMERIC_AUTH_HEADERS = [
  'Throughput',
  'Max-Binds',
  'Simulate',
  'Simulate-Deliver-Every',
  'Simulate-MO-Every',
  'Permanent-Failure-Every',
  'Temporary-Failure-Every',
  'Default-SMSC-Cost',
  'Enable-Prepaid-Billing',
  'Message-ID-Length',
] as const;

/** The account the auth answer describes, or which header is wrong. */
export function accountOfHeaders(systemId: string, h: Headers): Account | string {
  const nums: Record<string, number> = {};
  for (const name of NUMERIC_AUTH_HEADERS) {
    const n = headerNumber(h, name);
    // Finite too: `Infinity` is no rate, count or cost (and NaN-poisons the token bucket).
    if (n !== undefined && !(Number.isFinite(n) && n >= 0))
      return `${PREFIX}${name}: ${h.get(`${PREFIX}${name}`) ?? ''} is not a number >= 0`;
    nums[name] = n ?? 0;
  }
  let ip: ReturnType<typeof parseKannelIpList>;
  try {
    ip = parseKannelIpList(headerText(h, 'Connect-Allow-IP') ?? '');
  } catch (err) {
    return `${PREFIX}Connect-Allow-IP: ${(err as Error).message}`;
  }
  const format = (headerText(h, 'Message-ID-Format') ?? 'hex').toLowerCase();
  if (format !== 'hex' && format !== 'decimal')
    return `${PREFIX}Message-ID-Format: ${format}; use hex or decimal`;
  const length = nums['Message-ID-Length'] || 16;
  if (!Number.isInteger(length) || length < 8 || length > 64)
    return `${PREFIX}Message-ID-Length: use 8 to 64`;
  const every = (k: string): number => Math.floor(nums[k] ?? 0);
  return {
    systemId,
    // Never checked locally: the service has said yes.
    passwordHash: '',
    enabled: true,
    maxBinds: every('Max-Binds'),
    allow: ip.allow,
    ...(ip.patterns.length > 0 ? { allowPatterns: ip.patterns } : {}),
    throughput: nums.Throughput ?? 0,
    mo: false,
    sourcePattern: undefined,
    messageId: { format, length },
    longMo: 'udh',
    defaultRoute: defaultRouteOf(headerText(h, 'Default-SMSC')),
    defaultCost: nums['Default-SMSC-Cost'] ?? 0,
    prepaid: (nums['Enable-Prepaid-Billing'] ?? 0) > 0,
    simulate:
      (nums.Simulate ?? 0) !== 0
        ? {
            deliverEvery: every('Simulate-Deliver-Every'),
            permanentFailureEvery: every('Permanent-Failure-Every'),
            temporaryFailureEvery: every('Temporary-Failure-Every'),
            moEvery: every('Simulate-MO-Every'),
          }
        : undefined,
  };
}

import type { Logger } from '../../common/log.js';

/**
 * The transport of KSMPPD's HTTP auth and routing (spec section 3): GET on the configured URL as
 * it is, request data in `X-KSMPPD-*` headers, answer in response headers, body ignored. Unlike
 * KSMPPD every request has a timeout, and an outage is logged once when it starts and once when
 * it ends (not per bind or message).
 */

export const PREFIX = 'X-KSMPPD-';

/** The URL for logs: user and password of `http://user:pw@host/` never appear. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    // not a URL (parsing only): nothing of it is logged
    return '(bad URL)';
  }
}

/** Header values go out as bytes; control characters and non-Latin-1 text cannot (fetch refuses them). */
export function headerSafe(value: string): boolean {
  return /^[\x20-\x7e\xa0-\xff]*$/.test(value);
}

export type HttpAnswer = { ok: true; status: number; headers: Headers } | { ok: false; error: string };

export class KsmppdHttpClient {
  private down = false;

  constructor(
    /** `HTTP auth` or `HTTP routing`, for the log. */
    private readonly what: string,
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    /** What happens meanwhile, for the outage line (`binds are refused with ESME_RBINDFAIL`). */
    private readonly meanwhile: string,
  ) {}

  /** One GET; `ok: false` when the service did not answer (refused, unreachable, timeout). */
  async get(headers: Record<string, string>): Promise<HttpAnswer> {
    try {
      const res = await fetch(this.url, {
        method: 'GET',
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The answer is in the headers; the body is read away so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (this.down) {
        this.down = false;
        this.log('info', `${this.what} service ${safeUrl(this.url)} answers again`);
      }
      return { ok: true, status: res.status, headers: res.headers };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const error =
        e.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs / 1000} s`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      if (!this.down) {
        this.down = true;
        this.log(
          'error',
          `${this.what} service ${safeUrl(this.url)} is down (${error}); ${this.meanwhile} until it answers`,
        );
      }
      return { ok: false, error };
    }
  }

  get isDown(): boolean {
    return this.down;
  }
}

/** A response header as a number, undefined when absent, NaN when not a number. */
export function headerNumber(headers: Headers, name: string): number | undefined {
  const v = headers.get(`${PREFIX}${name}`);
  if (v === null || v.trim() === '') return undefined;
  return Number(v.trim());
}

export function headerText(headers: Headers, name: string): string | undefined {
  const v = headers.get(`${PREFIX}${name}`)?.trim();
  return v ? v : undefined;
}

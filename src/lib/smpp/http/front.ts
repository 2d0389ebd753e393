import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../../common/log.js';
import type { Account } from '../policy/accounts.js';
import type { AuthOutcome } from '../policy/http-auth.js';
import { composeMessage } from '../protocol/mt.js';
import { normalizeIp, type FailureBlocklist } from '../protocol/net.js';
import { STATUS } from '../protocol/pdu.js';
import type { SubmitExtras, SubmitOrigin, SubmitPipeline } from '../protocol/submit.js';
import type { SubmitRequest } from '../protocol/mt.js';
import { JsonApi, type JsonApiDeps } from './json-api.js';
import { KANNEL_HEADERS, parseForm, parseSendsms, type Fields, type SendsmsRequest } from './sendsms.js';

/**
 * The HTTP front end of `smppd serve`: Kannel's `/cgi-bin/sendsms`, on smppd's accounts (the same
 * system_id and password as a bind, its allow-list, the bind-failure block) and through smppd's
 * submit pipeline (routes, prepaid credit, throughput, the store's group commit): answered
 * `202 0: Accepted for delivery` only once every message of the request is durable.
 */

export interface HttpFrontConfig {
  port: number;
  listen: string;
  /** Connections open at once; beyond it the kernel's backlog waits, then refuses. */
  maxConnections: number;
  /** Request bodies (POST) longer than this: 413, nothing read further. */
  maxBody: number;
  /** Time to send the headers (slowloris) and the whole request. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** The JSON API's Idempotency-Key bounds (HttpIdempotencyTtl, HttpIdempotencyKeys, ...PerAccount). */
  idempotency: { ttlMs: number; maxKeys: number; maxKeysPerAccount: number };
}

export interface HttpFrontDeps {
  admit(systemId: string, password: string, ip: string): Promise<AuthOutcome>;
  submits: SubmitPipeline;
  blocklist: FailureBlocklist;
  /** The store cannot take more right now (messages wait for their files): 503 until it can. */
  full(): boolean;
  stopping(): boolean;
  /** The JSON API under /v1/ (what it needs beyond the front end's logins, limits and holding). */
  json?: Omit<JsonApiDeps, 'login' | 'blocklist' | 'submits' | 'hold' | 'stopping' | 'maxBody' | 'log'>;
  /** The store holds messages back until a time (the spool; not yet the SQL outbox): else `deferred` is refused. */
  deferrable?: boolean;
  /** A modem is up that can send it now (Kannel: else `3: Queued for later delivery`). */
  canSend?: (phoneId: string | undefined) => boolean;
  log: Logger;
}

const SENDSMS = '/cgi-bin/sendsms';
/** Successful logins remembered (under an HMAC of the password): scrypt per request would cap us at ~30/s. */
const AUTH_CACHE_MAX = 10_000;
const AUTH_CACHE_MS = 300_000;
/** Submits taken and not yet answered over all requests: beyond it, 503 rather than memory. */
const MAX_PENDING = 20_000;
/** Requests held while the store is full (as SMPP sessions stop being read); beyond it, 503. */
const MAX_WAITING = 5_000;

interface Answer {
  status: number;
  text: string;
  headers?: Record<string, string>;
}

export class HttpFront {
  private readonly server: http.Server;
  private readonly cacheKey = crypto.randomBytes(32);
  private readonly authCache = new Map<string, { account: Account; until: number }>();
  private readonly authPending = new Map<string, Promise<AuthOutcome>>();
  private pending = 0;
  private readonly waiting: (() => void)[] = [];
  readonly counters = { accepted: 0, refused: 0, requests: 0 };
  readonly json: JsonApi | undefined;

  constructor(
    private readonly c: HttpFrontConfig,
    private readonly d: HttpFrontDeps,
  ) {
    this.server = http.createServer(
      {
        headersTimeout: c.headersTimeoutMs,
        requestTimeout: c.requestTimeoutMs,
        keepAliveTimeout: 30_000,
        maxHeaderSize: 16_384,
      },
      (req, res) => this.onRequest(req, res),
    );
    this.server.maxConnections = c.maxConnections;
    this.json =
      d.json &&
      new JsonApi({
        ...d.json,
        login: (u, p, ip) => this.login(u, p, ip),
        blocklist: d.blocklist,
        submits: d.submits,
        hold: (go) => this.hold(go),
        stopping: d.stopping,
        maxBody: c.maxBody,
        log: d.log,
      });
    this.server.on('clientError', (err: Error & { code?: string }, socket: net.Socket) => {
      if (socket.writable && err.code !== 'ECONNRESET')
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.c.port, this.c.listen, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.d.log('error', `HTTP listener: ${err.message}`));
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** The store has room again: the requests held for it go on, oldest first. */
  room(): void {
    while (this.waiting.length > 0 && !this.d.full()) this.waiting.shift()?.();
  }

  /** Accounts reloaded: a changed password or allow-list counts from the next request. */
  clearAuthCache(): void {
    this.authCache.clear();
  }

  /** Stops accepting; requests in progress get their answer (the store drains them), idle connections close. */
  close(): Promise<void> {
    // Held requests are taken now: the store drains everything taken before the shutdown ends.
    for (const go of this.waiting.splice(0)) go();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    return closed;
  }

  /** After the store drained: whatever is still connected goes. */
  destroyConnections(): void {
    this.server.closeAllConnections();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counters.requests++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const send = (a: Answer): void => this.send(res, a);
    if (this.json && path.startsWith('/v1/')) return this.json.handle(req, res, path);
    if (path !== SENDSMS) {
      req.resume();
      return send({ status: 404, text: `Unknown service ${path.slice(0, 100)}; this server has ${SENDSMS}` });
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      req.resume();
      return send({ status: 405, text: 'Only GET and POST', headers: { Allow: 'GET, POST' } });
    }
    const fields = parseForm(q < 0 ? '' : url.slice(q + 1));
    if (req.method === 'GET') {
      req.resume();
      return this.sendsms(req, fields, send);
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > this.c.maxBody) return this.tooLarge(req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.c.maxBody) {
        req.removeAllListeners('data');
        return this.tooLarge(req, res);
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > this.c.maxBody) return;
      const body = Buffer.concat(chunks);
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (type === 'application/x-www-form-urlencoded') parseForm(body.toString('latin1'), fields);
      else if (type === 'text/plain' || type === 'application/octet-stream') {
        // Kannel's POST: the text is the body, everything else in X-Kannel-* headers.
        for (const [h, name] of Object.entries(KANNEL_HEADERS)) {
          const v = req.headers[h];
          if (typeof v === 'string' && !fields.has(name)) fields.set(name, Buffer.from(v, 'latin1'));
        }
        const charset = /charset=([^;\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
        if (charset && !fields.has('charset')) fields.set('charset', Buffer.from(charset, 'latin1'));
        if (type === 'application/octet-stream' && !fields.has('coding'))
          fields.set('coding', Buffer.from('1'));
        fields.set('text', body);
      } else return send({ status: 400, text: 'Invalid content-type' });
      this.sendsms(req, fields, send);
    });
  }

  private tooLarge(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (res.headersSent) return;
    this.send(res, {
      status: 413,
      text: `Request body longer than ${this.c.maxBody} bytes, rejected`,
      headers: { Connection: 'close' },
    });
    // Nothing more is read: the rest of a huge body costs the sender, not us.
    res.on('finish', () => req.socket.destroy());
  }

  private send(res: http.ServerResponse, a: Answer): void {
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(a.text, 'utf8');
    res.writeHead(a.status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': body.length,
      ...(this.d.stopping() ? { Connection: 'close' } : {}),
      ...a.headers,
    });
    res.end(body);
  }

  /** Runs `go` now, or once the store has room (bounded); false when too many wait already. */
  private hold(go: () => void): boolean {
    if (!this.d.full()) {
      go();
      return true;
    }
    if (this.waiting.length >= MAX_WAITING) return false;
    this.waiting.push(go);
    return true;
  }

  private sendsms(req: http.IncomingMessage, fields: Fields, send: (a: Answer) => void): void {
    const ip = normalizeIp(req.socket.remoteAddress ?? '?');
    const user = (fields.get('username') ?? fields.get('user'))?.toString('utf8');
    const password = (fields.get('password') ?? fields.get('pass'))?.toString('utf8');
    const denied = (why: string): void => {
      this.counters.refused++;
      this.d.log('warn', `HTTP sendsms from ${ip} as "${user ?? ''}" refused: ${why}`);
      send({ status: 403, text: 'Authorization failed for sendsms' });
    };
    if (this.d.stopping())
      return send({ status: 503, text: 'Shutting down, try again later', headers: { 'Retry-After': '5' } });
    if (this.d.blocklist.blocked(ip)) return denied('address blocked after failed logins');
    if (user === undefined || password === undefined) return denied('no username or password');
    this.login(user, password, ip).then(
      (outcome) => {
        if (!outcome.ok) {
          if (outcome.strike) this.d.blocklist.fail(ip);
          return denied(outcome.why);
        }
        this.take(outcome.account, fields, ip, send);
      },
      (err: Error) => {
        this.d.log('error', `HTTP sendsms from ${ip}: authentication failed: ${err.message}`);
        send({ status: 500, text: 'Authentication not possible now, try again later' });
      },
    );
  }

  /** smppd's admission, with successful ones remembered (and concurrent identical ones joined). */
  private login(user: string, password: string, ip: string): Promise<AuthOutcome> {
    const key = `${user.toLowerCase()}\0${ip}\0${crypto.createHmac('sha256', this.cacheKey).update(password).digest('base64')}`;
    const hit = this.authCache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return Promise.resolve({ ok: true, account: hit.account });
    let p = this.authPending.get(key);
    if (!p) {
      p = this.d.admit(user, password, ip).then((outcome) => {
        if (outcome.ok) {
          if (this.authCache.size >= AUTH_CACHE_MAX) this.authCache.clear();
          this.authCache.set(key, { account: outcome.account, until: Date.now() + AUTH_CACHE_MS });
        }
        return outcome;
      });
      const clear = (): void => void this.authPending.delete(key);
      p.then(clear, clear);
      this.authPending.set(key, p);
    }
    return p;
  }

  private take(account: Account, fields: Fields, ip: string, send: (a: Answer) => void): void {
    const refuse = (status: number, text: string, headers?: Record<string, string>): void => {
      this.counters.refused++;
      this.d.log('info', `HTTP sendsms from ${ip} as ${account.systemId} refused (${status}): ${text}`);
      send({ status, text, ...(headers ? { headers } : {}) });
    };
    const parsed = parseSendsms(fields);
    if (!parsed.ok) return refuse(parsed.status, parsed.text);
    const r = parsed.request;
    if (r.deferred && !this.d.deferrable)
      return refuse(
        400,
        'Deferred field: delivery at a later time is not available with the SQL outbox yet, rejected',
      );
    const now = new Date();
    // Every message is built before any is taken: a request is refused whole or submitted whole.
    const built: SubmitRequest[] = [];
    for (const m of r.messages) {
      const c = composeMessage(m, now);
      if (!c.ok) return refuse(400, `${c.reason}, rejected`);
      built.push(c.request);
    }
    if (this.pending + built.length > MAX_PENDING)
      return refuse(503, 'Too many messages waiting to be stored, try again later', { 'Retry-After': '1' });
    // While the store is full: held like an SMPP session that is not read meanwhile; bounded, then refused.
    if (!this.hold(() => this.submitAll(account, built, r, ip, now, send)))
      return refuse(503, 'Too many messages waiting to be stored, try again later', { 'Retry-After': '1' });
  }

  private submitAll(
    account: Account,
    built: SubmitRequest[],
    r: SendsmsRequest,
    ip: string,
    now: Date,
    send: (a: Answer) => void,
  ): void {
    const extras: SubmitExtras = {
      ...(r.dlr ? { dlr: { ...r.dlr, from: r.from, user: account.systemId } } : {}),
      ...(r.smsc ? { phone: r.smsc } : {}),
      ...(r.deferred ? { after: new Date(now.getTime() + r.deferred * 60_000).toISOString() } : {}),
    };
    let open = built.length;
    const ids: string[] = [];
    const failed: { to: string; status: number; why: string }[] = [];
    const done = (): void => {
      if (--open > 0) return;
      if (failed.length === 0) {
        this.counters.accepted += ids.length;
        const queued = this.d.canSend && !this.d.canSend(r.smsc);
        return send({
          status: 202,
          text: queued ? '3: Queued for later delivery' : '0: Accepted for delivery',
          headers: { 'X-Message-Id': ids.join(' ') },
        });
      }
      this.counters.refused++;
      const first = failed[0] as { to: string; status: number; why: string };
      const a = refusalAnswer(first.status, first.why);
      if (built.length > 1) a.text += ` Failed receivers are: ${failed.map((f) => f.to).join(' ')}`;
      if (ids.length > 0) a.headers = { ...a.headers, 'X-Message-Id': ids.join(' ') };
      this.d.log(
        'info',
        `HTTP sendsms from ${ip} as ${account.systemId}: ${failed.length} of ${built.length} refused: ${first.why}`,
      );
      send(a);
    };
    for (const req of built) {
      const origin: SubmitOrigin = {
        label: () => `HTTP ${account.systemId} from ${ip}`,
        pending: (delta) => {
          this.pending += delta;
        },
        accepted: (id) => {
          ids.push(id);
          done();
        },
        refused: (status, why) => {
          failed.push({ to: req.destination, status, why });
          done();
        },
      };
      this.d.submits.submit(origin, account, req, now, extras);
    }
  }
}

/** What the pipeline's SMPP status means to an HTTP client. */
function refusalAnswer(status: number, why: string): Answer {
  if (status === STATUS.RTHROTTLED)
    return { status: 503, text: `Throttled: ${why}, try again later`, headers: { 'Retry-After': '1' } };
  if (status === STATUS.RSYSERR) return { status: 500, text: `Sending failed. ${why}` };
  if (why.startsWith('insufficient credit')) return { status: 402, text: `${why}, rejected` };
  if (status === STATUS.RINVSRCADR)
    return { status: 400, text: `Sender (from) not allowed: ${why}, rejected` };
  if (status === STATUS.RINVDSTADR)
    return { status: 400, text: `Receiver (to) not allowed: ${why}, rejected` };
  return { status: 400, text: `${why}, rejected` };
}

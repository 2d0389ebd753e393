import type http from 'node:http';
import type { Logger } from '../../common/log.js';
import type { Account } from '../policy/accounts.js';
import type { AuthOutcome } from '../policy/http-auth.js';
import { newMessageId } from '../protocol/mt.js';
import { normalizeIp, type FailureBlocklist } from '../protocol/net.js';
import { STATUS } from '../protocol/pdu.js';
import type { SubmitExtras, SubmitPipeline } from '../protocol/submit.js';
import type { MessageLookup } from '../store/message-store.js';
import type { IdempotencyKeys, KeyRecord, StoredAnswer } from './idempotency.js';
import {
  parseMessagesRequest,
  requestHash,
  shown,
  type ApiError,
  type MessagesRequest,
} from './json-request.js';
import type { MessageView } from './json-status.js';

/**
 * The JSON API beside Kannel's sendsms on smppd's HTTP port (http/openapi.json describes it):
 * `POST /v1/messages` through the same submit pipeline (account, allow-list, throughput, routes,
 * credit, the store's group commit; 202 only once every message is durable), `GET
 * /v1/messages/{id}`, `GET /v1/openapi.json`. Accounts log in with HTTP Basic (system_id and
 * password), through the front end's login cache and failed-login block.
 */

export interface JsonApiDeps {
  login(user: string, password: string, ip: string): Promise<AuthOutcome>;
  blocklist: FailureBlocklist;
  submits: SubmitPipeline;
  /** Runs `go` now, or once the store has room; false: too many held, refuse. */
  hold(go: () => void): boolean;
  stopping(): boolean;
  maxBody: number;
  keys: IdempotencyKeys;
  /** Whether a message exists (a key left unresolved by a crash). */
  messages: MessageLookup;
  /** A message for GET; undefined: this store cannot show one (501). */
  view: ((id: string, systemId: string) => Promise<MessageView | undefined>) | undefined;
  /** Webhooks can be produced (the spool; not the SQL outbox). */
  webhooks: boolean;
  openapi(): Buffer;
  log: Logger;
}

/** Submits taken and not yet answered over all JSON requests: beyond it, 503 rather than memory. */
const MAX_PENDING = 20_000;

type Recipient = { to: string; id: string } | { to: string; error: { code: string; message: string } };

export class JsonApi {
  private pending = 0;
  readonly counters = { accepted: 0, refused: 0, replayed: 0 };

  constructor(private readonly d: JsonApiDeps) {}

  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const send = (a: StoredAnswer, headers: Record<string, string> = {}): void => this.send(res, a, headers);
    const fail = (e: ApiError, headers?: Record<string, string>): void => {
      req.resume();
      send({ status: e.status, body: { error: { code: e.code, message: e.message } } }, headers);
    };
    if (path === '/v1/openapi.json' && req.method === 'GET') {
      req.resume();
      const doc = this.d.openapi();
      if (res.headersSent) return;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': doc.length });
      return void res.end(doc);
    }
    const byId = /^\/v1\/messages\/([^/]+)$/.exec(path);
    if (path === '/v1/messages' ? req.method !== 'POST' : byId && req.method !== 'GET')
      return fail(
        { status: 405, code: 'method_not_allowed', message: `${req.method ?? ''} ${path}: not allowed` },
        { Allow: byId ? 'GET' : 'POST' },
      );
    if (path !== '/v1/messages' && !byId)
      return fail({ status: 404, code: 'not_found', message: `no such resource: ${shown(path)}` });
    if (this.d.stopping())
      return fail(
        { status: 503, code: 'shutting_down', message: 'shutting down, try again later' },
        { 'Retry-After': '5' },
      );
    const ip = normalizeIp(req.socket.remoteAddress ?? '?');
    const auth = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
    const decoded = auth ? Buffer.from(auth[1] ?? '', 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const unauthorized = (why: string): void => {
      this.counters.refused++;
      this.d.log('warn', `HTTP ${path.slice(0, 40)} from ${ip} refused: ${why}`);
      fail(
        {
          status: 401,
          code: 'unauthorized',
          message: 'HTTP Basic authentication with system_id and password required',
        },
        { 'WWW-Authenticate': 'Basic realm="smsgate", charset="UTF-8"' },
      );
    };
    if (this.d.blocklist.blocked(ip)) {
      this.counters.refused++;
      return fail({ status: 403, code: 'blocked', message: 'address blocked after failed logins' });
    }
    if (!byId && this.badBody(req, res)) return;
    if (colon < 0) return unauthorized('no Basic credentials');
    const user = decoded.slice(0, colon);
    this.d.login(user, decoded.slice(colon + 1), ip).then(
      (outcome) => {
        if (!outcome.ok) {
          if (outcome.strike) this.d.blocklist.fail(ip);
          return unauthorized(`${shown(user)}: ${outcome.why}`);
        }
        if (byId) {
          req.resume();
          let id: string;
          try {
            id = decodeURIComponent(byId[1] ?? '');
          } catch {
            id = byId[1] ?? ''; // not percent-encoding: an ID nobody has
          }
          return void this.get(outcome.account, id, send);
        }
        this.readBody(req, res, (body) => {
          try {
            this.post(req, outcome.account, body, ip, send, fail);
          } catch (err) {
            // A bug must cost this request, not the server; nothing was stored (post stores last).
            this.d.log('error', `HTTP POST /v1/messages from ${ip}: ${(err as Error).message}`);
            fail({ status: 500, code: 'internal', message: 'the request could not be handled' });
          }
        });
      },
      (err: Error) => {
        this.d.log('error', `HTTP ${path} from ${ip}: authentication failed: ${err.message}`);
        fail({
          status: 500,
          code: 'auth_unavailable',
          message: 'authentication not possible now, try again later',
        });
      },
    );
  }

  private send(res: http.ServerResponse, a: StoredAnswer, headers: Record<string, string>): void {
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(JSON.stringify(a.body));
    res.writeHead(a.status, {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      ...(this.d.stopping() ? { Connection: 'close' } : {}),
      ...headers,
    });
    res.end(body);
  }

  /** The body, or 415/413 without reading further. */
  /** 413/415 with the connection closed: nothing more is read, the rest of a body costs the sender, not us. */
  private refuseBody(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    code: string,
    message: string,
  ): void {
    this.counters.refused++;
    this.send(res, { status, body: { error: { code, message } } }, { Connection: 'close' });
    res.on('finish', () => req.socket.destroy());
  }

  /** What the headers already say is wrong with a body (before the login: it costs nothing). */
  private badBody(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (type !== 'application/json')
      this.refuseBody(
        req,
        res,
        415,
        'unsupported_media_type',
        `Content-Type ${shown(type)}: use application/json`,
      );
    else if (Number(req.headers['content-length'] ?? 0) > this.d.maxBody)
      this.refuseBody(
        req,
        res,
        413,
        'body_too_large',
        `the body is longer than ${this.d.maxBody} bytes (HttpMaxBody)`,
      );
    else return false;
    return true;
  }

  /** The body, or 413 as soon as it grows past HttpMaxBody. */
  private readBody(req: http.IncomingMessage, res: http.ServerResponse, then: (body: Buffer) => void): void {
    const max = this.d.maxBody;
    const refuse = (status: number, code: string, message: string): void =>
      this.refuseBody(req, res, status, code, message);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        return refuse(413, 'body_too_large', `the body is longer than ${max} bytes (HttpMaxBody)`);
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size <= max) then(Buffer.concat(chunks));
    });
  }

  private async get(account: Account, id: string, send: (a: StoredAnswer) => void): Promise<void> {
    if (!this.d.view)
      return send({
        status: 501,
        body: {
          error: {
            code: 'not_implemented',
            message: 'GET /v1/messages/{id} is not available with the SQL outbox ([smsd] Service = sql) yet',
          },
        },
      });
    let v: MessageView | undefined;
    try {
      v = await this.d.view(id, account.systemId);
    } catch (err) {
      this.d.log('error', `GET /v1/messages/${id}: ${(err as Error).message}`);
      return send({
        status: 500,
        body: { error: { code: 'internal', message: 'the message could not be read' } },
      });
    }
    // Another account's message is as absent as one that never was.
    if (!v)
      return send({
        status: 404,
        body: { error: { code: 'not_found', message: `no message ${shown(id)}` } },
      });
    send({ status: 200, body: v });
  }

  private post(
    req: http.IncomingMessage,
    account: Account,
    raw: Buffer,
    ip: string,
    send: (a: StoredAnswer, headers?: Record<string, string>) => void,
    fail: (e: ApiError, headers?: Record<string, string>) => void,
  ): void {
    const refuse = (e: ApiError, headers?: Record<string, string>): void => {
      this.counters.refused++;
      this.d.log(
        'info',
        `HTTP POST /v1/messages from ${ip} as ${account.systemId} refused (${e.status}): ${e.message}`,
      );
      fail(e, headers);
    };
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return refuse({
        status: 400,
        code: 'invalid_json',
        message: `the body is not JSON: ${(err as Error).message}`,
      });
    }
    const parsed = parseMessagesRequest(value, new Date());
    if (!parsed.ok) return refuse(parsed.error);
    const r = parsed.request;
    if (r.webhook && !this.d.webhooks)
      return refuse({
        status: 400,
        code: 'invalid_field',
        message: 'webhook: not available with the SQL outbox yet',
      });
    if (r.webhook && !account.webhookSecret)
      return refuse({
        status: 400,
        code: 'invalid_field',
        message: `webhook = ${shown(r.webhook)}: account ${account.systemId} has no webhook_secret to sign it with`,
      });
    const key = req.headers['idempotency-key'];
    if (key === undefined) {
      const ids = r.to.map(() => newMessageId(account.messageId));
      return this.submit(account, r, ids, ip, new Set(), (a) => {
        send(a);
      });
    }
    if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key))
      return refuse({
        status: 400,
        code: 'invalid_idempotency_key',
        message: `Idempotency-Key ${shown(key)}: 1 to 255 printable ASCII characters`,
      });
    const claim = this.d.keys.claim(account.systemId, key, requestHash(value), () =>
      r.to.map(() => newMessageId(account.messageId)),
    );
    const replay = (a: StoredAnswer): void => {
      this.counters.replayed++;
      send(a, { 'Idempotent-Replayed': 'true' });
    };
    switch (claim.kind) {
      case 'mismatch':
        return refuse({
          status: 422,
          code: 'idempotency_key_reused',
          message: `Idempotency-Key ${shown(key)} was used with a different request`,
        });
      case 'full':
        return refuse(
          {
            status: 429,
            code: 'idempotency_keys_exhausted',
            message: `${claim.why}; keys expire after HttpIdempotencyTtl`,
          },
          { 'Retry-After': String(claim.retryAfterS) },
        );
      case 'done':
        return replay(claim.record.answer as StoredAnswer);
      case 'running':
        return void claim.result.then(replay);
      case 'unresolved':
        this.d.keys.run(claim.record);
        return void this.resolve(account, r, claim.record, ip).then(replay, (err: Error) => {
          // The store could not be asked: the key stays unresolved for the next retry.
          this.d.log('error', `Idempotency-Key of ${account.systemId}: store not readable: ${err.message}`);
          const a = errorAnswer({
            status: 503,
            code: 'unavailable',
            message: 'the store cannot be read now, try again',
          });
          this.d.keys.release(claim.record, a);
          send(a, { 'Retry-After': '1' });
        });
      case 'new': {
        const record = claim.record;
        this.d.keys.run(record);
        // The key and its IDs are durable before any message is handed to the store.
        this.d.keys.begin(record).then(
          () =>
            this.submit(account, r, record.ids, ip, new Set(), (a) =>
              this.finish(record, a, new Set(), send),
            ),
          (err: Error) => {
            const a = errorAnswer({
              status: 503,
              code: 'unavailable',
              message: `idempotency key not recorded: ${err.message}`,
            });
            this.d.keys.drop(record, a, false);
            send(a, { 'Retry-After': '1' });
          },
        );
      }
    }
  }

  /** A key a previous run began and did not answer: the messages that exist are kept, the rest stored now. */
  private async resolve(
    account: Account,
    r: MessagesRequest,
    record: KeyRecord,
    ip: string,
  ): Promise<StoredAnswer> {
    const stored = new Set<number>();
    for (const [i, id] of record.ids.entries())
      if ((await this.d.messages.query(id, account.systemId)) !== undefined) stored.add(i);
    this.d.log(
      'warn',
      `Idempotency-Key of ${account.systemId} left unanswered by the last run: ${stored.size} of ${record.ids.length} message(s) found stored, storing the rest`,
    );
    return new Promise((resolve) =>
      this.submit(account, r, record.ids, ip, stored, (a) => this.finish(record, a, stored, resolve)),
    );
  }

  /** A keyed request's answer: kept with the key if anything was stored, else the key is free again. */
  private finish(
    record: KeyRecord,
    a: StoredAnswer,
    before: Set<number>,
    send: (a: StoredAnswer) => void,
  ): void {
    if (a.status === 202 || before.size > 0) this.d.keys.end(record, a);
    else this.d.keys.drop(record, a);
    send(a);
  }

  /** Every recipient through the pipeline (those in `skip` are stored already); one answer when all are. */
  private submit(
    account: Account,
    r: MessagesRequest,
    ids: string[],
    ip: string,
    skip: Set<number>,
    answer: (a: StoredAnswer) => void,
  ): void {
    const todo = r.messages.length - skip.size;
    if (this.pending + todo > MAX_PENDING)
      return answer(
        errorAnswer({
          status: 503,
          code: 'busy',
          message: 'too many messages waiting to be stored, try again later',
        }),
      );
    const results: Recipient[] = r.to.map((to, i) => ({ to, id: ids[i] ?? '' }));
    const refusals: { status: number; why: string }[] = [];
    let open = todo;
    const done = (): void => {
      if (--open > 0) return;
      const ok = results.filter((x) => 'id' in x);
      if (ok.length === 0) {
        this.counters.refused++;
        const first = refusals[0] ?? { status: STATUS.RSYSERR, why: 'nothing stored' };
        return answer(errorAnswer(pipelineError(first.status, first.why)));
      }
      this.counters.accepted += todo - refusals.length;
      answer({ status: 202, body: { id: (ok[0] as { id: string }).id, recipients: results } });
    };
    if (todo === 0) {
      open = 1;
      return done();
    }
    const extras: SubmitExtras = r.webhook ? { hook: { url: r.webhook } } : {};
    const go = (): void => {
      const now = new Date();
      for (const [i, msg] of r.messages.entries()) {
        if (skip.has(i)) continue;
        this.d.submits.submit(
          {
            label: () => `HTTP ${account.systemId} from ${ip}`,
            pending: (delta) => (this.pending += delta),
            accepted: () => done(),
            refused: (status, why) => {
              const e = pipelineError(status, why);
              results[i] = { to: r.to[i] ?? '', error: { code: e.code, message: e.message } };
              refusals.push({ status, why });
              done();
            },
          },
          account,
          msg,
          now,
          { ...extras, id: ids[i] },
        );
      }
    };
    if (!this.d.hold(go))
      answer(
        errorAnswer({
          status: 503,
          code: 'busy',
          message: 'too many messages waiting to be stored, try again later',
        }),
      );
  }
}

function errorAnswer(e: ApiError): StoredAnswer {
  return { status: e.status, body: { error: { code: e.code, message: e.message } } };
}

/** What the pipeline's SMPP status means to an HTTP client. */
function pipelineError(status: number, why: string): ApiError {
  if (status === STATUS.RTHROTTLED)
    return { status: 429, code: 'throttled', message: `${why}, try again later` };
  if (status === STATUS.RSYSERR) return { status: 500, code: 'not_stored', message: why };
  if (why.startsWith('insufficient credit'))
    return { status: 402, code: 'insufficient_credit', message: why };
  if (status === STATUS.RINVSRCADR)
    return { status: 400, code: 'sender_not_allowed', message: `from: ${why}` };
  if (status === STATUS.RINVDSTADR)
    return { status: 400, code: 'receiver_not_allowed', message: `to: ${why}` };
  return { status: 400, code: 'refused', message: why };
}

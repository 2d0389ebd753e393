import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { LogLevel, Logger } from '../../common/log.js';
import type { AdminConfig } from '../config.js';
import type { SmppServer } from '../protocol/server.js';
import type { Session } from '../protocol/session.js';
import type { Account } from '../policy/accounts.js';
import type { LatencyHistogram } from '../../common/histogram.js';
import { normalizeIp, type FailureBlocklist } from '../protocol/net.js';

/**
 * The admin HTTP interface of `smppd serve`, KSMPPD-compatible (spec/ksmppd.md §4): the command is
 * the URL path, `.json` or `.xml` chooses the format (plain text otherwise), arguments come from
 * the query string. Every request needs the password (`password` parameter or `X-Admin-Password`
 * header); without it: 401 and nothing done. `/metrics` is Prometheus text.
 */

export interface AdminActions {
  server: SmppServer;
  /** Queued deliver_sm entries per system_id (lower case). */
  queued(systemId: string): number;
  /** System ids with a queue (lower case). */
  queuedSystemIds(): string[];
  /** `/rebuild-routes`: re-reads the accounts and routes (files or SQL); returns what was done. Rejects on a bad source. */
  rebuild(): Promise<string>;
  /** Is `systemId` an account (in the accounts file as last read)? */
  knownAccount(systemId: string): boolean;
  setLogLevel(level: LogLevel): void;
  /** submit → delivered latency (receipts), for /metrics. */
  deliveryLatency?: LatencyHistogram;
  /** `/esme-credit`: adds `amount` (may be negative) to a prepaid account, or only reads it; the new balance. */
  credit(systemId: string, amount: number | undefined, note: string): Promise<number>;
  startedAt: number;
  /** More Prometheus lines (MO to URL queue, ...). */
  extraMetrics?: () => string[];
  log: Logger;
  /** Wrong passwords per IP (the SMPP binds' policy, BlockAttempts/BlockTime): then 429 unchecked. */
  blocklist?: FailureBlocklist;
}

/** A request body larger than this is refused (413): the interface takes its arguments in the URL. */
const MAX_BODY = 64 * 1024;

type Format = 'text' | 'json' | 'xml';

interface Reply {
  status: number;
  /** Plain text body (a newline is added). */
  text: string;
  /** JSON body; XML is made from it under `root`. */
  data: unknown;
  root: string;
  /** XML body when it is not simply `data` under `root` (KSMPPD's shape). */
  xml?: string;
}

const BIND_TYPE_NUMBER = { tx: 1, rx: 2, trx: 3 } as const;

/** KSMPPD's levels are gwlib's numbers; names are accepted too. */
const LEVELS: Record<string, LogLevel> = {
  '0': 'debug',
  '1': 'info',
  '2': 'warn',
  '3': 'error',
  '4': 'error',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
};

const COMMANDS = [
  '/esme-status',
  '/esme-unbind',
  '/esme-credit',
  '/rebuild-routes',
  '/uptime',
  '/log-level',
  '/metrics',
];

/** Same-length digests make the comparison constant-time whatever the guess's length. */
function passwordMatches(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

export function uptimeText(seconds: number): string {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h ${Math.floor((s % 3600) / 60)}m ${s % 60}s`;
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Objects become elements, arrays repeat their element under the singular of the parent's name. */
export function toXml(name: string, value: unknown): string {
  if (Array.isArray(value)) {
    const item = name.endsWith('s') ? name.slice(0, -1) : 'item';
    return `<${name}>${value.map((v) => toXml(item, v)).join('')}</${name}>`;
  }
  if (value !== null && typeof value === 'object')
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => toXml(k, v))
      .join('')}</${name}>`;
  if (typeof value === 'boolean') return `<${name}>${value ? 'yes' : 'no'}</${name}>`;
  return `<${name}>${xmlEscape(value === undefined || value === null ? '' : String(value as string | number))}</${name}>`;
}

const message = (status: number, text: string, root = 'status'): Reply => ({
  status,
  text,
  data: { status: text },
  root,
});

type EsmeEntry = ReturnType<AdminServer['esmes']>[number];

/** KSMPPD's /esme-status.xml element names and nesting (scrapers of it read ours), with our extras. */
function ksmppdXml(esmes: readonly EsmeEntry[], inbound: number, outbound: number): string {
  const el = (name: string, v: string | number): string => toXml(name, v);
  const summary = `<summary>${el('unique', esmes.length)}${el('inbound-processed', inbound)}${el('outbound-processed', outbound)}</summary>`;
  const esme = (e: EsmeEntry): string =>
    `<esme>${el('system-id', e['system-id'])}${el('bind-count', e['bind-count'])}${el('max-binds', e['max-binds'])}${el('max-inbound-load', e.throughput)}${el('outbound-queued', e.queued)}${e.binds
      .map(
        (b) =>
          `<bind>${el('bind-id', b['bind-id'])}${el('ip', b.ip)}${el('uptime', b.uptime)}${el('bind-type', BIND_TYPE_NUMBER[b['bind-type']])}${el('open-acks', b['open-acks'])}${el('inbound-processed', b['messages-in'])}${el('outbound-processed', b['messages-out'])}${el('bound-since', b['bound-since'])}${el('window', b.window)}</bind>`,
      )
      .join('')}</esme>`;
  return `<esmes>${summary}${esmes.map(esme).join('')}</esmes>`;
}

export class AdminServer {
  private readonly http: http.Server;
  private deniedSinceLog = 0;
  private deniedLoggedAt = 0;

  constructor(
    private readonly config: AdminConfig,
    private readonly a: AdminActions,
  ) {
    const timeout = config.requestTimeoutMs ?? 10_000;
    this.http = http.createServer(
      {
        // A client trickling its headers (or body) is cut off, checked often enough to matter.
        headersTimeout: timeout,
        requestTimeout: timeout,
        connectionsCheckingInterval: Math.max(100, Math.min(1_000, timeout / 2)),
        keepAliveTimeout: 5_000,
        maxHeaderSize: 16 * 1024,
      },
      (req, res) => this.handle(req, res),
    );
    // More connections than this are closed as they come (Node's answer at the bound).
    this.http.maxConnections = config.maxConnections ?? 32;
    this.http.on('error', (err) => a.log('error', `admin HTTP: ${err.message}`));
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.config.port, this.config.listen, () => {
        this.http.off('error', reject);
        resolve(this.http.address() as net.AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.respond(req, res).catch((err: unknown) => {
      // A bug of ours costs this request, never the SMPP server.
      this.a.log('error', `admin HTTP ${req.url ?? ''}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal error\n');
    });
  }

  private async respond(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin');
    } catch {
      // `//%zz/...` reads as a host name and is no URL: the client's error, not ours.
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Bad request target\n');
      return;
    }
    let command = url.pathname;
    let format: Format = 'text';
    const m = /^(.*)\.(json|xml)$/.exec(command);
    if (m) {
      command = m[1] ?? '';
      format = m[2] as Format;
    }
    const header = req.headers['x-admin-password'];
    const given = url.searchParams.get('password') ?? (typeof header === 'string' ? header : undefined);
    const isPublic = command === '/metrics' && this.config.metricsPublic;
    const ip = normalizeIp(req.socket.remoteAddress ?? '?');
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BODY || req.headers['transfer-encoding'] !== undefined) {
      // Nothing here reads a body: a large or unbounded one is not read at all.
      res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end(`Request body too large (at most ${MAX_BODY} bytes; arguments go in the URL)\n`);
      req.socket.destroySoon();
      return;
    }
    let reply: Reply;
    let metrics: string | undefined;
    if (!isPublic && this.a.blocklist?.blocked(ip)) {
      this.deniedSinceLog++;
      if (Date.now() - this.deniedLoggedAt >= 10_000) {
        this.a.log(
          'warn',
          `admin HTTP: requests from ${ip} refused unchecked after failed passwords (${this.deniedSinceLog} in the last 10 s)`,
        );
        this.deniedLoggedAt = Date.now();
        this.deniedSinceLog = 0;
      }
      res.writeHead(429, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Retry-After': String(Math.ceil((this.config.blockMs ?? 300_000) / 1000)),
      });
      res.end('Too many failed passwords from this address\n');
      return;
    }
    if (!isPublic && (given === undefined || !passwordMatches(given, this.config.password))) {
      this.a.log('warn', `admin HTTP: ${command} from ${ip} denied (password)`);
      if (given !== undefined) this.a.blocklist?.fail(ip);
      reply = message(401, 'Denied');
    } else if (command === '/metrics') {
      metrics = this.metrics();
      reply = message(200, '');
    } else
      reply =
        command === '/esme-credit'
          ? await this.credit(url.searchParams)
          : command === '/rebuild-routes'
            ? await this.rebuild()
            : this.run(command, url.searchParams);
    if (metrics !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics);
      return;
    }
    const body =
      format === 'json'
        ? `${JSON.stringify(reply.data, null, 2)}\n`
        : format === 'xml'
          ? `<?xml version="1.0" encoding="UTF-8"?>\n${reply.xml ?? toXml(reply.root, reply.data)}\n`
          : `${reply.text}\n`;
    const type = { text: 'text/plain', json: 'application/json', xml: 'text/xml' }[format];
    res.writeHead(reply.status, {
      'Content-Type': `${type}; charset=utf-8`,
      ...(reply.status === 401 ? { 'WWW-Authenticate': 'Basic realm="smppd"' } : {}),
    });
    res.end(body);
  }

  private async rebuild(): Promise<Reply> {
    try {
      const what = await this.a.rebuild();
      this.a.log('info', `admin HTTP: ${what}`);
      return message(200, what);
    } catch (err) {
      const why = `Routes not updated, the old accounts and routes stay: ${(err as Error).message}`;
      this.a.log('error', `admin HTTP: ${why}`);
      return message(500, why);
    }
  }

  private run(command: string, q: URLSearchParams): Reply {
    switch (command) {
      case '/esme-status':
        return this.status();
      case '/esme-unbind':
        return this.unbind(q);
      case '/uptime': {
        const seconds = Math.floor((Date.now() - this.a.startedAt) / 1000);
        return {
          status: 200,
          text: `Uptime ${uptimeText(seconds)}`,
          data: { uptime: seconds },
          root: 'uptime',
        };
      }
      case '/log-level': {
        const given = (q.get('level') ?? '').toLowerCase();
        // Own keys only: `level=constructor` must not find Object.prototype.constructor.
        const level = Object.hasOwn(LEVELS, given) ? LEVELS[given] : undefined;
        if (!level) return message(400, 'Invalid level specified', 'message');
        this.a.setLogLevel(level);
        this.a.log('info', `admin HTTP: log level set to ${level}`);
        return message(200, `Log level set to ${level}`, 'message');
      }
      default:
        return {
          status: 404,
          text: `Command '${command}' not found, available commands are:\n${COMMANDS.join('\n')}`,
          data: { status: `Command '${command}' not found`, commands: COMMANDS },
          root: 'status',
        };
    }
  }

  /** smsgate's addition to KSMPPD's commands: prepaid credit (top-up or correction) and balance. */
  private async credit(q: URLSearchParams): Promise<Reply> {
    const systemId = q.get('system-id');
    if (!systemId) return message(406, "You must specify a 'system-id' parameter");
    if (!this.a.knownAccount(systemId)) return message(404, `No such system-id '${systemId}' found`);
    const amountText = q.get('amount');
    const amount = amountText === null || amountText === '' ? undefined : Number(amountText);
    if (amount !== undefined && !Number.isFinite(amount))
      return message(406, `amount '${amountText}' is not a number`);
    try {
      const balance = await this.a.credit(systemId, amount, q.get('note') ?? 'admin HTTP');
      if (amount !== undefined)
        this.a.log(
          'info',
          `admin HTTP: credit of ${systemId} ${amount >= 0 ? '+' : ''}${amount}, now ${balance}`,
        );
      return {
        status: 200,
        text: `Credit of ${systemId.toLowerCase()}: ${balance}`,
        data: { 'system-id': systemId.toLowerCase(), credit: balance },
        root: 'credit',
      };
    } catch (err) {
      return message(500, `credit not changed: ${(err as Error).message}`);
    }
  }

  private unbind(q: URLSearchParams): Reply {
    const systemId = q.get('system-id');
    if (!systemId) return message(406, "You must specify a 'system-id' parameter");
    const bindIdText = q.get('bind-id');
    const bindId = bindIdText === null || bindIdText === '' ? undefined : Number(bindIdText);
    if (bindId !== undefined && !Number.isInteger(bindId))
      return message(406, `bind-id '${bindIdText}' is not a number`);
    const known =
      this.a.knownAccount(systemId) ||
      [...this.a.server.sessions].some((s) => s.account?.systemId.toLowerCase() === systemId.toLowerCase());
    if (!known) return message(404, `No such system-id '${systemId}' found`);
    const binds = this.a.server.bindsOf(systemId, bindId);
    if (bindId !== undefined && binds.length === 0)
      return message(404, `No bind ${bindId} of system-id '${systemId}' found`);
    // As KSMPPD: an unbind PDU to each, the connection closes at its unbind_resp (or the response timer).
    for (const s of binds) {
      this.a.log('info', `admin HTTP: unbinding ${s.label()}`);
      void s.unbind();
    }
    const text = `${binds.length} bind${binds.length === 1 ? '' : 's'} disconnected`;
    return {
      status: 200,
      text,
      data: { status: text, disconnected: binds.map((s) => s.id) },
      root: 'status',
    };
  }

  /** One entry per bound session, grouped by system_id. */
  private esmes() {
    const now = Date.now();
    const bySid = new Map<string, { account: Account; binds: ReturnType<AdminServer['bindInfo']>[] }>();
    for (const s of this.a.server.sessions) {
      if (s.state !== 'bound' || !s.account) continue;
      const sid = s.account.systemId.toLowerCase();
      const e = bySid.get(sid) ?? { account: s.account, binds: [] };
      e.binds.push(this.bindInfo(s, now));
      bySid.set(sid, e);
    }
    return [...bySid].map(([sid, { account, binds }]) => ({
      'system-id': sid,
      'bind-count': binds.length,
      'max-binds': account.maxBinds,
      throughput: account.throughput,
      queued: this.a.queued(sid),
      binds: binds.sort((x, y) => x['bind-id'] - y['bind-id']),
    }));
  }

  private bindInfo(s: Session, now: number) {
    const since = s.boundAt ?? s.connectedAt;
    return {
      'system-id': s.account?.systemId.toLowerCase() ?? '',
      'bind-id': s.id,
      'bind-type': s.bindType ?? 'trx',
      ip: s.ip,
      'bound-since': new Date(since).toISOString(),
      uptime: Math.floor((now - since) / 1000),
      'messages-in': s.messagesIn,
      'messages-out': s.messagesOut,
      'open-acks': s.inFlight,
      window: this.a.server.windowSize,
    };
  }

  private status(): Reply {
    const esmes = this.esmes();
    const c = this.a.server.counters;
    const lines = [
      'Summary:',
      '',
      `Bound ESMEs: ${esmes.length}`,
      `Total inbound processed (submits): ${c.mt}`,
      `Total outbound processed (deliver_sm): ${c.deliverSm}`,
      '',
    ];
    for (const e of esmes) {
      lines.push(
        `${e['system-id']} - binds:${e['bind-count']}/${e['max-binds']}, throughput:${e.throughput}/sec, queued:${e.queued}`,
      );
      for (const b of e.binds)
        lines.push(
          `-- id:${b['bind-id']} ip:${b.ip} type:${b['bind-type']}(${BIND_TYPE_NUMBER[b['bind-type']]}) bound since:${b['bound-since']} uptime:${uptimeText(b.uptime)}, in:${b['messages-in']} out:${b['messages-out']}, open-acks:${b['open-acks']}/${b.window}`,
        );
    }
    return {
      status: 200,
      text: lines.join('\n'),
      data: {
        summary: {
          'bound-esmes': esmes.length,
          'inbound-processed': c.mt,
          'outbound-processed': c.deliverSm,
        },
        esmes,
      },
      root: 'esme-status',
      xml: ksmppdXml(esmes, c.mt, c.deliverSm),
    };
  }

  private metrics(): string {
    const c = this.a.server.counters;
    const binds = new Map<string, number>();
    for (const s of this.a.server.sessions)
      if (s.state === 'bound' && s.account) {
        const sid = s.account.systemId.toLowerCase();
        binds.set(sid, (binds.get(sid) ?? 0) + 1);
      }
    const label = (sid: string): string => `{system_id="${sid.replace(/["\\\n]/g, '_')}"}`;
    const out = [
      '# HELP smppd_binds Bound SMPP sessions per system_id.',
      '# TYPE smppd_binds gauge',
      ...[...binds].map(([sid, n]) => `smppd_binds${label(sid)} ${n}`),
      '# HELP smppd_submits_total submit_sm/data_sm stored in the outbox since the start.',
      '# TYPE smppd_submits_total counter',
      `smppd_submits_total ${c.mt}`,
      '# HELP smppd_deliver_sm_total deliver_sm sent to ESMEs since the start.',
      '# TYPE smppd_deliver_sm_total counter',
      `smppd_deliver_sm_total ${c.deliverSm}`,
      '# HELP smppd_submit_errors_total submits refused with an error status.',
      '# TYPE smppd_submit_errors_total counter',
      `smppd_submit_errors_total ${c.errors}`,
      '# HELP smppd_esme_submits_total submit_sm/data_sm accepted per system_id (rate() is its throughput).',
      '# TYPE smppd_esme_submits_total counter',
      ...[...this.a.server.esmeCounters].map(([sid, e]) => `smppd_esme_submits_total${label(sid)} ${e.mt}`),
      '# HELP smppd_esme_submit_errors_total submits refused per system_id.',
      '# TYPE smppd_esme_submit_errors_total counter',
      ...[...this.a.server.esmeCounters].map(
        ([sid, e]) => `smppd_esme_submit_errors_total${label(sid)} ${e.errors}`,
      ),
      '# HELP smppd_esme_deliver_sm_total deliver_sm sent per system_id.',
      '# TYPE smppd_esme_deliver_sm_total counter',
      ...[...this.a.server.esmeCounters].map(
        ([sid, e]) => `smppd_esme_deliver_sm_total${label(sid)} ${e.deliverSm}`,
      ),
      ...(this.a.deliveryLatency?.render(
        'smppd_delivery_latency_seconds',
        'From submit_sm accepted to delivered to the handset (the done date of DELIVRD receipts).',
      ) ?? []),
      '# HELP smppd_dead_letters_total Receipts and MO refused by the ESME for good (or too often), kept in dead-letter/.',
      '# TYPE smppd_dead_letters_total counter',
      `smppd_dead_letters_total ${c.deadLetters}`,
      '# HELP smppd_connections_refused_total SMPP connections closed at once over MaxConnections or MaxConnectionsPerIp.',
      '# TYPE smppd_connections_refused_total counter',
      `smppd_connections_refused_total ${c.refusedConnections}`,
      '# HELP smppd_binds_refused_unchecked_total Binds refused without a password check (attempt limit, no check free in time).',
      '# TYPE smppd_binds_refused_unchecked_total counter',
      `smppd_binds_refused_unchecked_total ${c.bindsRefusedUnchecked}`,
      '# HELP smppd_queued Receipts and MO waiting on disk for an ESME.',
      '# TYPE smppd_queued gauge',
      ...this.a.queuedSystemIds().map((sid) => `smppd_queued${label(sid)} ${this.a.queued(sid)}`),
      '# HELP smppd_uptime_seconds Seconds since smppd serve started.',
      '# TYPE smppd_uptime_seconds gauge',
      `smppd_uptime_seconds ${Math.floor((Date.now() - this.a.startedAt) / 1000)}`,
      ...(this.a.extraMetrics?.() ?? []),
    ];
    return `${out.join('\n')}\n`;
  }
}

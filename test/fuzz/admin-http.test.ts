import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer, type AdminActions } from '../../src/lib/smpp/admin/admin.js';
import type { SmppServer } from '../../src/lib/smpp/protocol/server.js';
import type { LogLevel } from '../../src/lib/common/log.js';
import { params } from './props.js';

// smppd's admin HTTP query parsing (src/lib/smpp/admin.ts), in process, over a raw socket (not an HTTP
// client that would clean the request target up first): any request target gets a 2xx/4xx answer,
// never a 500 (a bug of ours caught by the last-resort handler), and actions get only valid arguments.

const PASSWORD = 'secret';
const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];
const problems: string[] = [];
const fakeServer = {
  sessions: new Set(),
  bindsOf: () => [],
  windowSize: 10,
  counters: { mt: 0, receipts: 0, mo: 0, errors: 0, deliverSm: 0 },
  esmeCounters: new Map([['acme', { mt: 1, errors: 0, deliverSm: 0 }]]),
} as unknown as SmppServer;
const actions: AdminActions = {
  server: fakeServer,
  queued: () => 0,
  queuedSystemIds: () => ['acme'],
  rebuild: () => Promise.resolve('rebuilt'),
  knownAccount: (sid) => sid.toLowerCase() === 'acme',
  setLogLevel: (level: LogLevel) => {
    if (!LEVELS.includes(level)) problems.push(`setLogLevel(${String(level)})`);
  },
  credit: (sid, amount) => {
    if (amount !== undefined && !Number.isFinite(amount)) problems.push(`credit(${sid}, ${amount})`);
    return Promise.resolve(1);
  },
  startedAt: Date.now(),
  log: (level, msg) => {
    if (level === 'error') problems.push(msg);
  },
};
let admin: AdminServer;
let port = 0;
beforeAll(async () => {
  admin = new AdminServer(
    { port: 0, listen: '127.0.0.1', password: PASSWORD, metricsPublic: false },
    actions,
  );
  port = (await admin.listen()).port;
});
afterAll(() => admin.close());

/** One request as raw bytes; the status code of the answer (0 when the server closed without one). */
function request(raw: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (got += d));
    s.on('error', () => resolve(0));
    s.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0)));
    s.setTimeout(5000, () => reject(new Error(`no answer to ${JSON.stringify(raw.toString('latin1'))}`)));
    s.end(raw);
  });
}

const segment = fc.oneof(
  fc.constantFrom(
    'esme-status',
    'esme-unbind',
    'esme-credit',
    'rebuild-routes',
    'uptime',
    'log-level',
    'metrics',
    '..',
    '.',
    '',
    '%2e',
    '%2F',
    '%00',
    '%zz',
    '%',
    '\u00e9',
    'a'.repeat(3000),
  ),
  fc.string({ maxLength: 8 }),
);
const ext = fc.constantFrom('', '.json', '.xml', '.txt', '.json.xml');
const key = fc.constantFrom(
  'password',
  'system-id',
  'bind-id',
  'amount',
  'note',
  'level',
  '__proto__',
  'constructor',
  'password[]',
  '',
);
const value = fc.oneof(
  fc.constantFrom(
    PASSWORD,
    'acme',
    'ACME',
    '1',
    '-1',
    '1e400',
    'NaN',
    '0x10',
    'Infinity',
    '',
    '%',
    '%zz',
    '%00',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'debug',
    '3',
    'x'.repeat(5000),
  ),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
);
const query = fc
  .array(
    fc.tuple(key, fc.constantFrom('=', ''), value).map(([k, eq, v]) => `${k}${eq}${v}`),
    { maxLength: 5 },
  )
  .map((p) => (p.length ? `?${p.join('&')}` : ''));
const target = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), ext, query, fc.boolean())
      .map(([s, e, q, pw]) => `/${s.join('/')}${e}${q}${pw ? `${q ? '&' : '?'}password=${PASSWORD}` : ''}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '*',
      '//x',
      'http://[',
      'http://a:b@c/',
      '/?',
      '#',
      '/%',
      `http://admin/uptime?password=${PASSWORD}`,
    ),
  },
);

describe('admin HTTP request targets', () => {
  it('never a 500, and actions only see valid arguments', async () => {
    await fc.assert(
      fc.asyncProperty(target, fc.constantFrom('GET', 'POST', 'HEAD'), async (t, method) => {
        const status = await request(
          Buffer.from(`${method} ${t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 'latin1'),
        );
        expect(status, t).not.toBe(500);
        expect(problems, t).toEqual([]);
      }),
      params(400),
    );
  });

  it('the log level names are the only ones taken (not Object.prototype members)', async () => {
    for (const level of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const status = await request(
        Buffer.from(
          `GET /log-level?password=${PASSWORD}&level=${level} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        ),
      );
      expect(status, level).toBe(400);
    }
    expect(problems).toEqual([]);
  });
});

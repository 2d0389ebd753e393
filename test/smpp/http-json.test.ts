import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseBackupExtensions } from '../../src/lib/smsbackup/reader.js';
import { loadSmsdConfig } from '../../src/lib/config/smsd-config.js';
import { readSmppdConfig } from '../../src/lib/smpp/config.js';
import { smppdPaths } from '../../src/lib/smpp/paths.js';
import { startSmppd, type Smppd } from '../../src/lib/smpp/serve.js';
import { listFiles } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';
import { startTestSmppd, type TestSmppd } from './harness.js';

// The JSON API of smppd's HTTP port, driven by real clients (curl, fetch); the webhook receiver is
// a node:http listener written here that checks the signature with node:crypto alone. Every
// request and response is validated against the OpenAPI document the server serves.

const SECRET = 'whsec-0123456789abcdef';
let t: TestSmppd;
let smppd: Smppd;
let base: string;
let paths: ReturnType<typeof smppdPaths>;
const ACCOUNTS = [
  { systemId: 'shop', password: 'pw123', extra: `webhook_secret = ${SECRET}\n` },
  { systemId: 'other', password: 'pw456' },
  { systemId: 'cap', password: 'pwcap' },
  { systemId: 'slow', password: 'pwslow', extra: 'throughput = 2\n' },
];
const EXTRA =
  'HttpPort = 0\nHttpListen = 127.0.0.1\nHttpMaxBody = 4096\nBlockAttempts = 0\nHttpIdempotencyKeysPerAccount = 5\n';

/** smppd on the same spool and config again (a restart). */
async function restart(): Promise<void> {
  await smppd.stop();
  const loaded = loadSmsdConfig(t.configFile);
  const { config } = readSmppdConfig(loaded.config.smppd, t.configFile, process.cwd());
  smppd = await startSmppd({ smsd: loaded.config, smppd: config, log: (l, m) => t.logs.push(`${l} ${m}`) });
  base = `http://127.0.0.1:${smppd.httpPort}`;
}

beforeAll(async () => {
  t = await startTestSmppd(ACCOUNTS, EXTRA);
  smppd = t.smppd;
  base = `http://127.0.0.1:${smppd.httpPort}`;
  const loaded = loadSmsdConfig(t.configFile);
  paths = smppdPaths(loaded.config, readSmppdConfig(loaded.config.smppd, t.configFile, process.cwd()).config);
});
afterAll(async () => {
  for (const s of servers) s.close();
  await smppd?.stop();
  t?.spool.cleanup();
});
beforeEach(async () => {
  await smppd.settled();
  for (const n of fs.readdirSync(t.spool.outbox))
    if (n.startsWith('OUT')) fs.rmSync(path.join(t.spool.outbox, n));
});

// --- the OpenAPI document, as served ---
let ajv: Ajv2020;
let doc: Record<string, unknown>;
beforeAll(async () => {
  doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as Record<string, unknown>;
  expect(doc).toEqual(JSON.parse(fs.readFileSync('src/lib/smpp/http/openapi.json', 'utf8')));
  ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(doc, 'openapi.json');
});
/** Throws with ajv's errors unless `value` fits the schema at `pointer` of the document. */
function conforms(pointer: string, value: unknown): void {
  const v = ajv.compile({ $ref: `openapi.json#${pointer}` });
  if (!v(value)) throw new Error(`${pointer}: ${ajv.errorsText(v.errors)} in ${JSON.stringify(value)}`);
}
/** The node at a JSON pointer of the document, following a $ref at the end. */
function at(pointer: string): Record<string, unknown> | undefined {
  let node: unknown = doc;
  for (const p of pointer.split('/').slice(1)) {
    node = (node as Record<string, unknown> | undefined)?.[p.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  const ref = (node as { $ref?: string } | undefined)?.$ref;
  return ref ? at(ref.slice(1)) : (node as Record<string, unknown> | undefined);
}
const esc = (p: string): string => p.replace(/~/g, '~0').replace(/\//g, '~1');
/** The response as the document describes it for this path, method and status. */
function documented(p: string, method: string, status: number, body: unknown): void {
  const r = `/paths/${esc(p)}/${method}/responses/${status}`;
  const response = at(r);
  if (!response) throw new Error(`${method} ${p} ${status} is not documented`);
  const schema = (response.content as Record<string, { schema: { $ref?: string } }>)['application/json']
    ?.schema;
  if (!schema) throw new Error(`${method} ${p} ${status} has no JSON body in the document`);
  const v = schema.$ref ? ajv.compile({ $ref: `openapi.json${schema.$ref}` }) : ajv.compile(schema);
  if (!v(body))
    throw new Error(`${method} ${p} ${status}: ${ajv.errorsText(v.errors)} in ${JSON.stringify(body)}`);
}

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

const auth = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const SHOP = auth('shop', 'pw123');

async function post(body: unknown, headers: Record<string, string> = {}, who = SHOP): Promise<Reply> {
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: who, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const reply = { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
  documented('/v1/messages', 'post', reply.status, reply.body);
  return reply;
}

async function get(id: string, who = SHOP): Promise<Reply> {
  const res = await fetch(`${base}/v1/messages/${encodeURIComponent(id)}`, {
    headers: { Authorization: who },
  });
  const reply = { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
  documented('/v1/messages/{id}', 'get', reply.status, reply.body);
  return reply;
}

function curl(args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-w', '\n%{http_code}', ...args], (err, stdout) => {
      if (err) return reject(err);
      const i = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) });
    });
  });
}

/** Outbox files: message ID → file name (once the files exist). */
async function stored(): Promise<Map<string, string>> {
  await smppd.settled();
  const out = new Map<string, string>();
  for (const name of listFiles(t.spool.outbox).filter((n) => n.startsWith('OUT'))) {
    const meta = JSON.parse(
      parseBackupExtensions(fs.readFileSync(path.join(t.spool.outbox, name))).Smpp ?? '{}',
    ) as {
      id: string;
    };
    out.set(meta.id, name);
  }
  return out;
}

type Accepted = { id: string; recipients: { to: string; id?: string; error?: { code: string } }[] };
type ErrorReply = { error: { code: string; message: string } };

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (checked against the specification schema)', async () => {
    const validator = new Validator();
    const res = await validator.validate(structuredClone(doc));
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });
});

describe('POST /v1/messages', () => {
  it('curl: 202 with one ID per recipient once durable; the files hold them; GET shows each (queued)', async () => {
    const req = { to: ['+420111222333', '420111222444'], from: 'Shop', text: 'Hello from JSON €' };
    conforms('/components/schemas/MessageRequest', req);
    const r = await curl([
      `${base}/v1/messages`,
      '-u',
      'shop:pw123',
      '-H',
      'Content-Type: application/json',
      '--data',
      JSON.stringify(req),
    ]);
    expect(r.status).toBe(202);
    const body = JSON.parse(r.body) as Accepted;
    documented('/v1/messages', 'post', 202, body);
    expect(body.recipients.map((x) => x.to)).toEqual(['+420111222333', '420111222444']);
    const files = await stored();
    expect([...files.keys()].sort()).toEqual(body.recipients.map((x) => x.id).sort());
    expect(body.id).toBe(body.recipients[0]?.id);
    const g = await get(body.recipients[0]?.id ?? '');
    expect(g.status).toBe(200);
    expect(g.body).toMatchObject({
      id: body.recipients[0]?.id,
      to: '+420111222333',
      from: 'Shop',
      state: 'queued',
      parts: 1,
      receipts: [],
    });
  });

  it('binary (hex and base64) with a UDH; a long text in parts', async () => {
    const a = await post({ to: '420111000001', binary: 'CAFE', udh: '0504158200000', text: undefined });
    expect(a.status).toBe(400); // odd hex: named
    expect((a.body as ErrorReply).error.message).toContain('udh');
    const b = await post({ to: '420111000001', binary: 'yv4=', encoding: 'base64', udh: '06050415820000' });
    expect(b.status).toBe(202);
    const c = await post({ to: '420111000002', text: 'x'.repeat(400) });
    expect(c.status).toBe(202);
    const g = await get((c.body as Accepted).id);
    expect((g.body as { parts: number }).parts).toBe(3);
    expect((await stored()).size).toBe(2);
  });

  it('refusals name the field and value, answer JSON errors, and store nothing', async () => {
    const cases: [unknown, number, string][] = [
      ['{"to": "4201', 400, 'invalid_json'],
      ['[1,2]', 400, 'invalid_body'],
      ['', 400, 'invalid_json'],
      ['{"to":"420111","text":"x","class":' + '['.repeat(1500) + ']'.repeat(1500) + '}', 400, 'class = [[[['],
      ['{"to":"420111","text":"x","to":"bad"}', 400, 'to = "bad"'],
      [{ to: '420111', text: 'x', colour: 'red' }, 400, 'colour = "red"'],
      [{ to: 'abc', text: 'x' }, 400, 'to = "abc"'],
      [{ to: ['420111', 12], text: 'x' }, 400, 'to[1] = 12'],
      [{ to: [], text: 'x' }, 400, 'to = []'],
      [{ to: '420111' }, 400, 'exactly one of text and binary'],
      [{ to: '420111', text: 'x', binary: '00' }, 400, 'exactly one'],
      [{ to: '420111', binary: 'xyz' }, 400, 'binary = "xyz"'],
      [{ to: '420111', text: 'ř', coding: 'gsm7' }, 400, 'GSM 7-bit'],
      [{ to: '420111', text: 'x', validity: 5 }, 400, 'validity = 5'],
      [{ to: '420111', text: 'x', scheduled: '2030-01-01T00:00:00Z' }, 400, 'not supported'],
      [{ to: '420111', text: 'x', webhook: 'ftp://x' }, 400, 'webhook = "ftp://x"'],
      [{ to: '420111', text: 'x', report: 'yes' }, 400, 'report = "yes"'],
      [{ to: Array.from({ length: 1001 }, () => '1'), text: 'x' }, 400, 'at most 1000'],
    ];
    for (const [body, status, words] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      const e = (r.body as ErrorReply).error;
      expect(`${e.code} ${e.message}`).toContain(words);
      // The document refuses what the server refuses (where a schema can say it).
      if (
        typeof body === 'object' &&
        !Array.isArray(body) &&
        status === 400 &&
        !/GSM|not supported|binary =/.test(words)
      )
        expect(() => conforms('/components/schemas/MessageRequest', body), words).toThrow();
    }
    // A webhook needs the account's webhook_secret.
    const other = await post(
      { to: '420111', text: 'x', webhook: 'http://127.0.0.1:9/x' },
      {},
      auth('other', 'pw456'),
    );
    expect(other.status).toBe(400);
    expect((other.body as ErrorReply).error.message).toContain('webhook_secret');
    expect((await stored()).size).toBe(0);
  });

  it('413 beyond HttpMaxBody, 415 for another content type, 401 for wrong or missing logins (curl); nothing stored', async () => {
    const huge = await curl([
      `${base}/v1/messages`,
      '-u',
      'shop:pw123',
      '-H',
      'Content-Type: application/json',
      '--data',
      JSON.stringify({ to: '420111', text: 'x'.repeat(10_000) }),
    ]);
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body)).toMatchObject({ error: { code: 'body_too_large' } });
    documented('/v1/messages', 'post', 413, JSON.parse(huge.body));
    const form = await curl([`${base}/v1/messages`, '-u', 'shop:pw123', '--data', 'to=420111&text=x']);
    expect(form.status).toBe(415);
    expect(JSON.parse(form.body)).toMatchObject({ error: { code: 'unsupported_media_type' } });
    const wrong = await post({ to: '420111', text: 'x' }, {}, auth('shop', 'nope'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Basic');
    const none = await curl([
      `${base}/v1/messages`,
      '-H',
      'Content-Type: application/json',
      '--data',
      '{"to":"420111","text":"x"}',
    ]);
    expect(none.status).toBe(401);
    const unknown = await post({ to: '420111', text: 'x' }, {}, auth('nobody', 'x'));
    expect(unknown.status).toBe(401);
    expect((await stored()).size).toBe(0);
  });
});

describe('the pipeline refuses', () => {
  it('some recipients (throughput): 202 naming the refused ones; all of them: 429, nothing stored, the key free again', async () => {
    const slow = auth('slow', 'pwslow');
    const to = ['420111000701', '420111000702', '420111000703', '420111000704', '420111000705'];
    const some = await post({ to, text: 'five' }, { 'Idempotency-Key': 'slow-1' }, slow);
    expect(some.status).toBe(202);
    const rs = (some.body as Accepted).recipients;
    const ok = rs.filter((x) => x.id !== undefined);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThan(5);
    for (const x of rs.filter((r) => r.error)) expect(x.error?.code).toBe('throttled');
    expect((await stored()).size).toBe(ok.length);
    // The same key replays the partial answer (it stored something): nothing stored again.
    expect((await post({ to, text: 'five' }, { 'Idempotency-Key': 'slow-1' }, slow)).body).toEqual(some.body);
    // A request the bucket refuses whole: 429, nothing stored, and its key is free for a later try.
    let all: Reply | undefined;
    let i = 0;
    for (; i < 20; i++) {
      all = await post({ to, text: `all ${i}` }, { 'Idempotency-Key': `slow-all-${i}` }, slow);
      if (all.status === 429) break;
    }
    expect(all?.status).toBe(429);
    expect((all?.body as ErrorReply).error.code).toBe('throttled');
    const before = (await stored()).size;
    // Once the bucket refills, the same key and request store (not a replay of the 429). Polled
    // with one recipient, so each try either stores it or is refused whole.
    const retry = { to: to.slice(0, 1), text: 'later' };
    let later: Reply | undefined;
    await waitFor(
      async () => {
        later = await post(retry, { 'Idempotency-Key': 'slow-later' }, slow);
        return later.status === 202;
      },
      10_000,
      'the bucket refilled',
    );
    expect(later?.headers.get('idempotent-replayed')).toBeNull();
    const freed = await waitFor(
      async () => {
        const r = await post({ to, text: `all ${i}` }, { 'Idempotency-Key': `slow-all-${i}` }, slow);
        return r.status === 202 ? r : undefined;
      },
      10_000,
      'the refused key taken again',
    );
    expect(freed.headers.get('idempotent-replayed')).toBeNull();
    expect((await stored()).size).toBe(
      before + 1 + (freed.body as Accepted).recipients.filter((x) => x.id).length,
    );
  });
});

describe('GET /v1/messages/{id}', () => {
  it("another account's message and an unknown ID are 404 alike", async () => {
    const r = await post({ to: '420111000009', text: 'mine' });
    const id = (r.body as Accepted).id;
    expect((await get(id, auth('other', 'pw456'))).status).toBe(404);
    expect((await get('0123456789abcdef')).status).toBe(404);
    expect((await get('../../etc')).status).toBe(404);
    const bad = await fetch(`${base}/v1/messages/%zz`, { headers: { Authorization: SHOP } });
    expect(bad.status).toBe(404);
    expect((await get(id)).status).toBe(200);
  });
});

describe('Idempotency-Key', () => {
  it('10 concurrent retries with one key: one message stored, ten identical answers', async () => {
    const req = { to: ['420111000100', '420111000101'], text: 'once' };
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => post(req, { 'Idempotency-Key': 'order-1' })),
    );
    for (const r of replies) expect(r.status).toBe(202);
    const bodies = new Set(replies.map((r) => JSON.stringify(r.body)));
    expect(bodies.size).toBe(1);
    expect(replies.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    const files = await stored();
    expect(files.size).toBe(2);
    // The same key, another body (key order does not make another body): 422, nothing stored.
    expect(
      (await post({ text: 'once', to: ['420111000100', '420111000101'] }, { 'Idempotency-Key': 'order-1' }))
        .status,
    ).toBe(202);
    const other = await post({ ...req, text: 'twice' }, { 'Idempotency-Key': 'order-1' });
    expect(other.status).toBe(422);
    expect((other.body as ErrorReply).error.code).toBe('idempotency_key_reused');
    // Another account's same key is another key.
    expect((await post(req, { 'Idempotency-Key': 'order-1' }, auth('other', 'pw456'))).status).toBe(202);
    expect((await stored()).size).toBe(4);
  });

  it('a restart between: the retry gets the same answer, nothing stored again', async () => {
    const req = { to: '420111000200', text: 'across a restart' };
    const first = await post(req, { 'Idempotency-Key': 'restart-1' });
    expect(first.status).toBe(202);
    await restart();
    const again = await post(req, { 'Idempotency-Key': 'restart-1' });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await stored()).size).toBe(1);
  });

  it('killed after storing, before answering (the answer never reached the log): the retry finds the messages, stores nothing', async () => {
    const req = { to: ['420111000300', '420111000301'], text: 'crash' };
    const first = await post(req, { 'Idempotency-Key': 'crash-1' });
    expect(first.status).toBe(202);
    await smppd.settled();
    await smppd.stop();
    // What a kill -9 between the store's commit and the answer leaves: the begin, no end.
    const log = path.join(paths.state, 'idempotency.log');
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    fs.writeFileSync(log, lines.filter((l) => !(l.includes('"end"') && l.includes('crash-1'))).join('\n'));
    await restart();
    const again = await post(req, { 'Idempotency-Key': 'crash-1' });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect((await stored()).size).toBe(2);
    expect(t.logs.some((l) => l.includes('2 of 2 message(s) found stored'))).toBe(true);
  });

  it('killed after recording the key, before storing: the retry stores each message once, with the IDs recorded', async () => {
    const req = { to: ['420111000400', '420111000401'], text: 'crash before' };
    const first = await post(req, { 'Idempotency-Key': 'crash-2' });
    const ids = (first.body as Accepted).recipients.map((x) => x.id);
    await smppd.settled();
    await smppd.stop();
    // The begin is durable, but one message never reached the store; the answer was lost.
    const log = path.join(paths.state, 'idempotency.log');
    fs.writeFileSync(
      log,
      fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => !(l.includes('"end"') && l.includes('crash-2')))
        .join('\n'),
    );
    const second = (await stored()).get(ids[1] ?? '');
    fs.rmSync(path.join(t.spool.outbox, second ?? 'none'));
    await restart();
    const again = await post(req, { 'Idempotency-Key': 'crash-2' });
    expect(again.body).toEqual(first.body);
    const files = await stored();
    expect([...files.keys()].sort()).toEqual([...ids].sort());
    expect((await post(req, { 'Idempotency-Key': 'crash-2' })).body).toEqual(first.body);
    expect((await stored()).size).toBe(2);
  });

  it('at HttpIdempotencyKeysPerAccount: a new key is refused (429, Retry-After), nothing stored; old keys replay, unkeyed requests pass', async () => {
    const cap = auth('cap', 'pwcap');
    for (let i = 0; i < 5; i++)
      expect(
        (await post({ to: '420111000500', text: `k${i}` }, { 'Idempotency-Key': `k${i}` }, cap)).status,
      ).toBe(202);
    const full = await post({ to: '420111000500', text: 'k5' }, { 'Idempotency-Key': 'k5' }, cap);
    expect(full.status).toBe(429);
    expect((full.body as ErrorReply).error.code).toBe('idempotency_keys_exhausted');
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(3600);
    expect((await stored()).size).toBe(5);
    expect((await post({ to: '420111000500', text: 'k0' }, { 'Idempotency-Key': 'k0' }, cap)).status).toBe(
      202,
    );
    expect((await post({ to: '420111000500', text: 'no key' }, {}, cap)).status).toBe(202);
    // Other accounts keep their own share.
    expect((await post({ to: '420111000500', text: 'k5' }, { 'Idempotency-Key': 'k5' })).status).toBe(202);
    expect((await stored()).size).toBe(7);
  });
});

// --- webhooks ---
const servers: http.Server[] = [];
interface Hook {
  body: string;
  signature: string;
}
function listener(port: number, hooks: Hook[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hooks.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['x-smsgate-signature'] ?? ''),
      });
      res.end('ok');
    });
  });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** What `smsd run` does when a message is sent and its status report comes: sent/, reports/. */
function deliver(name: string, category: 'delivered' | 'failed'): void {
  fs.renameSync(path.join(t.spool.outbox, name), path.join(t.spool.sent, name));
  fs.mkdirSync(paths.reports, { recursive: true });
  const now = new Date().toISOString();
  fs.writeFileSync(
    path.join(paths.reports, `${name}.01.json`),
    JSON.stringify({
      id: 'r',
      part: 1,
      parts: 1,
      number: '',
      mr: 1,
      phoneId: 'm',
      sentAt: now,
      status: category === 'delivered' ? 0 : 0x45,
      category,
      description: category,
      submittedAt: now,
      dischargedAt: now,
      receivedAt: now,
      history: [],
    }),
  );
}

describe('receipt webhooks', () => {
  it('listener down, then up: delivered once, signed with the webhook_secret (checked with node:crypto), as documented', async () => {
    // A port nobody listens on yet.
    const probe = await listener(0, []);
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const r = await post({
      to: '420111000600',
      from: '+420999',
      text: 'hook me',
      webhook: `http://127.0.0.1:${port}/receipts?x=1`,
    });
    expect(r.status).toBe(202);
    const id = (r.body as Accepted).id;
    const name = (await stored()).get(id) ?? '';
    const failedBefore = smppd.webhooks.stats.failedAttempts;
    deliver(name, 'delivered');
    await waitFor(
      () => smppd.webhooks.stats.failedAttempts > failedBefore,
      15_000,
      'a failed webhook attempt',
    );
    const hooks: Hook[] = [];
    await listener(port, hooks);
    await waitFor(() => hooks.length > 0 && smppd.webhooks.size === 0, 30_000, 'the webhook');
    expect(hooks).toHaveLength(1);
    const h = hooks[0] as Hook;
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(h.signature);
    expect(m).not.toBeNull();
    const mac = crypto.createHmac('sha256', SECRET).update(`${m?.[1]}.${h.body}`).digest('hex');
    expect(mac).toBe(m?.[2]);
    expect(Math.abs(Date.now() / 1000 - Number(m?.[1]))).toBeLessThan(60);
    const body = JSON.parse(h.body) as Record<string, unknown>;
    conforms('/components/schemas/ReceiptWebhook', body);
    expect(body).toMatchObject({
      type: 'receipt',
      id,
      to: '420111000600',
      from: '+420999',
      state: 'delivered',
      error: 0,
    });
    const g = await get(id);
    expect(g.body).toMatchObject({
      state: 'delivered',
      receipts: [{ part: 1, state: 'delivered', status: 0 }],
    });
  }, 90_000);
});

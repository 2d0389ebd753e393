import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IdempotencyKeys } from '../../src/lib/smpp/http/idempotency.js';
import { DlrQueue } from '../../src/lib/smpp/http/dlr.js';
import { parseMessagesRequest, shown } from '../../src/lib/smpp/http/json-request.js';
import { parseAccounts } from '../../src/lib/smpp/policy/accounts.js';
import { waitFor } from '../helpers/rig.js';

// The Idempotency-Key log at its bounds (age, count, a torn line, the rewrite) and the webhook
// queue's signed POSTs at theirs (dead-lettered after the attempts; no secret, no call). The
// receiver is a node:http listener written here, checking signatures with node:crypto.

const dirs: string[] = [];
const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-keys-'));
  dirs.push(d);
  return d;
}
const logs: string[] = [];
const log = (level: string, m: string): void => void logs.push(`${level} ${m}`);

/** A signed JSON POST, as the receipt webhooks queue it (http/webhook.ts). */
const post = (body: string, sign: string) => ({
  method: 'POST' as const,
  headers: { 'Content-Type': 'application/json' },
  body: Buffer.from(body),
  sign,
});

describe('IdempotencyKeys', () => {
  const open = (
    file: string,
    o: Partial<{ ttlMs: number; maxKeys: number; maxKeysPerAccount: number }> = {},
  ) => {
    const k = new IdempotencyKeys({ file, ttlMs: 60_000, maxKeys: 100, maxKeysPerAccount: 100, log, ...o });
    k.open();
    return k;
  };

  it('a begun key survives a reopen (unresolved), an ended one replays, a dropped one is free; a torn last line is ignored', async () => {
    const file = path.join(tmp(), 'idempotency.log');
    const a = open(file);
    const c1 = a.claim('Shop', 'k1', 'h1', () => ['id1']);
    const c2 = a.claim('shop', 'k2', 'h2', () => ['id2']);
    const c3 = a.claim('shop', 'k3', 'h3', () => ['id3']);
    if (c1.kind !== 'new' || c2.kind !== 'new' || c3.kind !== 'new') throw new Error('not new');
    for (const c of [c1, c2, c3]) a.run(c.record);
    await Promise.all([a.begin(c1.record), a.begin(c2.record), a.begin(c3.record)]);
    // A concurrent retry waits for the first request's answer.
    const waiting = a.claim('SHOP', 'k1', 'h1', () => []);
    expect(waiting.kind).toBe('running');
    a.end(c1.record, { status: 202, body: { id: 'id1' } });
    if (waiting.kind === 'running')
      expect(await waiting.result).toEqual({ status: 202, body: { id: 'id1' } });
    a.drop(c3.record, { status: 429, body: {} });
    expect(a.claim('shop', 'k1', 'other', () => []).kind).toBe('mismatch');
    await new Promise((r) => setTimeout(r, 50)); // the end and drop lines are written after the answer
    await a.close();
    fs.appendFileSync(file, '{"op":"begin","k":"shop\\nk9","h":"h9"'); // torn by a crash
    const b = open(file);
    expect(b.claim('shop', 'k1', 'h1', () => []).kind).toBe('done');
    const u = b.claim('shop', 'k2', 'h2', () => []);
    expect(u.kind).toBe('unresolved');
    if (u.kind === 'unresolved') expect(u.record.ids).toEqual(['id2']);
    expect(b.claim('shop', 'k3', 'h3', () => ['new3']).kind).toBe('new');
    expect(b.claim('shop', 'k9', 'h9', () => ['new9']).kind).toBe('new');
    await b.close();
  });

  it('keys expire after ttlMs (also across a reopen); at maxKeys a new key is refused with the wait until the oldest expires', async () => {
    const file = path.join(tmp(), 'idempotency.log');
    const k = open(file, { ttlMs: 400, maxKeys: 3, maxKeysPerAccount: 2 });
    const begin = async (sid: string, key: string): Promise<void> => {
      const c = k.claim(sid, key, 'h', () => ['x']);
      if (c.kind !== 'new') throw new Error(`${key}: ${c.kind}`);
      await k.begin(c.record);
      k.end(c.record, { status: 202, body: {} });
    };
    await begin('a', 'k1');
    await begin('a', 'k2');
    const perAccount = k.claim('a', 'k3', 'h', () => []);
    expect(perAccount).toMatchObject({ kind: 'full', retryAfterS: 1 });
    await begin('b', 'k1');
    expect(k.claim('c', 'k1', 'h', () => [])).toMatchObject({ kind: 'full' });
    expect(k.size).toBe(3);
    await waitFor(() => k.claim('c', 'k1', 'h', () => ['y']).kind === 'new', 5_000, 'expiry');
    await k.close();
    await new Promise((r) => setTimeout(r, 450));
    const again = open(file, { ttlMs: 400 });
    expect(again.size).toBe(0);
    await again.close();
  });

  it('the log is rewritten when it holds more than twice the live keys (it stays bounded)', async () => {
    const file = path.join(tmp(), 'idempotency.log');
    const k = open(file, { ttlMs: 60_000, maxKeys: 1000, maxKeysPerAccount: 1000 });
    // Rounds of 500 requests at once: group-committed, then all dropped (nothing stored).
    for (let round = 0; round < 6; round++) {
      const claims = Array.from({ length: 500 }, (_, i) => k.claim('a', `k${round}-${i}`, 'h', () => ['x']));
      const records = claims.map((c) => {
        if (c.kind !== 'new') throw new Error(c.kind);
        return c.record;
      });
      await Promise.all(records.map((r) => k.begin(r)));
      for (const r of records) k.drop(r, { status: 400, body: {} });
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.readFileSync(file, 'utf8').split('\n').length).toBeLessThan(2100);
    await k.close();
  });
});

describe('webhook_secret in the accounts file', () => {
  const HASH = 'scrypt$1024$8$1$c2FsdA==$aGFzaA==';
  it('kept as written; too short or with blanks refused without showing it', () => {
    const ok = parseAccounts(`[shop]\npassword = ${HASH}\nwebhook_secret = abcdefghijklmnop\n`, 'esme.ini');
    expect(ok.accounts.get('shop')?.webhookSecret).toBe('abcdefghijklmnop');
    expect(
      parseAccounts(`[shop]\npassword = ${HASH}\n`, 'esme.ini').accounts.get('shop')?.webhookSecret,
    ).toBeUndefined();
    for (const bad of ['short-secret', 'sixteen chars with blanks'])
      expect(() =>
        parseAccounts(`[shop]\npassword = ${HASH}\nwebhook_secret = ${bad}\n`, 'esme.ini'),
      ).toThrow(/^(?!.*(short-secret|with blanks)).*webhook_secret must be 16 to 256 printable characters/);
  });
});

describe('hostile request bodies', () => {
  it('a value nested too deep to print is refused by name, not a crash', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(shown(deep)).toBe('[...]');
    const r = parseMessagesRequest({ to: '420111', text: 'x', class: deep }, new Date());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe('class = [...]: a message class 0 to 3');
  });
});

describe('webhook queue (signed POSTs)', () => {
  it('kept until 2xx; dead-lettered after maxAttempts with its body; a missing secret is a failed attempt, not an unsigned call', async () => {
    const got: { body: string; sig: string }[] = [];
    let status = 500;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ body, sig: String(req.headers['x-smsgate-signature']) });
        res.statusCode = status;
        res.end();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const dir = path.join(tmp(), 'webhooks');
    const q = new DlrQueue({
      dir,
      max: 10,
      maxAttempts: 2,
      maxAgeMs: 60_000,
      timeoutMs: 2000,
      firstDelayMs: 50,
      maxDelayMs: 100,
      secret: (sid) => (sid === 'shop' ? 'sixteen-chars-secret' : undefined),
      log,
    });
    q.open();
    q.start();
    await q.addAsync('hook:a', url, post('{"n":1}', 'shop'));
    await q.addAsync('hook:b', url, post('{"n":2}', 'nobody'));
    await waitFor(() => q.stats.dead === 2, 10_000, 'dead letters');
    expect(got.map((g) => g.body)).toEqual(['{"n":1}', '{"n":1}']);
    for (const g of got) {
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(g.sig) ?? [];
      expect(crypto.createHmac('sha256', 'sixteen-chars-secret').update(`${t}.${g.body}`).digest('hex')).toBe(
        v1,
      );
    }
    const dead = fs.readdirSync(`${dir}-dead`).map(
      (n) =>
        JSON.parse(fs.readFileSync(path.join(`${dir}-dead`, n), 'utf8')) as {
          body: string;
          lastError: string;
        },
    );
    // Kept as the queue keeps every call: the body in base64.
    const text = (d: { body: string }): string => Buffer.from(d.body, 'base64').toString();
    expect(dead.map(text).sort()).toEqual(['{"n":1}', '{"n":2}']);
    expect(dead.find((d) => text(d) === '{"n":2}')?.lastError).toContain('no webhook secret');
    // A 2xx takes it: called once, the file gone.
    status = 204;
    await q.addAsync('hook:c', url, post('{"n":3}', 'shop'));
    await waitFor(() => q.stats.delivered === 1 && q.size === 0, 10_000, 'delivery');
    expect(got.filter((g) => g.body === '{"n":3}')).toHaveLength(1);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.json'))).toEqual([]);
    await q.close();
  });
});

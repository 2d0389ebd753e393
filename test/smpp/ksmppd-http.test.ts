import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from 'smpp';
import { bind, bindCollecting, call, startTestSmppd, type TestSmppd, phoneOf } from './harness.js';
import { waitFor } from '../helpers/rig.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import { writeReceivedRecord } from '../../src/lib/spool/received.js';

// KSMPPD's HTTP auth and HTTP routing (spec section 3) against a small HTTP service in the test,
// with the `smpp` package's client over TCP.

let t: TestSmppd | undefined;
let service: http.Server | undefined;
const hanging = new Set<http.ServerResponse>();
afterEach(async () => {
  await t?.stop();
  t?.spool.cleanup();
  t = undefined;
  for (const r of hanging) r.destroy();
  hanging.clear();
  await new Promise((r) => (service ? service.close(r) : r(undefined)));
  service?.closeAllConnections();
  service = undefined;
});

type Answer = Record<string, string> | 'hang';

/** The auth and routing service: `answer` sees the request headers (lower case) and gives the response headers. */
async function startService(
  answer: (path: string, h: http.IncomingHttpHeaders) => Answer,
): Promise<{ url: string; requests: { path: string; headers: http.IncomingHttpHeaders }[] }> {
  const requests: { path: string; headers: http.IncomingHttpHeaders }[] = [];
  service = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    const a = answer(req.url ?? '', req.headers);
    if (a === 'hang') {
      hanging.add(res);
      return;
    }
    res.writeHead(200, a);
    res.end('ignored body');
  });
  await new Promise<void>((r) => service?.listen(0, '127.0.0.1', r));
  const { port } = service.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests };
}

const USERS: Record<string, Record<string, string>> = {
  'smppuserA:smppassA': {
    'X-KSMPPD-Auth': '1',
    'X-KSMPPD-Throughput': '10',
    'X-KSMPPD-Max-Binds': '2',
    'X-KSMPPD-Connect-Allow-IP': '*.*.*.*',
  },
  'smppuserB:smppassB': {
    'X-KSMPPD-Auth': '1',
    'X-KSMPPD-Default-SMSC': 'modemB',
    'X-KSMPPD-Default-SMSC-Cost': '0.5',
  },
  'smppuserC:smppassC': { 'X-KSMPPD-Auth': '1', 'X-KSMPPD-Connect-Allow-IP': '10.0.0.*' },
  'smppuserZ:smppassZ': { 'X-KSMPPD-Auth': '0' },
};

/** Routes by receiver, as the PHP example of KSMPPD does. */
function route(h: http.IncomingHttpHeaders): Answer {
  const receiver = decodeURIComponent(String(h['x-ksmppd-receiver'] ?? ''));
  if (h['x-ksmppd-routing-direction'] === '2')
    return receiver.startsWith('+420600')
      ? { 'X-KSMPPD-Route-Status': '1', 'X-KSMPPD-Route-Cost': '0', 'X-KSMPPD-Service': 'smppuserA' }
      : { 'X-KSMPPD-Route-Status': '0' };
  if (receiver.startsWith('+420'))
    return { 'X-KSMPPD-Route-Status': '1', 'X-KSMPPD-Route-Cost': '0.1', 'X-KSMPPD-SMSC-ID': 'modemCZ' };
  if (receiver.startsWith('+44')) return { 'X-KSMPPD-Route-Status': '1', 'X-KSMPPD-Route-Cost': '0.1' };
  if (receiver.startsWith('+49')) return { 'X-KSMPPD-Route-Status': '1' }; // no Route-Cost
  if (receiver.startsWith('+1')) return 'hang';
  return { 'X-KSMPPD-Route-Status': '0', 'X-KSMPPD-Route-Error-Code': '51' };
}

function answer(p: string, h: http.IncomingHttpHeaders): Answer {
  if (p === '/route') return route(h);
  const who = `${String(h['x-ksmppd-system-id'])}:${String(h['x-ksmppd-password'])}`;
  if (who.startsWith('slow:')) return 'hang';
  return USERS[who] ?? { 'X-KSMPPD-Auth': '0' };
}

const gsm = (text: string): Buffer => Buffer.from(encodeGsm7(text));
const submit = (s: Session, to: string, text = 'hello') =>
  call(s, 'submit_sm', {
    source_addr: '420777000001',
    source_addr_ton: 1,
    destination_addr: to,
    data_coding: 0,
    short_message: gsm(text),
  });

const httpConfig = (url: string, extra = '') =>
  `AccountsSource = http\nRoutesSource = http\nAuthUrl = ${url}/auth\nRoutingUrl = ${url}/route\nHttpTimeout = 0.5\nBlockAttempts = 0\n${extra}`;

describe('HTTP auth (KSMPPD auth-method 2)', () => {
  it('admits on X-KSMPPD-Auth, applies the account headers, caches positive answers only', async () => {
    const svc = await startService(answer);
    t = await startTestSmppd([], httpConfig(svc.url));
    const auths = () => svc.requests.filter((r) => r.path === '/auth');
    const a1 = await bind(t.port, 'smppuserA', 'smppassA');
    expect(a1.resp.command_status).toBe(0);
    expect(auths()[0]?.headers).toMatchObject({
      'x-ksmppd-system-id': 'smppuserA',
      'x-ksmppd-password': 'smppassA',
    });
    // Max-Binds 2; the second bind is answered from the cache.
    const a2 = await bind(t.port, 'smppuserA', 'smppassA');
    expect(a2.resp.command_status).toBe(0);
    expect(auths()).toHaveLength(1);
    expect((await bind(t.port, 'smppuserA', 'smppassA')).resp.command_status).toBe(0x0d);
    // Refused (Auth 0, or unknown): ESME_RINVPASWD like a wrong password anywhere else; not cached.
    expect((await bind(t.port, 'smppuserA', 'wrong')).resp.command_status).toBe(0x0e);
    expect((await bind(t.port, 'smppuserZ', 'smppassZ')).resp.command_status).toBe(0x0e);
    expect((await bind(t.port, 'smppuserZ', 'smppassZ')).resp.command_status).toBe(0x0e);
    expect(auths()).toHaveLength(4);
    // Connect-Allow-IP 10.0.0.* keeps 127.0.0.1 out.
    expect((await bind(t.port, 'smppuserC', 'smppassC')).resp.command_status).toBe(0x0d);
    // A reload empties the cache.
    await t.smppd.reload();
    a1.session.close();
    await waitFor(() => t?.smppd.server.bindsOf('smppuserA').length === 1, 3_000, 'unbound');
    expect((await bind(t.port, 'smppuserA', 'smppassA')).resp.command_status).toBe(0);
    expect(auths()).toHaveLength(6);
    // Passwords never reach the log.
    expect(t.logs.join('\n')).not.toMatch(/smppass|wrong/);
    a2.session.close();
  });

  it('refuses binds with ESME_RBINDFAIL within HttpTimeout when the service does not answer, and says so once', async () => {
    const svc = await startService(answer);
    t = await startTestSmppd([], httpConfig(svc.url));
    const started = Date.now();
    const [x, y] = await Promise.all([bind(t.port, 'slow', 'pw1'), bind(t.port, 'slow', 'pw2')]);
    expect([x.resp.command_status, y.resp.command_status]).toEqual([0x0d, 0x0d]);
    expect(Date.now() - started).toBeLessThan(2_000);
    const down = t.logs.filter((l) => /HTTP auth service http:\/\/127\.0\.0\.1:\d+\/auth is down/.test(l));
    expect(down).toHaveLength(1);
    expect(down[0]).toMatch(
      /is down \(no answer within 0\.5 s\); binds are refused with ESME_RBINDFAIL until it answers/,
    );
    // It answers again: binds work, and the log says so.
    expect((await bind(t.port, 'smppuserA', 'smppassA')).resp.command_status).toBe(0);
    expect(t.logs.some((l) => /HTTP auth service .* answers again/.test(l))).toBe(true);
  });

  it('refuses binds at once when nothing listens at AuthUrl', async () => {
    // A port that was free a moment ago: connections to it are refused.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    t = await startTestSmppd([], httpConfig(`http://127.0.0.1:${port}`));
    expect((await bind(t.port, 'smppuserA', 'smppassA')).resp.command_status).toBe(0x0d);
    expect(
      t.logs.some((l) =>
        l.includes(`HTTP auth service http://127.0.0.1:${port}/auth is down (ECONNREFUSED)`),
      ),
    ).toBe(true);
  });
});

describe('HTTP routing (KSMPPD routing-method 2)', () => {
  it('routes MT by the answer headers: SMSC-ID pins the modem; errors, missing cost, default SMSC, timeouts', async () => {
    const svc = await startService(answer);
    t = await startTestSmppd([], httpConfig(svc.url));
    const { session } = await bind(t.port, 'smppuserA', 'smppassA');
    const cz = await submit(session, '+420777123456', 'Ahoj +');
    expect(cz.command_status).toBe(0);
    expect(await phoneOf(t, cz.message_id)).toBe('modemCZ');
    const req = svc.requests.find((r) => r.path === '/route')?.headers;
    expect(req).toMatchObject({
      'x-ksmppd-routing-direction': '1',
      'x-ksmppd-sender': '%2B420777000001',
      'x-ksmppd-receiver': '%2B420777123456',
      'x-ksmppd-msgdata': 'Ahoj%20%2B',
      'x-ksmppd-service': 'smppuserA',
      'x-ksmppd-sms-type': '2',
      'x-ksmppd-coding': '0',
      'x-ksmppd-id': String(cz.message_id),
    });
    // Routed without SMSC-ID: any modem.
    const uk = await submit(session, '+447700900123');
    expect(uk.command_status).toBe(0);
    expect(await phoneOf(t, uk.message_id)).toBeUndefined();
    // Route-Status 0 with Route-Error-Code 51: that status; Route-Status 1 without Route-Cost: RSUBMITFAIL.
    expect((await submit(session, '+33612345678')).command_status).toBe(51);
    expect((await submit(session, '+4930123456')).command_status).toBe(0x45);
    // No answer within HttpTimeout: ESME_RSYSERR (try again), not a hung submit.
    const started = Date.now();
    expect((await submit(session, '+15551234567')).command_status).toBe(0x08);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(
      t.logs.filter((l) => /HTTP routing service .*\/route is down \(no answer within 0\.5 s\)/.test(l)),
    ).toHaveLength(1);
    // An account with a Default-SMSC falls back on it whenever routing fails, as in KSMPPD.
    const b = await bind(t.port, 'smppuserB', 'smppassB');
    const fallback = await submit(b.session, '+33612345678');
    expect(fallback.command_status).toBe(0);
    expect(await phoneOf(t, fallback.message_id)).toBe('modemB');
    session.close();
    b.session.close();
  });

  it('routes MO to the ESME in X-KSMPPD-Service', async () => {
    const svc = await startService(answer);
    t = await startTestSmppd([], httpConfig(svc.url));
    const a = await bindCollecting(t.port, 'smppuserA', 'smppassA', 'bind_receiver');
    const name = 'IN20261127_120000_00_+420777000001_00.txt';
    writeReceivedRecord(t.spool.inbox, name, { phoneId: 'modem2', receiver: '+420600123' });
    fs.writeFileSync(path.join(t.spool.inbox, name), 'to the short code');
    await waitFor(() => a.got.length === 1, 5_000, 'MO');
    expect(a.got.map((p) => [p.source_addr, p.destination_addr])).toEqual([['420777000001', '420600123']]);
    const req = svc.requests.find((r) => r.headers['x-ksmppd-routing-direction'] === '2')?.headers;
    expect(req).toMatchObject({
      'x-ksmppd-receiver': '%2B420600123',
      'x-ksmppd-smsc-id': 'modem2',
      'x-ksmppd-msgdata': 'to%20the%20short%20code',
      'x-ksmppd-sms-type': '0',
    });
    a.session.close();
  });
});

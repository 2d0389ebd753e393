import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { createTempDb, serverAvailable, type TempDb } from '../sql/db.js';
import { startTestSmppd, type TestSmppd } from './harness.js';

// Kannel's dlr-url with [smsd] Service = sql: sendsms into Gammu's outbox of a real MariaDB or
// PostgreSQL, the real `smsd run` (on the modem emulator) sends it and writes the status report
// into sentitems, smppd's SQL receipts path calls the URL. The application is a node:http
// listener written here (no project code).

interface Stack {
  db: TempDb;
  rig: Rig;
  smppd: TestSmppd;
  app: http.Server;
}
let stacks: Stack[] = [];
afterEach(async () => {
  for (const s of stacks) {
    await s.smppd.stop().catch(() => undefined);
    await s.rig.close();
    await s.db.drop();
    s.app.close();
  }
  stacks = [];
});

describe.each(['mysql', 'pgsql'] as const)('dlr-url with Service = sql on %s', (dialect) => {
  it('8 (sent) then 1 (delivered) reach the application once each, escapes expanded', async () => {
    if (!(await serverAvailable(dialect))) return;
    const calls: URLSearchParams[] = [];
    const app = http.createServer((req, res) => {
      calls.push(new URL(req.url ?? '/', 'http://x').searchParams);
      res.end('OK');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as net.AddressInfo).port;
    const db = await createTempDb(dialect, 18);
    const rig = await startRig({
      config: `${FAST_TIMERS}DeliveryReport = log\nPhoneID = run1\n`,
      startDaemon: false,
    });
    fs.writeFileSync(
      rig.spool.config,
      fs.readFileSync(rig.spool.config, 'utf8').replace('service = files\n', db.configLines),
    );
    const smppd = await startTestSmppd(
      [{ systemId: 'shop', password: 'pw123' }],
      'HttpPort = 0\nHttpListen = 127.0.0.1\n',
      rig.spool,
    );
    stacks.push({ db, rig, smppd, app });
    rig.startDaemon();
    const dlrUrl = `http://127.0.0.1:${appPort}/dlr?id=%I&type=%d&from=%p&to=%P&text=%A&user=%n&smsc=%i`;
    const q = new URLSearchParams({
      username: 'shop',
      password: 'pw123',
      from: 'Shop',
      to: '+420111222555',
      text: 'Via SQL',
      'dlr-mask': '9',
      'dlr-url': dlrUrl,
    });
    const res = await fetch(`http://127.0.0.1:${smppd.smppd.httpPort}/cgi-bin/sendsms?${q.toString()}`);
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('0: Accepted for delivery');
    const id = res.headers.get('x-message-id') ?? '';
    const out = (): string => `--- smppd ---\n${smppd.logs.join('\n')}\n--- smsd run ---\n${rig.output()}`;
    await waitFor(() => calls.some((c) => c.get('type') === '1'), 40_000, `delivered DLR\n${out()}`);
    await new Promise((r) => setTimeout(r, 1500)); // a repeat would come within a poll or two
    expect(calls.map((c) => c.get('type')).sort()).toEqual(['1', '8']);
    const d = calls.find((c) => c.get('type') === '1');
    expect(d?.get('id')).toBe(id);
    expect(d?.get('from')).toBe('Shop');
    expect(d?.get('to')).toBe('+420111222555');
    expect(d?.get('user')).toBe('shop');
    expect(d?.get('smsc')).toBe('');
    expect(d?.get('text')).toMatch(
      new RegExp(`^id:${id} sub:001 dlvrd:001 .* stat:DELIVRD err:000 text:Via SQL$`),
    );
    expect(calls.find((c) => c.get('type') === '8')?.get('text')).toBe('ACK/');
    expect(smppd.smppd.dlr.size).toBe(0);
  }, 90_000);

  it('MO from the SQL inbox go to the URL of MoRoutesFile (by modem), once', async () => {
    if (!(await serverAvailable(dialect))) return;
    const calls: URLSearchParams[] = [];
    const app = http.createServer((req, res) => {
      calls.push(new URL(req.url ?? '/', 'http://x').searchParams);
      res.end('OK');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as net.AddressInfo).port;
    const db = await createTempDb(dialect, 18);
    const rig = await startRig({ config: `${FAST_TIMERS}PhoneID = run1\n`, startDaemon: false });
    fs.writeFileSync(
      rig.spool.config,
      fs.readFileSync(rig.spool.config, 'utf8').replace('service = files\n', db.configLines),
    );
    const rules = `${rig.spool.dir}/mo-routes`;
    fs.writeFileSync(
      rules,
      `phone=other get-url=http://127.0.0.1:${appPort}/wrong\nphone=run1 get-url=http://127.0.0.1:${appPort}/mo?from=%p&text=%a&i=%i\n`,
    );
    const smppd = await startTestSmppd(
      [{ systemId: 'shop', password: 'pw123', extra: 'mo = yes\n' }],
      `MoRoutesFile = ${rules}\n`,
      rig.spool,
    );
    stacks.push({ db, rig, smppd, app });
    rig.startDaemon();
    // smppd's first start takes what is already in the inbox as not its own: wait for it to start.
    await waitFor(() => smppd.logs.some((l) => /SQL inbox: first start/.test(l)), 20_000, 'first poll');
    rig.emulator.modem.deliver({ from: '+420777888111', text: 'Into the SQL inbox' });
    const out = (): string => `--- smppd ---\n${smppd.logs.join('\n')}\n--- smsd run ---\n${rig.output()}`;
    await waitFor(() => calls.length === 1, 30_000, `MO call\n${out()}`);
    await new Promise((r) => setTimeout(r, 2000));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.get('from')).toBe('+420777888111');
    expect(calls[0]?.get('text')).toBe('Into the SQL inbox');
    expect(calls[0]?.get('i')).toBe('run1');
  }, 90_000);
});

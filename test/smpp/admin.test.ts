import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { Session } from 'smpp';
import { waitFor } from '../helpers/rig.js';
import { makeSpool, ROOT, type TempSpool } from '../helpers/spool.js';
import { bind, call, closed, writeAccounts } from './harness.js';

// `smppd serve`, `routes rebuild` and `esme ...` as the processes an operator runs, on 127.0.0.1.

const BIN = (name: string): string => path.join(ROOT, 'bin', `${name}.js`);
const PASSWORD = 'adm-s3cret';

interface Server {
  spool: TempSpool;
  proc: ChildProcess;
  port: number;
  adminPort: number;
  accounts: string;
  out: () => string;
}
const servers: Server[] = [];
const sessions: Session[] = [];

afterAll(() => {
  for (const s of sessions) s.socket.destroy();
  for (const s of servers) {
    if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
    s.spool.cleanup();
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(extra = ''): Promise<Server> {
  const spool = makeSpool();
  const accounts = path.join(spool.dir, 'esme.ini');
  await writeAccounts(accounts, [
    { systemId: 'shop', password: 'pw-shop' },
    { systemId: 'bank', password: 'pw-bank' },
  ]);
  const adminPort = await freePort();
  fs.appendFileSync(
    spool.config,
    `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nAdminPort = ${adminPort}\nAdminPassword = ${PASSWORD}\n${extra}`,
  );
  const proc = spawn(process.execPath, [BIN('smppd'), 'serve', '-c', spool.config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const s: Server = { spool, proc, port: 0, adminPort, accounts, out: () => out };
  servers.push(s);
  await waitFor(() => out.includes('admin HTTP on'), 15_000, `smppd start\n${out}`);
  s.port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  return s;
}

function get(
  port: number,
  pathAndQuery: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathAndQuery, headers, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function cli(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN(bin), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A bound transceiver that answers our unbind like a well-behaved ESME. */
async function boundEsme(port: number, systemId: string, password: string): Promise<Session> {
  const { session, resp } = await bind(port, systemId, password);
  sessions.push(session);
  expect(resp.command_status).toBe(0);
  session.on('unbind', (pdu: { response(): unknown }) => session.send(pdu.response() as never));
  return session;
}

describe('smppd admin HTTP', () => {
  it('answers its commands as text, JSON and XML with the password (parameter or header), 401 and nothing done without', async () => {
    const s = await startServer();
    const shop = await boundEsme(s.port, 'shop', 'pw-shop');
    await call(shop, 'submit_sm', { destination_addr: '+420111222333', short_message: 'hi' });
    const q = `password=${PASSWORD}`;

    const up = await get(s.adminPort, `/uptime?${q}`);
    expect(up.status).toBe(200);
    expect(up.body).toMatch(/^Uptime \d+d \d+h \d+m \d+s\n$/);
    expect(JSON.parse((await get(s.adminPort, `/uptime.json?${q}`)).body)).toHaveProperty('uptime');
    expect((await get(s.adminPort, `/uptime.xml?${q}`)).body).toMatch(/<uptime>\d+<\/uptime>/);

    const status = await get(s.adminPort, '/esme-status.json', { 'X-Admin-Password': PASSWORD });
    expect(status.status).toBe(200);
    const data = JSON.parse(status.body) as {
      esmes: { 'system-id': string; binds: Record<string, unknown>[] }[];
    };
    expect(data.esmes.map((e) => e['system-id'])).toEqual(['shop']);
    expect(data.esmes[0]?.binds[0]).toMatchObject({
      'bind-type': 'trx',
      ip: '127.0.0.1',
      'messages-in': 1,
      'messages-out': 0,
      'open-acks': 0,
      window: 100,
    });
    const text = await get(s.adminPort, `/esme-status?${q}`);
    expect(text.body).toMatch(/^shop - binds:1\/0, throughput:0\/sec, queued:0$/m);
    expect(text.body).toMatch(
      /^-- id:\d+ ip:127\.0\.0\.1 type:trx\(3\) bound since:\S+ .*in:1 out:0, open-acks:0\/100$/m,
    );
    expect((await get(s.adminPort, `/esme-status.xml?${q}`)).body).toMatch(
      /<esmes><summary><unique>1<\/unique><inbound-processed>1<\/inbound-processed>.*<\/summary><esme><system-id>shop<\/system-id><bind-count>1<\/bind-count><max-binds>0<\/max-binds>.*<bind><bind-id>\d+<\/bind-id><ip>127\.0\.0\.1<\/ip><uptime>\d+<\/uptime><bind-type>3<\/bind-type><open-acks>0<\/open-acks>/,
    );

    const metrics = await get(s.adminPort, `/metrics?${q}`);
    expect(metrics.body).toMatch(/^smppd_binds\{system_id="shop"\} 1$/m);
    expect(metrics.body).toMatch(/^smppd_submits_total 1$/m);
    expect(metrics.body).toMatch(/^smppd_deliver_sm_total 0$/m);
    expect(metrics.body).toMatch(/^smppd_esme_submits_total\{system_id="shop"\} 1$/m);
    expect(metrics.body).toMatch(/^smppd_delivery_latency_seconds_count 0$/m);
    expect((await get(s.adminPort, '/metrics')).status).toBe(401);

    expect((await get(s.adminPort, `/log-level?${q}&level=nonsense`)).status).toBe(400);
    expect((await get(s.adminPort, `/log-level.json?${q}&level=0`)).body).toContain('Log level set to debug');
    expect((await get(s.adminPort, `/rebuild-routes?${q}`)).body).toMatch(
      /^Routes updated: 0 routes, 2 accounts/,
    );
    const unknown = await get(s.adminPort, `/nope?${q}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('/esme-unbind');
    expect((await get(s.adminPort, `/esme-unbind?${q}`)).status).toBe(406);
    expect((await get(s.adminPort, `/esme-unbind?${q}&system-id=nobody`)).status).toBe(404);

    // Wrong or missing password: 401, and the unbind is not done.
    for (const denied of [
      await get(s.adminPort, '/esme-unbind?system-id=shop&password=wrong'),
      await get(s.adminPort, '/esme-unbind.json?system-id=shop', { 'X-Admin-Password': 'wrong' }),
      await get(s.adminPort, '/esme-unbind.xml?system-id=shop'),
      await get(s.adminPort, '/log-level?level=3&password='),
    ])
      expect(denied.status).toBe(401);
    expect(shop.socket.destroyed).toBe(false);
    expect((await call(shop, 'enquire_link')).command_status).toBe(0);
    expect(s.out()).toMatch(/admin HTTP: \/esme-unbind from 127\.0\.0\.1 denied/);
  });

  it('/metrics without the password when AdminMetricsPublic = yes (the rest still needs it)', async () => {
    const s = await startServer('AdminMetricsPublic = yes\n');
    expect((await get(s.adminPort, '/metrics')).body).toMatch(/^smppd_submits_total 0$/m);
    expect((await get(s.adminPort, '/uptime')).status).toBe(401);
  });
});

describe('routes rebuild, esme unbind and esme add/set/remove/list', () => {
  it('esme unbind disconnects one ESME (or one bind of it) while the others stay bound', async () => {
    const s = await startServer();
    const shop1 = await boundEsme(s.port, 'shop', 'pw-shop');
    const shop2 = await boundEsme(s.port, 'shop', 'pw-shop');
    const bank = await boundEsme(s.port, 'bank', 'pw-bank');
    const status = JSON.parse((await get(s.adminPort, `/esme-status.json?password=${PASSWORD}`)).body) as {
      esmes: { 'system-id': string; binds: { 'bind-id': number }[] }[];
    };
    const shopIds = status.esmes.find((e) => e['system-id'] === 'shop')?.binds.map((b) => b['bind-id']) ?? [];
    expect(shopIds).toHaveLength(2);

    const one = await cli('esme', [
      'unbind',
      '--system-id',
      'SHOP',
      '--bind-id',
      String(shopIds[0]),
      '-c',
      s.spool.config,
    ]);
    expect(one).toMatchObject({ code: 0, stdout: '1 bind disconnected\n' });
    await closed(shop1);
    expect(shop2.socket.destroyed).toBe(false);

    const all = await cli('esme', ['unbind', '--system-id', 'shop', '-c', s.spool.config]);
    expect(all).toMatchObject({ code: 0, stdout: '1 bind disconnected\n' });
    await closed(shop2);
    expect(bank.socket.destroyed).toBe(false);
    expect((await call(bank, 'enquire_link')).command_status).toBe(0);

    const none = await cli('esme', [
      'unbind',
      '--system-id',
      'shop',
      '--bind-id',
      '999999',
      '-c',
      s.spool.config,
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/refused \(HTTP 404\)/);
  }, 120_000);

  it('esme add, then a bind with that password after routes rebuild; esme list without hashes; set and remove', async () => {
    const s = await startServer();
    const c = ['-c', s.spool.config];
    const add = await cli('esme', [
      'add',
      'newbie',
      '--password',
      'nb-pw',
      '--throughput',
      '20',
      '--max-binds',
      '1',
      '--allow',
      '127.0.0.1',
      ...c,
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('added newbie');
    expect(fs.readFileSync(s.accounts, 'utf8')).not.toContain('nb-pw');
    expect((await cli('esme', ['add', 'NEWBIE', '--password', 'x', ...c])).code).toBe(1);

    // Not yet known to the running server.
    const before = await bind(s.port, 'newbie', 'nb-pw');
    sessions.push(before.session);
    expect(before.resp.command_status).toBe(0x0e); // ESME_RINVPASWD

    const rebuild = await cli('routes', ['rebuild', ...c]);
    expect(rebuild).toMatchObject({ code: 0 });
    expect(rebuild.stdout).toMatch(/^Routes updated: 0 routes, 3 accounts/);
    const after = await boundEsme(s.port, 'newbie', 'nb-pw');
    expect((await call(after, 'enquire_link')).command_status).toBe(0);

    expect((await cli('esme', ['set', 'newbie', '--enabled', 'no', '--mo', 'yes', ...c])).code).toBe(0);
    const list = await cli('esme', ['list', ...c]);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toMatch(/scrypt|\$/);
    expect(list.stdout.split('\n')).toEqual([
      'SYSTEM_ID  ENABLED  MAX_BINDS  THROUGHPUT  MO   PREPAID  SIMULATE  ALLOW',
      'shop       yes      unlimited  unlimited   no   no       no        0.0.0.0/0, ::/0',
      'bank       yes      unlimited  unlimited   no   no       no        0.0.0.0/0, ::/0',
      'newbie     no       1          20          yes  no       no        127.0.0.1/32',
      '',
    ]);

    expect((await cli('esme', ['remove', 'bank', ...c])).code).toBe(0);
    expect((await cli('esme', ['remove', 'bank', ...c])).code).toBe(1);
    expect((await cli('esme', ['list', ...c])).stdout).not.toContain('bank');
    expect(fs.readdirSync(s.spool.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  }, 120_000);

  it('esme set --password takes effect at routes rebuild; concurrent esme add lose nothing', async () => {
    const s = await startServer();
    const c = ['-c', s.spool.config];
    const set = await cli('esme', ['set', 'shop', '--password', 'new-pw', ...c]);
    expect(set.code, set.stderr).toBe(0);
    expect((await cli('routes', ['rebuild', ...c])).code).toBe(0);
    const old = await bind(s.port, 'shop', 'pw-shop');
    sessions.push(old.session);
    expect(old.resp.command_status).toBe(0x0e);
    await boundEsme(s.port, 'shop', 'new-pw');

    const names = ['c1', 'c2', 'c3', 'c4'];
    const adds = await Promise.all(names.map((n) => cli('esme', ['add', n, '--password', 'pw', ...c])));
    expect(adds.map((a) => a.code)).toEqual([0, 0, 0, 0]);
    const listed = (await cli('esme', ['list', ...c])).stdout;
    for (const n of names) expect(listed).toMatch(new RegExp(`^${n} `, 'm'));
  }, 120_000);

  it('/log-level error silences info lines until set back', async () => {
    const s = await startServer();
    const q = `password=${PASSWORD}`;
    expect((await get(s.adminPort, `/log-level?${q}&level=3`)).body).toBe('Log level set to error\n');
    const before = s.out().length;
    const b = await boundEsme(s.port, 'bank', 'pw-bank');
    await call(b, 'enquire_link');
    expect(s.out().slice(before)).not.toContain('bound as trx');
    expect((await get(s.adminPort, `/log-level?${q}&level=info`)).status).toBe(200);
    await boundEsme(s.port, 'shop', 'pw-shop');
    await waitFor(() => s.out().slice(before).includes('bound as trx'), 5_000, 'info line');
  });

  it('exit 1 with a clear message when the server is not reachable or refuses the password', async () => {
    const s = await startServer();
    const wrong = path.join(s.spool.dir, 'wrong-password.rc');
    fs.writeFileSync(wrong, fs.readFileSync(s.spool.config, 'utf8').replace(`= ${PASSWORD}`, '= guess'));
    const refused = await cli('routes', ['rebuild', '-c', wrong]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused: wrong AdminPassword');

    s.proc.kill('SIGTERM');
    await waitFor(() => s.proc.exitCode !== null, 10_000, 'smppd exit');
    expect(s.proc.exitCode).toBe(0);
    const down = await cli('esme', ['unbind', '--system-id', 'shop', '-c', s.spool.config]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/smppd serve is not reachable at 127\.0\.0\.1:\d+ \(admin HTTP\)/);

    const noAdmin = path.join(s.spool.dir, 'no-admin.rc');
    fs.writeFileSync(noAdmin, fs.readFileSync(s.spool.config, 'utf8').replace(/^Admin.*$/gm, ''));
    const off = await cli('routes', ['rebuild', '-c', noAdmin]);
    expect(off.code).toBe(1);
    expect(off.stderr).toContain('has no AdminPort');
  });
});

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import smpp, { type PDU, type Session } from 'smpp';
import { bind, bindCollecting, call, startTestSmppd, type TestSmppd, outboxFileOf } from './harness.js';
import { waitFor } from '../helpers/rig.js';
import { ROOT } from '../helpers/spool.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import { writeReceivedRecord } from '../../src/lib/spool/received.js';
import { ledgerFile } from '../../src/lib/smpp/policy/billing.js';

// Routes, prepaid billing, simulation, MO routing and the TLS listener of `smppd serve`, with the
// `smpp` package's client over TCP (and TLS).

let t: TestSmppd | undefined;
afterEach(async () => {
  await t?.stop();
  t?.spool.cleanup();
  t = undefined;
});

const gsm = (text: string): Buffer => Buffer.from(encodeGsm7(text));
const submit = (s: Session, to: string, text = 'hello', extra: Record<string, string | number> = {}) =>
  call(s, 'submit_sm', {
    source_addr: 'Shop',
    source_addr_ton: 5,
    destination_addr: to,
    data_coding: 0,
    short_message: gsm(text),
    ...extra,
  });

function writeRoutes(t: TestSmppd, text: string): void {
  fs.writeFileSync(path.join(t.spool.dir, 'routes.ini'), text);
}

describe('outbound routes', () => {
  it('pins a route to a PhoneID, refuses what no route takes, and changes at a reload without dropping the bind', async () => {
    const spoolRoutes = `[mobile]\ndestination = ^\\+4207\nphone = modem2\n\n[blocked]\ndestination = ^\\+42090\naction = reject\npriority = 9\n`;
    const { makeSpool } = await import('../helpers/spool.js');
    const spool = makeSpool();
    fs.writeFileSync(path.join(spool.dir, 'routes.ini'), spoolRoutes);
    t = await startTestSmppd(
      [
        { systemId: 'alpha', password: 'secret1', extra: 'default_route = none\n' },
        { systemId: 'beta', password: 'secret2' },
      ],
      `RoutesFile = ${path.join(spool.dir, 'routes.ini')}\n`,
      spool,
    );
    const { session } = await bind(t.port, 'alpha', 'secret1');
    const pinned = await submit(session, '+420777123456');
    expect(pinned.command_status).toBe(0);
    expect((await outboxFileOf(t, String(pinned.message_id))).ext.PhoneID).toBe('modem2');
    expect((await submit(session, '+420900123456')).command_status).toBe(0x0b); // action = reject
    expect((await submit(session, '+4412345678')).command_status).toBe(0x0b); // no route, default none
    // beta keeps the default default_route (spool, any modem)
    const b = await bind(t.port, 'beta', 'secret2');
    const any = await submit(b.session, '+4412345678');
    expect(any.command_status).toBe(0);
    expect((await outboxFileOf(t, String(any.message_id))).ext.PhoneID).toBeUndefined();
    // A new route, taken at the reload; a broken file leaves the old routes in place.
    writeRoutes(t, `${spoolRoutes}\n[uk]\ndestination = ^\\+44\n`);
    await expect(t.smppd.reload()).resolves.toMatch(/Routes updated: 3 routes/);
    expect((await submit(session, '+4412345678')).command_status).toBe(0);
    writeRoutes(t, '[bad]\ndestination = ^(\n');
    await expect(t.smppd.reload()).rejects.toThrow(/destination = \^\(/);
    expect((await submit(session, '+4412345678')).command_status).toBe(0);
    expect((await call(session, 'enquire_link')).command_status).toBe(0);
    session.close();
    b.session.close();
  });
});

/** Prepaid: ledger, refusal, refund. */
describe('prepaid billing', () => {
  it('charges route cost x parts, refuses without credit (0x45) and refunds a message that failed', async () => {
    const { makeSpool } = await import('../helpers/spool.js');
    const spool = makeSpool();
    fs.writeFileSync(path.join(spool.dir, 'routes.ini'), '[cz]\ndestination = ^\\+420\ncost = 0.05\n');
    t = await startTestSmppd(
      [{ systemId: 'shop', password: 'secret1', extra: 'prepaid = yes\ndefault_cost = 1\n' }],
      `RoutesFile = ${path.join(spool.dir, 'routes.ini')}\nAdminPort = 0\nAdminPassword = adm1n\n`,
      spool,
    );
    const { session } = await bind(t.port, 'shop', 'secret1');
    expect((await submit(session, '+420777000001')).command_status).toBe(0x45); // no credit yet
    const port = t.smppd.adminPort;
    const credit = await new Promise<string>((resolve, reject) =>
      http
        .get(
          {
            host: '127.0.0.1',
            port,
            path: '/esme-credit?system-id=shop&amount=0.2',
            headers: { 'X-Admin-Password': 'adm1n' },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve(body));
          },
        )
        .on('error', reject),
    );
    expect(credit).toBe('Credit of shop: 0.2\n');
    const one = await submit(session, '+420777000001', 'one part');
    expect(one.command_status).toBe(0);
    const long = await submit(session, '+420777000002', 'x'.repeat(200)); // 2 parts: 0.1
    expect(long.command_status).toBe(0);
    expect((await submit(session, '+420777000003', 'y'.repeat(200))).command_status).toBe(0x45); // 0.05 left
    expect((await submit(session, '+420777000003')).command_status).toBe(0); // exactly the rest
    expect((await submit(session, '+420777000004')).command_status).toBe(0x45);
    // smsd run gives up on the long one: it lands in error/, the 0.1 comes back.
    const failed = (await outboxFileOf(t, String(long.message_id))).name;
    fs.renameSync(path.join(t.spool.outbox, failed), path.join(t.spool.error, failed));
    const ledger = ledgerFile(path.join(t.spool.dir, 'smppd', 'billing'), 'shop');
    await waitFor(() => fs.readFileSync(ledger, 'utf8').includes('\trefund\t'), 5_000, 'refund');
    const rows = fs
      .readFileSync(ledger, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows.map((r) => [r[1], r[2], r[3], r[4]])).toEqual([
      ['topup', '0.2', '0.2', '-'],
      ['charge', '-0.05', '0.15', String(one.message_id)],
      ['charge', '-0.1', '0.05', String(long.message_id)],
      ['charge', '-0.05', '0', expect.any(String)],
      ['refund', '0.1', '0.1', String(long.message_id)],
    ]);
    expect((await submit(session, '+420777000005')).command_status).toBe(0); // credit again
    session.close();
  });

  it('esme credit writes the ledger while no server runs', async () => {
    const { smppdConfig } = await import('./harness.js');
    const made = await smppdConfig([{ systemId: 'shop', password: 'secret1', extra: 'prepaid = yes\n' }]);
    const esme = (cmd: string, ...args: string[]) =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin', 'esme.js'), cmd, '-c', made.configFile, ...args], {
        encoding: 'utf8',
      });
    try {
      expect(esme('credit', 'shop', '12.5').stdout).toBe('credit of shop: 12.5\n');
      expect(esme('credit', 'shop', '--', '-2').stdout).toBe('credit of shop: 10.5\n');
      expect(esme('credit', 'shop').stdout).toBe('credit of shop: 10.5\n');
      const nobody = esme('credit', 'nobody', '1');
      expect(nobody.status).toBe(1);
      expect(nobody.stderr).toMatch(/no system_id nobody/);
    } finally {
      made.spool.cleanup();
    }
  });
});

describe('simulation', () => {
  it('answers without a modem: every 3rd RMSGQFUL, every 2nd a DELIVRD receipt, every 4th an MO echo', async () => {
    t = await startTestSmppd([
      {
        systemId: 'sim',
        password: 'secret1',
        extra:
          'simulate = yes\nsimulate_deliver_every = 2\nsimulate_temporary_failure_every = 3\nsimulate_mo_every = 4\n',
      },
    ]);
    const { session, got } = await bindCollecting(t.port, 'sim', 'secret1');
    const statuses: number[] = [];
    const ids: string[] = [];
    for (let i = 1; i <= 8; i++) {
      const r = await submit(session, '+420777000111', `test ${i}`);
      statuses.push(r.command_status);
      ids.push(String(r.message_id ?? ''));
    }
    expect(statuses).toEqual([0, 0, 0x14, 0, 0, 0x14, 0, 0]);
    // receipts for submits 2, 4, 8 (6 failed); MO echoes for 4 and 8
    await waitFor(() => got.length === 5, 5_000, 'simulated deliver_sm');
    const receipts = got.filter((p) => p.esm_class === 4);
    expect(receipts.map((p) => p.receipted_message_id)).toEqual([ids[1], ids[3], ids[7]]);
    const mo = got.filter((p) => p.esm_class === 0);
    expect(mo.map((p) => [p.source_addr, p.destination_addr])).toEqual([
      ['420777000111', 'Shop'],
      ['420777000111', 'Shop'],
    ]);
    expect(fs.readdirSync(t.spool.outbox).filter((n) => n.startsWith('OUT'))).toEqual([]);
    session.close();
  });
});

describe('MO routing', () => {
  it('by receiving modem and by receiving number, with that number as destination_addr; mo = yes takes the rest', async () => {
    const { makeSpool } = await import('../helpers/spool.js');
    const spool = makeSpool();
    fs.writeFileSync(
      path.join(spool.dir, 'routes.ini'),
      '[m2]\ndirection = in\nphone = modem2\nsystem_id = beta\n\n[short]\ndirection = in\ndestination = ^\\+420600\nsystem_id = gamma\n',
    );
    t = await startTestSmppd(
      [
        { systemId: 'alpha', password: 'secret1', extra: 'mo = yes\n' },
        { systemId: 'beta', password: 'secret2' },
        { systemId: 'gamma', password: 'secret3' },
      ],
      `RoutesFile = ${path.join(spool.dir, 'routes.ini')}\n`,
      spool,
    );
    const [a, b, g] = await Promise.all([
      bindCollecting(t.port, 'alpha', 'secret1', 'bind_receiver'),
      bindCollecting(t.port, 'beta', 'secret2', 'bind_receiver'),
      bindCollecting(t.port, 'gamma', 'secret3', 'bind_receiver'),
    ]);
    const receive = (name: string, text: string, record?: { phoneId: string; receiver?: string }) => {
      if (record) writeReceivedRecord(spool.inbox, name, record);
      fs.writeFileSync(path.join(spool.inbox, name), text);
    };
    receive('IN20261127_120000_00_+420777000001_00.txt', 'to modem2', {
      phoneId: 'modem2',
      receiver: '+420777999000',
    });
    receive('IN20261127_120001_00_+420777000002_00.txt', 'to the short code', {
      phoneId: 'modem1',
      receiver: '+420600123',
    });
    receive('IN20261127_120002_00_+420777000003_00.txt', 'no record');
    await waitFor(() => a.got.length + b.got.length + g.got.length === 3, 5_000, 'three MO');
    expect(b.got.map((p) => [p.source_addr, p.destination_addr, p.dest_addr_ton])).toEqual([
      ['420777000001', '420777999000', 1],
    ]);
    expect(g.got.map((p) => p.destination_addr)).toEqual(['420600123']);
    // No receiving number recorded: our SystemId (no DefaultMoDestination, no PhoneID), never empty.
    expect(a.got.map((p) => [p.source_addr, p.destination_addr])).toEqual([['420777000003', 'smsgate']]);
    for (const x of [a, b, g]) x.session.close();
  });
});

describe('TLS listener', () => {
  it('binds and submits over TLS beside the plain port', async () => {
    const { makeSpool } = await import('../helpers/spool.js');
    const spool = makeSpool();
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-keyout',
        path.join(spool.dir, 'key.pem'),
        '-out',
        path.join(spool.dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    t = await startTestSmppd(
      [{ systemId: 'alpha', password: 'secret1' }],
      `TlsPort = 0\nTlsKey = ${path.join(spool.dir, 'key.pem')}\nTlsCert = ${path.join(spool.dir, 'cert.pem')}\n`,
      spool,
    );
    const port = t.smppd.tlsPort;
    expect(port).toBeGreaterThan(0);
    const session = await new Promise<Session>((resolve, reject) => {
      const s = smpp.connect({ url: `ssmpp://127.0.0.1:${port}`, rejectUnauthorized: false }, () =>
        resolve(s),
      );
      s.on('error', reject);
    });
    const resp = await call(session, 'bind_transceiver', { system_id: 'alpha', password: 'secret1' });
    expect(resp.command_status).toBe(0);
    const r: PDU = await submit(session, '+420777123456', 'over TLS');
    expect(r.command_status).toBe(0);
    expect((await outboxFileOf(t, String(r.message_id))).name).toMatch(/^OUT/);
    // Plain SMPP on the TLS port is a failed handshake for that connection only.
    const plain = await bind(t.port, 'alpha', 'secret1');
    expect(plain.resp.command_status).toBe(0);
    session.close();
    plain.session.close();
  });
});

describe('replace_sm', () => {
  it('replaces the text of a message still queued, keeps its ID, and refuses what it cannot honour', async () => {
    t = await startTestSmppd([
      { systemId: 'alpha', password: 'secret1' },
      { systemId: 'beta', password: 'secret2' },
    ]);
    const { session } = await bind(t.port, 'alpha', 'secret1');
    const r = await submit(session, '+420777123456', 'Your code is 1111', { registered_delivery: 1 });
    expect(r.command_status).toBe(0);
    const id = String(r.message_id);
    const replace = (s: Session, extra: Record<string, string | number | Buffer>) =>
      call(s, 'replace_sm', {
        message_id: id,
        source_addr: 'Shop',
        short_message: gsm('Your code is 2222'),
        ...extra,
      });
    expect((await replace(session, {})).command_status).toBe(0);
    const { name } = await outboxFileOf(t, id);
    const { readOutboxFile } = await import('../../src/lib/spool/outbox-read.js');
    const read = readOutboxFile(name, fs.readFileSync(path.join(t.spool.outbox, name)), 'auto', 0);
    expect(read.ok && read.message.parts.map((p) => p.text).join('')).toBe('Your code is 2222');
    expect(read.ok && read.message.parts[0]?.statusReport).toBe(true); // registered_delivery 0 kept the receipt
    // Another source_addr, another ESME, an unknown ID, schedule_delivery_time: refused.
    expect((await replace(session, { source_addr: 'Other' })).command_status).toBe(0x13);
    const b = await bind(t.port, 'beta', 'secret2');
    expect((await replace(b.session, {})).command_status).toBe(0x13);
    expect(
      (await call(session, 'replace_sm', { message_id: 'ffff0000', source_addr: 'Shop' })).command_status,
    ).toBe(0x13);
    expect((await replace(session, { schedule_delivery_time: '000001000000000R' })).command_status).toBe(
      0x61,
    );
    // Once a daemon has claimed the file, it is not rewritten under its feet.
    const { tryClaim } = await import('../../src/lib/spool/lock.js');
    const release = await tryClaim(path.join(t.spool.outbox, name));
    expect((await replace(session, { short_message: gsm('too late') })).command_status).toBe(0x13);
    await release?.();
    session.close();
    b.session.close();
  });
});

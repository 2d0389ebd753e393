import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRoutes, routeInbound, routeOutbound, RoutesError } from '../../src/lib/smpp/policy/routes.js';
import { Billing, ledgerFile, readLedgerTail, topUpOffline } from '../../src/lib/smpp/policy/billing.js';
import { simulateSubmit } from '../../src/lib/smpp/policy/simulation.js';
import { STATUS } from '../../src/lib/smpp/protocol/pdu.js';

const ROUTES = `
[cz-any]
direction = out
destination = ^\\+420
cost = 0.05

[cz-mobile-modem2]
direction = out
destination = ^\\+4207
phone = modem2
priority = 10
cost = 0.04

[shop-only-sender]
direction = out
system_id = shop
destination = ^\\+421
source = ^Shop$
priority = 5
cost = 0.1

[premium-blocked]
direction = out
destination = ^\\+42090
action = reject
priority = 100

[mo-modem2]
direction = in
phone = modem2
system_id = beta

[mo-short-code]
direction = in
destination = ^\\+420600
system_id = gamma
priority = 1
`;

const account = (systemId: string, defaultRoute = 'none', defaultCost = 0) => ({
  systemId,
  defaultRoute,
  defaultCost,
});

describe('routes file', () => {
  const { routes, warnings } = parseRoutes(ROUTES, 'routes.ini');

  it('orders by priority, keeping file order among equals', () => {
    expect(warnings).toEqual([]);
    expect(routes.map((r) => r.label)).toEqual([
      'premium-blocked',
      'cz-mobile-modem2',
      'shop-only-sender',
      'mo-short-code',
      'cz-any',
      'mo-modem2',
    ]);
  });

  it('routes MT by destination, ESME and source, first match by priority (KSMPPD)', () => {
    expect(routeOutbound(routes, account('alpha'), '+420777123456', 'x')).toMatchObject({
      ok: true,
      phone: 'modem2',
      cost: 0.04,
    });
    expect(routeOutbound(routes, account('alpha'), '+420222333444', 'x')).toMatchObject({
      ok: true,
      phone: undefined,
      cost: 0.05,
    });
    expect(routeOutbound(routes, account('alpha'), '+420900111222', 'x')).toMatchObject({
      ok: false,
      status: STATUS.RINVDSTADR,
    });
    // Only shop's route reaches +421, and only with its sender.
    expect(routeOutbound(routes, account('shop'), '+421900111222', 'Shop')).toMatchObject({
      ok: true,
      cost: 0.1,
    });
    expect(routeOutbound(routes, account('shop'), '+421900111222', 'Other')).toMatchObject({
      ok: false,
      status: STATUS.RINVSRCADR,
    });
    expect(routeOutbound(routes, account('alpha'), '+421900111222', 'Shop')).toMatchObject({
      ok: false,
      status: STATUS.RINVDSTADR,
    });
  });

  it('falls back on the account default route: spool, a phone, or none', () => {
    expect(routeOutbound(routes, account('alpha', 'spool', 0.2), '+1555', 'x')).toEqual({
      ok: true,
      route: undefined,
      phone: undefined,
      cost: 0.2,
    });
    expect(routeOutbound(routes, account('alpha', 'phone:modem9'), '+1555', 'x')).toMatchObject({
      ok: true,
      phone: 'modem9',
    });
    expect(routeOutbound([], account('alpha', 'spool'), '+1555', 'x')).toMatchObject({ ok: true });
  });

  it('routes MO by receiving phone or receiving number', () => {
    expect(routeInbound(routes, { receiver: '+420111', sender: '+1', phone: 'MODEM2' })?.systemId).toBe(
      'beta',
    );
    expect(routeInbound(routes, { receiver: '+420600100200', sender: '+1', phone: 'modem1' })?.systemId).toBe(
      'gamma',
    );
    expect(routeInbound(routes, { receiver: '+420111', sender: '+1', phone: undefined })).toBeUndefined();
  });

  it('names the file, line and key of a bad route', () => {
    expect(() => parseRoutes('[x]\ndirection = sideways\n', 'r.ini')).toThrow(
      /r\.ini:1 \[x\]: direction = sideways/,
    );
    expect(() => parseRoutes('[x]\ndestination = ^(+\n', 'r.ini')).toThrow(RoutesError);
    expect(() => parseRoutes('[x]\ndirection = in\n', 'r.ini')).toThrow(/inbound route needs system_id/);
    expect(() => parseRoutes('[x]\ncost = -1\n', 'r.ini')).toThrow(/cost = -1 must not be negative/);
    expect(parseRoutes('[x]\ndestinaton = 1\n', 'r.ini').warnings).toEqual([
      'r.ini:2: unknown key "destinaton" in route [x]',
    ]);
  });
});

describe('billing ledger', () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-billing-'));

  it('reserves atomically, charges durably, refunds once, and restarts from the last line', async () => {
    const d = dir();
    const b = new Billing(d);
    b.open();
    await b.topUp('Shop', 0.15, 'test');
    expect(b.reserve('shop', 'a', 0.1)).toBe(true);
    expect(b.reserve('SHOP', 'b', 0.1)).toBe(false); // 0.05 left
    expect(b.reserve('shop', 'c', 0.05)).toBe(true);
    b.release('shop', 'c', 0.05); // its message was not stored
    await b.commit('shop', 'id1', 0.1, '2 parts');
    expect(await b.refund('shop', 'id1', 0.1, 'failed')).toBe(true);
    expect(await b.refund('shop', 'id1', 0.1, 'failed again')).toBe(false);
    expect(b.balance('shop')).toBe(0.15);
    await b.close();
    const lines = fs
      .readFileSync(ledgerFile(d, 'shop'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(lines.map((l) => [l[1], l[2], l[3], l[4]])).toEqual([
      ['topup', '0.15', '0.15', '-'],
      ['charge', '-0.1', '0.05', 'id1'],
      ['refund', '0.1', '0.15', 'id1'],
    ]);
    // A restart: the balance and the refunded IDs come from the ledger's tail.
    const again = new Billing(d);
    again.open();
    expect(again.balance('shop')).toBe(0.15);
    expect(await again.refund('shop', 'id1', 0.1, 'after restart')).toBe(false);
    await again.close();
    fs.rmSync(d, { recursive: true });
  });

  it('books only what was written: a reservation never charged is not lost in a restart', async () => {
    const d = dir();
    const b = new Billing(d);
    b.open();
    await b.topUp('a', 1);
    expect(b.reserve('a', 'x', 0.4)).toBe(true); // the process dies before the charge
    await b.topUp('a', 1);
    await b.close();
    expect(readLedgerTail(ledgerFile(d, 'a')).balance).toBe(2);
    fs.rmSync(d, { recursive: true });
  });

  it('drops a torn last line, and refuses a second owner while the first lives', () => {
    const d = dir();
    fs.writeFileSync(ledgerFile(d, 'a'), 'T\ttopup\t5\t5\t-\tx\nT\tcharge\t-1\t4\tid');
    expect(readLedgerTail(ledgerFile(d, 'a')).balance).toBe(5);
    expect(fs.readFileSync(ledgerFile(d, 'a'), 'utf8')).toBe('T\ttopup\t5\t5\t-\tx\n');
    fs.writeFileSync(path.join(d, '.lock'), `${process.ppid}\n`); // a live process that is not us
    expect(topUpOffline(d, 'a', 1, 'x')).toBeUndefined();
    expect(() => new Billing(d).open()).toThrow(/belongs to a running process/);
    fs.writeFileSync(path.join(d, '.lock'), '999999999\n'); // gone (kill -9): taken over
    expect(topUpOffline(d, 'a', 1, 'x')).toBe(6);
    fs.rmSync(d, { recursive: true });
  });
});

describe('simulation', () => {
  it("gives KSMPPD's outcomes every Nth submit, a temporary failure first", () => {
    const sim = { deliverEvery: 2, permanentFailureEvery: 3, temporaryFailureEvery: 6, moEvery: 4 };
    const outcomes = Array.from({ length: 12 }, (_, i) => simulateSubmit(sim, i + 1));
    expect(outcomes.map((o) => o.status)).toEqual([0, 0, 0x45, 0, 0, 0x14, 0, 0, 0x45, 0, 0, 0x14]);
    expect(outcomes.map((o) => ('deliver' in o ? `${+o.deliver}${+o.mo}` : '-'))).toEqual([
      '00',
      '10',
      '-',
      '11',
      '00',
      '-',
      '00',
      '11',
      '-',
      '10',
      '00',
      '-',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { RoutedMessages } from '../../src/lib/daemon/routed.js';
import type { NotificationSetting, Phone } from '../../src/lib/at/phone.js';
import { decodeDeliver, encodeDeliver } from '../../src/lib/sms/index.js';

// RoutedMessages.adjust against a phone that accepts or refuses AT+CNMI values (the daemon test
// routed-bound.test.ts covers the real path through the emulator).

const routed: NotificationSetting = { command: 'AT+CNMI=2,2,0,1,0', mode: 2, mt: 2, ds: 1 };
const pdu = decodeDeliver(
  encodeDeliver({ originator: '+420777', coding: 'gsm7', text: 'x', scts: new Date() }).hex,
);

function phone(accepts: (mt: number) => boolean) {
  const commands: string[] = [];
  const p = {
    setMessageIndication: (base: NotificationSetting, mt: number) => {
      const command = base.command.replace(/^(AT\+CNMI=\d+),\d+/, `$1,${mt}`);
      commands.push(command);
      return Promise.resolve(accepts(mt) ? { ...base, command, mt } : undefined);
    },
    restoreNotifications: (s: NotificationSetting) => {
      commands.push(s.command);
      return Promise.resolve(true);
    },
  };
  return { phone: p as unknown as Phone, commands };
}

describe('RoutedMessages', () => {
  it('switches at the bound only, and back when the inbox works and nothing is held', async () => {
    const logs: string[] = [];
    const r = new RoutedMessages((level, m) => logs.push(`${level} ${m}`), 3);
    const { phone: p, commands } = phone(() => true);
    r.add(pdu);
    r.add(pdu);
    await r.adjust(p, routed, true);
    expect(commands).toEqual([]);
    r.add(pdu);
    await r.adjust(p, routed, true);
    expect(commands).toEqual(['AT+CNMI=2,1,0,1,0']);
    expect(r.storing).toBe(true);
    await r.adjust(p, routed, false); // the inbox works, but 3 are still held
    expect(commands).toHaveLength(1);
    for (const part of [...r.parts]) r.remove(part);
    await r.adjust(p, routed, true); // empty, but the inbox fails again
    expect(commands).toHaveLength(1);
    await r.adjust(p, routed, false);
    expect(commands).toEqual(['AT+CNMI=2,1,0,1,0', 'AT+CNMI=2,2,0,1,0']);
    expect(r.storing).toBe(false);
    expect(logs.join('\n')).toMatch(
      /3 routed messages held .*AT\+CNMI=2,1,0,1,0[\s\S]*routed messages again/,
    );
  });

  it('falls back to mt=0 when mt=1 is refused; says once when both are refused', async () => {
    const r = new RoutedMessages(() => undefined, 1);
    const only0 = phone((mt) => mt === 0);
    r.add(pdu);
    await r.adjust(only0.phone, routed, true);
    expect(only0.commands).toEqual(['AT+CNMI=2,1,0,1,0', 'AT+CNMI=2,0,0,1,0']);
    expect(r.storing).toBe(true);

    const logs: string[] = [];
    const stuck = new RoutedMessages((level, m) => logs.push(`${level} ${m}`), 1);
    const none = phone(() => false);
    stuck.add(pdu);
    await stuck.adjust(none.phone, routed, true);
    stuck.add(pdu);
    await stuck.adjust(none.phone, routed, true);
    expect(stuck.storing).toBe(false);
    expect(logs.filter((l) => l.startsWith('error'))).toHaveLength(1);
    expect(logs[0]).toMatch(/refuses to store new ones/);
  });

  it('does nothing without routing (mt=1 set up, or no notifications) and after a reconnect starts over', async () => {
    const r = new RoutedMessages(() => undefined, 1);
    const { phone: p, commands } = phone(() => true);
    r.add(pdu);
    await r.adjust(p, { ...routed, command: 'AT+CNMI=2,1,0,1,0', mt: 1 }, true);
    await r.adjust(p, undefined, true);
    expect(commands).toEqual([]);
    await r.adjust(p, routed, true);
    expect(r.storing).toBe(true);
    r.connected(); // the modem has the configured setting again
    expect(r.storing).toBe(false);
  });
});

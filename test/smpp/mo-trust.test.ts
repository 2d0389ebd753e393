import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSmppd, type TestSmppd } from './harness.js';
import { ReceivingEsme } from '../helpers/hostile-smpp.js';

// MO from the spool's inbox to a receiving ESME written by hand (raw socket): a destination even
// when the receiving number is unknown, retries that end, and an identity that is not the file name.

let t: TestSmppd | undefined;
let esme: ReceivingEsme | undefined;
afterEach(async () => {
  esme?.close();
  esme = undefined;
  await t?.stop();
  t?.spool.cleanup();
  t = undefined;
});

const RINVDSTADR = 0x0b;
const RX_T_APPN = 0x64;

/** Writes an inbox file as `smsd run` does (hidden temp file, then rename). */
function writeInbox(inbox: string, name: string, text: string): void {
  const tmp = path.join(inbox, `.tmp-${name}`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, path.join(inbox, name));
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  return cond();
}

const inboxName = (serial: number, sender = '+420111222333', part = 0): string =>
  `IN20261207_101500_${String(serial).padStart(2, '0')}_${sender}_${String(part).padStart(2, '0')}.txt`;

describe('MO destination and retries', () => {
  it('no receiving number recorded: destination_addr is DefaultMoDestination, never empty', async () => {
    t = await startTestSmppd(
      [{ systemId: 'kannel', password: 'k1', extra: 'mo = yes\n' }],
      'DefaultMoDestination = 4477\n',
    );
    esme = await ReceivingEsme.bind(t.port, 'kannel', 'k1');
    writeInbox(t.spool.inbox, inboxName(1), 'where to?');
    expect(await until(() => (esme?.got.length ?? 0) > 0, 10_000)).toBe(true);
    expect(esme.got[0]?.source).toMatch(/420111222333$/);
    expect(esme.got[0]?.destination).toBe('4477');
  });

  it('without DefaultMoDestination: the SystemId; the receiving number when smsd run recorded one', async () => {
    t = await startTestSmppd([{ systemId: 'kannel', password: 'k1', extra: 'mo = yes\n' }]);
    esme = await ReceivingEsme.bind(t.port, 'kannel', 'k1');
    writeInbox(t.spool.inbox, inboxName(2), 'one');
    fs.mkdirSync(path.join(t.spool.inbox, '.smsgate'), { recursive: true });
    fs.writeFileSync(
      path.join(t.spool.inbox, '.smsgate', `${inboxName(3)}.json`),
      JSON.stringify({ phoneId: 'modem7', receiver: '+420999888777' }),
    );
    writeInbox(t.spool.inbox, inboxName(3), 'two');
    expect(await until(() => (esme?.got.length ?? 0) === 2, 10_000)).toBe(true);
    const byText = new Map(esme.got.map((d) => [d.message.toString('latin1'), d.destination]));
    expect(byText.get('one')).toBe('smsgate');
    expect(byText.get('two')).toMatch(/^\+?420999888777$/);
  });

  it('refused for good (ESME_RINVDSTADR): tried once, then a dead letter, a log line and a metric', async () => {
    t = await startTestSmppd(
      [{ systemId: 'kannel', password: 'k1', extra: 'mo = yes\n' }],
      'DeliveryRetryInterval = 0.2\n',
    );
    esme = await ReceivingEsme.bind(t.port, 'kannel', 'k1', () => RINVDSTADR);
    writeInbox(t.spool.inbox, inboxName(4), 'refused');
    expect(await until(() => (esme?.got.length ?? 0) > 0, 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(esme.got).toHaveLength(1);
    const dead = path.join(t.spool.dir, 'smppd', 'dead-letter');
    const letters = fs.readdirSync(dead);
    expect(letters).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(dead, letters[0] ?? ''), 'utf8'))).toMatchObject({
      systemId: 'kannel',
      kind: 'mo',
    });
    expect(t.smppd.server.counters.deadLetters).toBe(1);
    expect(t.logs.some((l) => /dead letter/.test(l) && /0xb/.test(l))).toBe(true);
  });

  it('refused for now (ESME_RX_T_APPN) every time: DeliveryMaxAttempts tries, then a dead letter', async () => {
    t = await startTestSmppd(
      [{ systemId: 'kannel', password: 'k1', extra: 'mo = yes\n' }],
      'DeliveryRetryInterval = 0.1\nDeliveryMaxAttempts = 4\n',
    );
    esme = await ReceivingEsme.bind(t.port, 'kannel', 'k1', () => RX_T_APPN);
    writeInbox(t.spool.inbox, inboxName(5), 'later');
    expect(await until(() => t?.smppd.server.counters.deadLetters === 1, 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(esme.got).toHaveLength(4);
  });
});

describe('MO identity', () => {
  it('inbox names reused (delivered, removed, written again with other text): each delivered once', async () => {
    t = await startTestSmppd([{ systemId: 'kannel', password: 'k1', extra: 'mo = yes\n' }]);
    esme = await ReceivingEsme.bind(t.port, 'kannel', 'k1');
    const name = inboxName(6);
    for (let round = 0; round < 5; round++) {
      writeInbox(t.spool.inbox, name, `round ${round}`);
      expect(await until(() => esme?.got.length === round + 1, 10_000)).toBe(true);
      // smsd (or the operator) removes what was handled; the same name comes back later.
      fs.rmSync(path.join(t.spool.inbox, name));
    }
    await new Promise((r) => setTimeout(r, 800));
    expect(esme.got.map((d) => d.message.toString('latin1'))).toEqual(
      [0, 1, 2, 3, 4].map((i) => `round ${i}`),
    );
  });

  it('1,000 MO from one number within a second (names past _99): each delivered exactly once', async () => {
    t = await startTestSmppd([{ systemId: 'kannel', password: 'k1', extra: 'mo = yes\n' }], 'Window = 500\n');
    esme = await ReceivingEsme.bind(t.port, 'kannel', 'k1');
    // Written aside first, then renamed in, all 1,000 within a moment.
    const aside = path.join(t.spool.dir, 'aside');
    fs.mkdirSync(aside);
    for (let i = 0; i < 1000; i++)
      fs.writeFileSync(path.join(aside, inboxName(i, '+420555000111')), `burst ${i}`);
    const t0 = Date.now();
    for (const n of fs.readdirSync(aside)) fs.renameSync(path.join(aside, n), path.join(t.spool.inbox, n));
    const wrote = Date.now() - t0;
    expect(wrote).toBeLessThan(1_000);
    expect(await until(() => (esme?.got.length ?? 0) >= 1000, 60_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000));
    const texts = esme.got.map((d) => d.message.toString('latin1'));
    console.log(`1,000 MO written in ${wrote} ms, all delivered in ${Date.now() - t0} ms`);
    expect(texts).toHaveLength(1000);
    expect(new Set(texts).size).toBe(1000);
  }, 90_000);
});

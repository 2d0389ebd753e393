import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestSmppd, type TestSmppd } from './harness.js';

// Kannel's bearerbox as the ESME taking MO: it refuses a deliver_sm whose destination_addr is empty
// (ESME_RINVDSTADR), so an MO with no recorded receiving number must carry the default one.

const BEARERBOX = ['/usr/sbin/bearerbox', '/usr/bin/bearerbox'].find((p) => fs.existsSync(p));
let t: TestSmppd | undefined;
let kannel: ChildProcess | undefined;
afterAll(async () => {
  kannel?.kill('SIGKILL');
  await t?.stop();
  t?.spool.cleanup();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

describe.skipIf(!BEARERBOX || spawnSync(BEARERBOX ?? 'false', ['-V']).error !== undefined)(
  'MO to Kannel bearerbox',
  () => {
    it('an MO with no receiving number is taken by Kannel (destination_addr filled), not refused and retried', async () => {
      t = await startTestSmppd(
        [{ systemId: 'kannel', password: 'kan1', extra: 'mo = yes\n' }],
        'DeliveryRetryInterval = 0.5\n',
      );
      const dir = t.spool.dir;
      const [admin, smsbox] = [await freePort(), await freePort()];
      const conf = path.join(dir, 'kannel.conf');
      fs.writeFileSync(
        conf,
        [
          'group = core',
          `admin-port = ${admin}`,
          'admin-password = secret',
          `smsbox-port = ${smsbox}`,
          'box-allow-ip = "127.0.0.1"',
          'dlr-storage = internal',
          `log-file = "${path.join(dir, 'bearerbox.log')}"`,
          'log-level = 0',
          '',
          'group = smsbox',
          'bearerbox-host = 127.0.0.1',
          '',
          'group = smsc',
          'smsc = smpp',
          'smsc-id = gate',
          'host = 127.0.0.1',
          `port = ${t.port}`,
          'transceiver-mode = true',
          'smsc-username = kannel',
          'smsc-password = kan1',
          'system-type = ""',
          '',
        ].join('\n'),
      );
      kannel = spawn(BEARERBOX as string, [conf], { stdio: 'ignore' });
      expect(await until(() => t?.logs.some((l) => /kannel.*bound as trx/.test(l)) ?? false, 15_000)).toBe(
        true,
      );
      fs.writeFileSync(path.join(t.spool.inbox, 'IN20261207_120000_00_+420111000222_00.txt'), 'to kannel');
      expect(await until(() => t?.smppd.server.counters.mo === 1, 15_000)).toBe(true);
      expect(t.smppd.server.counters.deadLetters).toBe(0);
      expect(t.logs.filter((l) => /delivery of mo .* failed/.test(l))).toEqual([]);
      const log = fs.readFileSync(path.join(dir, 'bearerbox.log'), 'utf8');
      expect(log).not.toMatch(/may not be empty/);
    }, 40_000);
  },
);

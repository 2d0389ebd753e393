import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call, closed, connect } from './harness.js';
import { makeSpool } from '../helpers/spool.js';
import { loadSmsdConfig } from '../../src/lib/config/smsd-config.js';
import { readSmppdConfig } from '../../src/lib/smpp/config.js';
import { startSmppd, type Smppd } from '../../src/lib/smpp/serve.js';
import { hashPassword } from '../../src/lib/smpp/policy/accounts.js';

// Binds that wait for their password check (one scrypt at a time here, at the production cost)
// longer than SessionInitTimeout are answered, not closed: the timer is for a connection that
// sends no bind, and the bind gate bounds the wait.

const spool = makeSpool();
let smppd: Smppd | undefined;
afterAll(async () => {
  await smppd?.stop();
  spool.cleanup();
});

describe('a bind waiting for its password check', () => {
  it('is answered after SessionInitTimeout has passed; a connection that sends nothing is still closed', async () => {
    const accounts = path.join(spool.dir, 'esme.ini');
    fs.writeFileSync(accounts, `[slow]\npassword = ${await hashPassword('pw')}\n`);
    fs.appendFileSync(
      spool.config,
      `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nSessionInitTimeout = 0.2\nBindCheckConcurrency = 1\nBindChecksPerIp = 1\nBlockAttempts = 1000\n`,
    );
    const loaded = loadSmsdConfig(spool.config);
    const { config } = readSmppdConfig(loaded.config.smppd, spool.config, process.cwd());
    const logs: string[] = [];
    smppd = await startSmppd({ smsd: loaded.config, smppd: config, log: (l, m) => logs.push(`${l} ${m}`) });
    const port = smppd.port;
    const idle = await connect(port);
    const t0 = Date.now();
    // 12 checks of ~50 ms (more on a busy machine), one at a time: the last waits well past 0.2 s.
    const binds = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const s = await connect(port);
        const resp = await call(s, 'bind_transmitter', { system_id: 'slow', password: 'pw' }, 30_000);
        return { s, resp };
      }),
    );
    const took = Date.now() - t0;
    expect(took).toBeGreaterThan(200); // the test means something only when the checks took longer
    expect(binds.map((b) => b.resp.command_status)).toEqual(Array<number>(12).fill(0));
    for (const { s } of binds) expect(s.socket.destroyed).toBe(false);
    await closed(idle, 10_000);
    expect(logs.filter((l) => /not bound within/.test(l))).toHaveLength(1);
    for (const { s } of binds) s.close();
  }, 60_000);
});

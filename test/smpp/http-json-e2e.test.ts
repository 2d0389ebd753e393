import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { ROOT } from '../helpers/spool.js';
import { writeAccounts } from './harness.js';

// The JSON API end to end, as the README tour runs it: `smppd serve` and `smsd run` as processes,
// the modem emulator on a real PTY answering with a status report; the application's webhook
// receiver is a node:http listener written here, checking the signature with node:crypto.

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');
const SECRET = 'tour-secret-0123456789';
let rig: Rig | undefined;
let smppd: ChildProcess | undefined;
const servers: http.Server[] = [];
afterAll(async () => {
  for (const s of servers) s.close();
  if (smppd?.exitCode === null) smppd.kill('SIGKILL');
  await rig?.close();
});

describe('JSON API with smsd run and the emulator', () => {
  it("POST with a webhook: the modem's report comes back as one signed receipt; GET shows it delivered", async () => {
    const hooks: { body: string; sig: string }[] = [];
    const app = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push({ body, sig: String(req.headers['x-smsgate-signature'] ?? '') });
        res.end();
      });
    });
    servers.push(app);
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as { port: number }).port;

    rig = await startRig({ config: FAST_TIMERS, startDaemon: false }); // the tour's smsd settings (DeliveryReport unset)
    const accounts = path.join(rig.spool.dir, 'esme.ini');
    await writeAccounts(accounts, [
      { systemId: 'demo', password: 'demo-pw', extra: `webhook_secret = ${SECRET}\n` },
    ]);
    fs.appendFileSync(
      rig.spool.config,
      `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nHttpPort = 0\nAccountsFile = ${accounts}\n`,
    );
    rig.startDaemon();
    const proc = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', rig.spool.config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    smppd = proc;
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const m = await waitFor(() => /Kannel sendsms\) on 127\.0\.0\.1:(\d+)/.exec(out), 15_000, 'smppd start');
    const base = `http://127.0.0.1:${m[1]}`;
    const authorization = `Basic ${Buffer.from('demo:demo-pw').toString('base64')}`;

    // The tour's request, sent twice (the second with the same Idempotency-Key).
    const send = () =>
      fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: {
          Authorization: authorization,
          'Content-Type': 'application/json',
          'Idempotency-Key': 'tour-1',
        },
        body: JSON.stringify({
          to: '+420123456789',
          from: 'Demo',
          text: 'Hello over JSON',
          webhook: `http://127.0.0.1:${appPort}/receipt`,
        }),
      });
    const res = await send();
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { id: string; recipients: { to: string; id: string }[] };
    expect(accepted.recipients).toEqual([{ to: '+420123456789', id: accepted.id }]);

    await waitFor(() => hooks.length > 0, 30_000, `the webhook\n${out}`);
    const h = hooks[0] as { body: string; sig: string };
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(h.sig) ?? [];
    expect(crypto.createHmac('sha256', SECRET).update(`${t}.${h.body}`).digest('hex')).toBe(v1);
    expect(JSON.parse(h.body)).toMatchObject({
      type: 'receipt',
      id: accepted.id,
      to: '+420123456789',
      from: 'Demo',
      state: 'delivered',
    });

    const g = await fetch(`${base}/v1/messages/${accepted.id}`, {
      headers: { Authorization: authorization },
    });
    expect(g.status).toBe(200);
    expect(await g.json()).toMatchObject({
      id: accepted.id,
      state: 'delivered',
      parts: 1,
      receipts: [{ part: 1, state: 'delivered' }],
    });
    // The tour's retry: the same answer, nothing stored again.
    const again = await send();
    expect(await again.json()).toEqual(accepted);
    expect(hooks).toHaveLength(1);
  }, 120_000);
});

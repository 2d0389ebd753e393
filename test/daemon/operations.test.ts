import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, FAST_TIMERS, type Rig } from '../helpers/rig.js';
import { runSmsd } from '../helpers/spool.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('smsd run operations', () => {
  let rig: Rig | undefined;
  afterEach(async () => rig?.close());

  it('logs to LogFile and reopens it on SIGHUP after logrotate moved it', async () => {
    const dir = fs.mkdtempSync('/tmp/smsgate-log-');
    const logFile = path.join(dir, 'smsd.log');
    rig = await startRig({ config: FAST_TIMERS + `LogFile = ${logFile}\n` });
    const r = rig;
    await waitFor(
      () => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('connected to'),
      10_000,
      'log file',
      r,
    );
    fs.renameSync(logFile, `${logFile}.1`);
    r.daemon?.kill('SIGHUP');
    await waitFor(
      () => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('configuration reloaded'),
      10_000,
      'new log file',
      r,
    );
    expect(fs.readFileSync(`${logFile}.1`, 'utf8')).toMatch(/SIGHUP/);
    expect(r.output()).not.toMatch(/connected to/); // nothing on stdout once LogFile is open
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves Prometheus metrics that follow the traffic', async () => {
    const port = await freePort();
    rig = await startRig({ config: FAST_TIMERS + `PhoneID = metrics1\nMetricsListen = 127.0.0.1:${port}\n` });
    const r = rig;
    const get = async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      } catch {
        return '';
      }
    };
    await waitFor(
      async () => (await get()).includes('smsgate_modem_connected{phone_id="metrics1"'),
      10_000,
      'metrics up',
      r,
    );
    expect(
      runSmsd(['inject', '-c', r.spool.config, 'TEXT', '+420123', '-text', 'counted', '-report']).status,
    ).toBe(0);
    const text = await waitFor(
      async () => {
        const t = await get();
        // sent, and its status report in: both latency histograms have their observation
        return /smsgate_messages_sent_total\{phone_id="metrics1",imei="\d+"\} 1/.test(t) &&
          /^smsgate_delivery_latency_seconds_count\{phone_id="metrics1",imei="\d+"\} 1$/m.test(t)
          ? t
          : undefined;
      },
      10_000,
      'sent counter',
      r,
    );
    expect(text).toMatch(/smsgate_queue_messages\{queue="sent"\} 1/);
    expect(text).toMatch(/^smsgate_queue_latency_seconds_count\{phone_id="metrics1",imei="\d+"\} 1$/m);
    expect(text).toMatch(
      /^smsgate_queue_latency_seconds_bucket\{phone_id="metrics1",imei="\d+",le="\+Inf"\} 1$/m,
    );
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });
});

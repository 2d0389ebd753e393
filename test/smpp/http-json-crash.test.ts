import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBackup } from '../../src/lib/smsbackup/reader.js';
import { ROOT, listFiles } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';
import { smppdConfig } from './harness.js';

// kill -9 of `smppd serve` while keyed JSON requests are in flight (some stored and answered, some
// stored and not answered, some not stored), then every request retried with its key against the
// next start: each message exists exactly once, and every answer given before the kill is given
// again with the same IDs.

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
});

async function start(config: string): Promise<{ proc: ChildProcess; port: number; out: () => string }> {
  const proc = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const m = await waitFor(
    () => /Kannel sendsms\) on 127\.0\.0\.1:(\d+)/.exec(out),
    20_000,
    `smppd start: ${out}`,
  );
  return { proc, port: Number(m[1]), out: () => out };
}

const agents = [new http.Agent({ keepAlive: true, maxSockets: 16 }), new http.Agent({ keepAlive: true })];
afterAll(() => agents.forEach((a) => a.destroy()));

function post(
  port: number,
  key: string,
  body: string,
  agent = agents[0],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/messages',
        method: 'POST',
        agent,
        auth: 'shop:pw123',
        headers: {
          'Content-Type': 'application/json',
          'Idempotency-Key': key,
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('JSON API and kill -9', () => {
  it('retries after a kill -9 store each keyed message exactly once and repeat the answers given', async () => {
    const { spool, configFile } = await smppdConfig(
      [{ systemId: 'shop', password: 'pw123' }],
      'HttpPort = 0\nHttpListen = 127.0.0.1\n',
    );
    try {
      const N = 300;
      const body = (i: number): string => JSON.stringify({ to: '420111000001', text: `message ${i}` });
      const first = await start(configFile);
      const answered = new Map<string, string>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < N) {
          const i = next++;
          try {
            const r = await post(first.port, `key-${i}`, body(i));
            if (r.status === 202) answered.set(`key-${i}`, r.body);
          } catch {
            return; // the server is gone
          }
          if (answered.size === 60) first.proc.kill('SIGKILL');
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      expect(
        first.proc.signalCode ?? (await new Promise((r) => first.proc.once('exit', (_c, s) => r(s)))),
      ).toBe('SIGKILL');
      expect(answered.size).toBeGreaterThanOrEqual(60);
      expect(answered.size).toBeLessThan(N);

      const second = await start(configFile);
      for (let i = 0; i < N; i++) {
        const r = await post(second.port, `key-${i}`, body(i), agents[1]);
        expect(r.status, r.body).toBe(202);
        const before = answered.get(`key-${i}`);
        if (before) expect(JSON.parse(r.body)).toEqual(JSON.parse(before));
      }
      // Requests the kill caught between their key's record and their answer (most runs have some).
      const unresolved = second.out().match(/left unanswered by the last run/g)?.length ?? 0;
      console.log(`kill -9 after ${answered.size} answers; ${unresolved} key(s) resolved against the store`);
      // SIGTERM drains: every acknowledged message has its file when it exits.
      second.proc.kill('SIGTERM');
      await new Promise((r) => second.proc.once('exit', r));
      const texts = listFiles(spool.outbox)
        .filter((n) => n.startsWith('OUT'))
        .map((n) =>
          parseBackup(fs.readFileSync(path.join(spool.outbox, n)))
            .map((e) => e.text)
            .join(''),
        );
      expect(texts).toHaveLength(N);
      expect(new Set(texts).size).toBe(N);
    } finally {
      spool.cleanup();
    }
  }, 120_000);
});

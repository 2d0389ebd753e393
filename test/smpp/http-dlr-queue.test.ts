import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DlrQueue, expandDlrUrl } from '../../src/lib/smpp/http/dlr.js';
import { waitFor } from '../helpers/rig.js';

// The dlr-url queue at its bounds: full, attempts exhausted, a crash during a call, a read-only
// disk. The application is a node:http listener written here.

const dirs: string[] = [];
const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-dlrq-'));
  dirs.push(d);
  return d;
}

function app(status: () => number): Promise<{ port: number; calls: string[] }> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    calls.push(req.url ?? '');
    res.statusCode = status();
    res.end();
  });
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as { port: number }).port, calls }),
    ),
  );
}

const logs: string[] = [];
const options = (dir: string, extra: Partial<ConstructorParameters<typeof DlrQueue>[0]> = {}) => ({
  dir: path.join(dir, 'dlr'),
  max: 100,
  maxAttempts: 3,
  maxAgeMs: 60_000,
  timeoutMs: 1000,
  firstDelayMs: 50,
  maxDelayMs: 200,
  log: (level: string, m: string) => void logs.push(`${level} ${m}`),
  ...extra,
});

describe('expandDlrUrl', () => {
  it("expands Kannel's escapes URL-encoded; %% and unknown ones as they are", () => {
    const url = expandDlrUrl('http://a/x?d=%d&a=%A&p=%p&P=%P&q=%q&T=%T&I=%I&n=%n&i=%i&pct=%%&z=%z', {
      type: 1,
      text: 'id:1 stat:DELIVRD',
      at: new Date(1_700_000_000_000),
      id: 'abc',
      from: '0042011',
      to: '+420111',
      user: 'shop',
      smsc: 'modem1',
    });
    expect(url).toBe(
      'http://a/x?d=1&a=id%3A1%20stat%3ADELIVRD&p=0042011&P=%2B420111&q=%2B42011&T=1700000000&I=abc&n=shop&i=modem1&pct=%&z=%z',
    );
  });
});

describe('DlrQueue', () => {
  it('calls once on 2xx and deletes the file; a report added twice is called once', async () => {
    const a = await app(() => 200);
    const dir = tmp();
    const q = new DlrQueue(options(dir));
    q.open();
    q.start();
    await q.addAsync('k1', `http://127.0.0.1:${a.port}/one`);
    await q.addAsync('k1', `http://127.0.0.1:${a.port}/one`);
    await waitFor(() => q.stats.delivered === 1, 5000, 'delivered');
    await q.addAsync('k1', `http://127.0.0.1:${a.port}/one`);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.calls).toEqual(['/one']);
    expect(fs.readdirSync(path.join(dir, 'dlr'))).toEqual([]);
    await q.close();
  });

  it('dead-letters after DlrMaxAttempts failures, with a log line and the file kept in dlr-dead/', async () => {
    const a = await app(() => 500);
    const dir = tmp();
    const q = new DlrQueue(options(dir));
    q.open();
    q.start();
    await q.addAsync('k2', `http://127.0.0.1:${a.port}/fail`);
    await waitFor(() => q.stats.dead === 1, 5000, 'dead');
    expect(a.calls).toHaveLength(3);
    expect(q.size).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'dlr-dead'))).toHaveLength(1);
    expect(logs.join('\n')).toMatch(/k2 dead-lettered after 3 attempt\(s\).*HTTP 500/);
    await q.close();
  });

  it('at DlrQueueSize a new report is dead-lettered at once (logged), the queued ones stay', async () => {
    const dir = tmp();
    const q = new DlrQueue(options(dir, { max: 2 }));
    q.open(); // not started: nothing is called
    await q.addAsync('a', 'http://127.0.0.1:9/a');
    await q.addAsync('b', 'http://127.0.0.1:9/b');
    await q.addAsync('c', 'http://127.0.0.1:9/c');
    expect(q.size).toBe(2);
    expect(q.stats.dead).toBe(1);
    expect(fs.readdirSync(path.join(dir, 'dlr'))).toHaveLength(2);
    expect(fs.readdirSync(path.join(dir, 'dlr-dead'))).toHaveLength(1);
    expect(logs.join('\n')).toMatch(/dlr queue full \(2 calls waiting\): dlr-url of c dead-lettered/);
    await q.close();
  });

  it('a run that died during a call: the next start counts a possible repeat and calls again', async () => {
    const a = await app(() => 200);
    const dir = tmp();
    const first = new DlrQueue(options(dir));
    first.open();
    await first.addAsync('k3', `http://127.0.0.1:${a.port}/again`);
    // As after kill -9 between the attempt's record and the outcome's.
    const [name] = fs.readdirSync(path.join(dir, 'dlr'));
    const file = path.join(dir, 'dlr', name ?? '');
    fs.writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), attempts: 1, trying: true }),
    );
    const second = new DlrQueue(options(dir));
    second.open();
    expect(second.stats.repeatedAfterCrash).toBe(1);
    second.start();
    await waitFor(() => second.stats.delivered === 1, 5000, 'delivered');
    expect(a.calls).toEqual(['/again']);
    await second.close();
    await first.close();
  });

  it('a read-only queue directory: add throws (the caller keeps the report for later), nothing half written', async () => {
    if (process.getuid?.() !== 0) {
      console.log('skipped: needs root for a read-only bind mount');
      return;
    }
    const dir = tmp();
    const q = new DlrQueue(options(dir));
    q.open();
    const d = path.join(dir, 'dlr');
    try {
      execFileSync('mount', ['--bind', d, d]);
      execFileSync('mount', ['-o', 'remount,bind,ro', d]);
    } catch (err) {
      console.log(`skipped: mount failed (${(err as Error).message})`);
      return;
    }
    try {
      await expect(q.addAsync('k4', 'http://127.0.0.1:9/x')).rejects.toThrow(/EROFS/);
      expect(q.size).toBe(0);
    } finally {
      execFileSync('umount', [d]);
    }
    await q.addAsync('k4', 'http://127.0.0.1:9/x');
    expect(q.size).toBe(1);
    await q.close();
  });
});

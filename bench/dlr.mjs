#!/usr/bin/env node
// Benchmark of smppd's durable URL calls (never run as a test): Kannel dlr-url callbacks and MO
// get-url/post-url calls through the on-disk call queue (dist/lib/smpp/http/dlr.js: one file per
// call, fsynced when queued and before each attempt, deleted on 2xx), to a node:http listener in
// another process that answers 200; beside it, in the same run and to the same listener, a bare
// node:http keep-alive client making the same number of GETs with the same concurrency (8) and
// storing nothing. Prints each rate and the ratio.
// Usage: npm run build && node bench/dlr.mjs [--calls 20000] [--concurrency 8]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const CALLS = opt('--calls', 20000);
const CONCURRENCY = opt('--concurrency', 8);

const { DlrQueue, expandDlrUrl } = await import(path.join(root, 'dist/lib/smpp/http/dlr.js'));
const { MoDispatch } = await import(path.join(root, 'dist/lib/smpp/http/mo-dispatch.js'));

// The application: another process, so its CPU is not ours; counts what it got.
const LISTENER = `
const http = require('node:http');
let n = 0;
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { n++; res.end('OK'); }); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write('port ' + s.address().port + '\\n'));
process.on('message', () => process.send(n));
`;
const listener = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((resolve) => {
  let out = '';
  listener.stdout.on('data', (b) => {
    out += b.toString();
    const m = /port (\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
});

const silent = () => undefined;

async function waitUntil(cond) {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

/** The bare client: CALLS GETs, CONCURRENCY at once, keep-alive. */
async function bare() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `/bare?i=${next}`, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        next++;
        await one();
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  return CALLS / s;
}

/** dlr-url calls: queued (durable) as reports arrive, then called; rate from the first add to the last 2xx. */
async function dlr(dir) {
  const q = new DlrQueue({
    dir,
    max: CALLS + 1,
    maxAttempts: 5,
    maxAgeMs: 3_600_000,
    timeoutMs: 10_000,
    concurrency: CONCURRENCY,
    log: silent,
  });
  q.open();
  q.start();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const url = expandDlrUrl(`http://127.0.0.1:${port}/dlr?id=%I&type=%d&to=%P&text=%A&t=%T`, {
      type: 1,
      text: `id:${i} sub:001 dlvrd:001 submit date:2612072300 done date:2612072301 stat:DELIVRD err:000 text:hello`,
      at: new Date(),
      id: String(i),
      from: 'Shop',
      to: '+420111000000',
      user: 'shop',
    });
    // As spool-events.ts does: the report counts as taken once its call is durable (group commit).
    q.addAsync(`dlr:bench-${i}`, url).catch((err) => console.error(err.message));
    // Reports come from the spool events in the event loop: let the calls run meanwhile.
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  const added = performance.now();
  await waitUntil(() => q.stats.delivered >= CALLS);
  const s = (performance.now() - t0) / 1000;
  await q.close();
  return { rate: CALLS / s, addRate: CALLS / ((added - t0) / 1000) };
}

/** MO to URL: the rule matched, the escapes expanded, queued durably, POSTed with X-Kannel headers. */
async function mo(dir, method) {
  fs.mkdirSync(dir, { recursive: true });
  const rules = path.join(dir, 'rules');
  fs.writeFileSync(
    rules,
    method === 'post'
      ? `post-url=http://127.0.0.1:${port}/mo name=bench\n`
      : `keyword=stop get-url=http://127.0.0.1:${port}/stop\nget-url=http://127.0.0.1:${port}/mo?from=%p&to=%P&text=%a&t=%t&id=%I\n`,
  );
  const d = new MoDispatch({
    routesFile: rules,
    dir: path.join(dir, 'q'),
    max: CALLS + 1,
    maxAttempts: 5,
    maxAgeMs: 3_600_000,
    timeoutMs: 10_000,
    log: silent,
  });
  d.open();
  d.queue.start();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    d.route({
      key: `mo:bench-${i}`,
      sender: '+420777000111',
      receiver: '+420600111222',
      phone: 'modem1',
      body: { kind: 'text', text: `Hello number ${i} from the handset` },
      received: new Date(),
    });
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  await waitUntil(() => d.queue.stats.delivered >= CALLS);
  const s = (performance.now() - t0) / 1000;
  await d.queue.close();
  return CALLS / s;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dlr-'));
try {
  console.log(`${CALLS} calls each, ${CONCURRENCY} at once, load average ${os.loadavg()[0].toFixed(1)}`);
  const ref1 = await bare();
  const d = await dlr(path.join(tmp, 'dlr'));
  const moGet = await mo(path.join(tmp, 'mo-get'), 'get');
  const moPost = await mo(path.join(tmp, 'mo-post'), 'post');
  const ref2 = await bare();
  const ref = (ref1 + ref2) / 2;
  const got = await new Promise((r) => {
    listener.once('message', r);
    listener.send('count');
  });
  console.log(`bare node:http client (before/after): ${ref1.toFixed(0)}/s, ${ref2.toFixed(0)}/s`);
  console.log(
    `dlr-url calls, durable:   ${d.rate.toFixed(0)}/s (ratio ${(d.rate / ref).toFixed(2)}); queued at ${d.addRate.toFixed(0)}/s`,
  );
  console.log(`MO get-url calls, durable: ${moGet.toFixed(0)}/s (ratio ${(moGet / ref).toFixed(2)})`);
  console.log(`MO post-url calls, durable: ${moPost.toFixed(0)}/s (ratio ${(moPost / ref).toFixed(2)})`);
  console.log(
    `listener got ${got} requests (expected ${5 * CALLS}); load average ${os.loadavg()[0].toFixed(1)}`,
  );
} finally {
  listener.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}

#!/usr/bin/env node
// Benchmark of the HTTP front end of `smppd serve` (never run as a test): Kannel sendsms GETs from
// keep-alive clients, each answered 202 only once its message is durable in the spool outbox
// (the store's group commit), beside a node:http server that parses the same request and stores
// nothing (bench/http-null-server.mjs), with the same client in the same run; prints both and the
// ratio, and the answer latency at a steady offered rate.
// With --json, the same smppd in the same run also takes the same number of JSON API requests
// (POST /v1/messages, HTTP Basic), without and with an Idempotency-Key, for a side-by-side rate.
// Usage: npm run build && node bench/http.mjs [--messages 30000] [--connections 64] [--rate 1000] [--json]
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
const MESSAGES = opt('--messages', 30000);
const CONNECTIONS = opt('--connections', 64);
const RATE = opt('--rate', 1000);
const JSON_MODE = args.includes('--json');
/** What the requests are: Kannel's sendsms GET, or the JSON API's POST (with a key or not). */
let mode = 'sendsms';
/** Keys of one flood are new to the server: no run replays another's. */
let keyRun = 0;
const BASIC = `Basic ${Buffer.from('bench:bench1').toString('base64')}`;

function start(cmd, argv, pattern) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  if (process.env.BENCH_LOG) child.stdout.on('data', (b) => process.stderr.write(b));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (b) => {
      out += b.toString();
      const m = pattern.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}:\n${out}`)));
  });
}

function stop(child) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });

/** 503s (the store's bound: messages waiting for their files), each retried after 20 ms. */
let busy = 0;

async function request(port, i) {
  for (;;) {
    const r = await attempt(port, i);
    if (r === 202) return;
    busy++;
    await new Promise((res) => setTimeout(res, 20));
  }
}

function attempt(port, i) {
  if (mode !== 'sendsms') return attemptJson(port, i);
  const q = `username=bench&password=bench1&from=Bench&to=%2B420${String(100000000 + (i % 899999999)).slice(0, 9)}&text=Benchmark+message+${i}`;
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/cgi-bin/sendsms?${q}`, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        res.statusCode === 202 || res.statusCode === 503
          ? resolve(res.statusCode)
          : reject(new Error(`${res.statusCode} ${body}`)),
      );
    });
    req.on('error', reject);
  });
}

function attemptJson(port, i) {
  const body = JSON.stringify({
    to: `+420${String(100000000 + (i % 899999999)).slice(0, 9)}`,
    from: 'Bench',
    text: `Benchmark message ${i}`,
  });
  const headers = {
    'Content-Type': 'application/json',
    Authorization: BASIC,
    'Content-Length': Buffer.byteLength(body),
  };
  if (mode === 'json-key') headers['Idempotency-Key'] = `bench-${keyRun}-${i}`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/v1/messages', method: 'POST', agent, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          res.statusCode === 202 || res.statusCode === 503
            ? resolve(res.statusCode)
            : reject(new Error(`${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** MESSAGES requests, CONNECTIONS at a time; requests per second. */
async function flood(port, n = MESSAGES) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < n) await request(port, next++);
    }),
  );
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** A steady RATE for 5 s: answer latency percentiles (ms). */
async function latency(port) {
  const lat = [];
  const n = RATE * 5;
  const t0 = performance.now();
  const pending = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const s = performance.now();
    pending.push(request(port, 1e6 + i).then(() => lat.push(performance.now() - s)));
  }
  await Promise.all(pending);
  lat.sort((a, b) => a - b);
  const p = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))].toFixed(1);
  return `p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-http-'));
for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, d));
const { hashPassword } = await import(path.join(root, 'dist/lib/smpp/policy/accounts.js'));
fs.writeFileSync(path.join(work, 'esme.ini'), `[bench]\npassword = ${await hashPassword('bench1')}\n`);
const config = path.join(work, 'smsdrc');
fs.writeFileSync(
  config,
  `[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = files\ninboxpath = ${work}/inbox/\noutboxpath = ${work}/outbox/\nsentsmspath = ${work}/sent/\nerrorsmspath = ${work}/error/\n` +
    `[smppd]\nPort = 0\nListen = 127.0.0.1\nHttpPort = 0\nHttpListen = 127.0.0.1\nAccountsFile = ${work}/esme.ini\n` +
    (JSON_MODE ? 'HttpIdempotencyKeys = 1000000\nHttpIdempotencyKeysPerAccount = 1000000\n' : ''),
);
console.log(
  `# smppd HTTP (Kannel sendsms) benchmark (${os.cpus().length} CPUs, node ${process.version}, ${MESSAGES} requests, ${CONNECTIONS} keep-alive connections, load ${os.loadavg()[0].toFixed(1)}, spool ${work})`,
);
const nullServer = await start(
  process.execPath,
  [path.join(root, 'bench/http-null-server.mjs')],
  /listening (\d+)/,
);
await flood(nullServer.port, 2000); // warm-up
const base = await flood(nullServer.port);
console.log(`no-storage node:http server: ${Math.round(base)}/s`);
await stop(nullServer.child);
agent.destroy();

const ours = await start(
  process.execPath,
  [
    // BENCH_PROF=dir: a V8 CPU profile of smppd into dir (where the time goes).
    ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []),
    path.join(root, 'bin/smppd.js'),
    'serve',
    '-c',
    config,
  ],
  /Kannel sendsms\) on 127\.0\.0\.1:(\d+)/,
);
await flood(ours.port, 2000); // warm-up (and the first login's scrypt)
busy = 0;
const rate = await flood(ours.port).catch(async (err) => {
  await stop(ours.child);
  throw err;
});
console.log(`smppd sendsms (202 once durable): ${Math.round(rate)}/s (${busy} answers 503, retried)`);
console.log(`answer latency at ${RATE}/s offered: ${await latency(ours.port)}`);
let accepted = MESSAGES + 2000 + RATE * 5;
if (JSON_MODE) {
  // sendsms, json, keyed, keyed, json, sendsms: each kind early and late, so the growing outbox
  // (and the machine's changing load) weighs on all of them alike.
  const rates = { sendsms: [rate], json: [], 'json-key': [] };
  for (const m of ['json', 'json-key', 'json-key', 'json', 'sendsms']) {
    mode = m;
    keyRun++;
    busy = 0;
    rates[m].push(await flood(ours.port));
    accepted += MESSAGES;
  }
  const avg = (m) => rates[m].reduce((a, b) => a + b, 0) / rates[m].length;
  for (const m of ['sendsms', 'json', 'json-key']) {
    const r = avg(m);
    console.log(
      `${m.padEnd(8)}: ${Math.round(r)}/s (runs ${rates[m].map((x) => Math.round(x)).join(', ')}; ${(r / avg('sendsms')).toFixed(2)}x sendsms, ${(r / base).toFixed(2)}x no-storage)`,
    );
  }
  for (const m of ['json', 'json-key']) {
    mode = m;
    keyRun++;
    console.log(`${m} answer latency at ${RATE}/s offered: ${await latency(ours.port)}`);
    accepted += RATE * 5;
  }
}
await stop(ours.child);
agent.destroy();
const files = fs.readdirSync(path.join(work, 'outbox')).filter((n) => n.startsWith('OUT')).length;
console.log(`ratio ${(rate / base).toFixed(2)}; ${files} outbox files written (${accepted} accepted)`);
fs.rmSync(work, { recursive: true, force: true });

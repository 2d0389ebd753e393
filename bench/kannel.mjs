#!/usr/bin/env node
// Benchmark of the Kannel outlet (never run as a test): MT submitted through Kannel's real
// bearerbox (Debian kannel 1.4.5, file store, an SMPP smsc bound to the Perl test SMSC), each
// counted when bearerbox acks it, `--window` unacked at once. Beside it, in the same run and on the
// same bearerbox, a bare box client written here (frames packed by hand, no smsgate code) doing
// the same: bearerbox's own ceiling. Rounds alternate; prints messages/s of each and the ratio.
// `--run`: also `smsd run` (dist/bin, Connection = kannel, files service) draining `--messages`
// files queued by `smsd inject --batch` (each counted once moved to sent/ after bearerbox's ack),
// beside the bare client on the same bearerbox.
// `--reports` makes those messages ask for delivery reports (a DLR back per part, report files).
// Usage: npm run build && node bench/kannel.mjs [--messages 20000] [--window 100] [--rounds 2] [--run [--reports]]
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MESSAGES = opt('--messages', 20000);
const WINDOW = opt('--window', 100);
const ROUNDS = opt('--rounds', 2);
const RUN = args.includes('--run');
/** `--reports`: the run round's messages ask for reports (bearerbox's SMSC DLR comes back per part). */
const REPORTS = args.includes('--reports');
const BEARERBOX = '/usr/sbin/bearerbox';
if (!fs.existsSync(BEARERBOX)) {
  console.log('bearerbox is not installed (apt-get install kannel); nothing to measure');
  process.exit(0);
}
const { KannelOutlet } = await import(path.join(root, 'dist/lib/outlets/kannel/index.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
async function until(what, probe, ms = 20000) {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// ---- the rig: Perl SMSC + bearerbox ----
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kannel-bench-'));
const smsc = spawn('perl', [path.join(root, 'test/peers/kannel-smsc.pl')], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
let smscOut = '';
smsc.stdout.on('data', (b) => (smscOut = (smscOut + b.toString()).slice(-4096)));
await until('the SMSC port', () => /port \d+/.test(smscOut));
const smscPort = Number(/port (\d+)/.exec(smscOut)[1]);
smsc.stdin.write('quiet on\nreceipts off\n');
const adminPort = await freePort();
const boxPort = await freePort();
fs.writeFileSync(
  path.join(dir, 'bearerbox.conf'),
  `group = core
admin-port = ${adminPort}
admin-interface = 127.0.0.1
admin-password = secret
smsbox-port = ${boxPort}
box-allow-ip = "127.0.0.1"
dlr-storage = internal
store-type = file
store-location = ${path.join(dir, 'bearerbox.store')}
log-file = ${path.join(dir, 'bearerbox.log')}
log-level = 2

group = smsbox
bearerbox-host = 127.0.0.1

group = smsc
smsc = smpp
smsc-id = carrier1
host = 127.0.0.1
port = ${smscPort}
transceiver-mode = true
smsc-username = user
smsc-password = pass
system-type = ""
max-pending-submits = 100

group = smsbox-route
smsbox-id = bench
smsc-id = carrier1
`,
);
const bb = spawn(BEARERBOX, [path.join(dir, 'bearerbox.conf')], { stdio: 'ignore' });
const status = () =>
  new Promise((resolve) => {
    http
      .get(`http://127.0.0.1:${adminPort}/status.txt?password=secret`, (res) => {
        let body = '';
        res.on('data', (b) => (body += b));
        res.on('end', () => resolve(body));
      })
      .on('error', () => resolve(''));
  });
await until('bearerbox online', async () => /carrier1.*online/.test(await status()));

// ---- the reference: a bare box client, frames packed by hand ----
function bareClient() {
  const int = (v) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return b;
  };
  const str = (s) => (s === null ? int(-1) : Buffer.concat([int(Buffer.byteLength(s)), Buffer.from(s)]));
  const frame = (parts) => {
    const body = Buffer.concat(parts);
    return Buffer.concat([int(body.length), body]);
  };
  const mt = (id, to, text) =>
    frame([
      int(2),
      ...['12345', to, null, text].map(str),
      int(Math.floor(Date.now() / 1000)),
      ...[null, null, null, null, null].map(str),
      str(id),
      int(2), // mt_push
      ...[-1, -1, 0, -1, -1, -1, -1].map(int),
      str(null),
      ...[-1, -1, -1].map(int),
      str('UTF-8'),
      str('bench'),
      str(null),
      ...[-1, -1, -1, -1].map(int),
      str(null),
    ]);
  return async function run(n, window) {
    const sock = net.connect(boxPort, '127.0.0.1');
    sock.setNoDelay(true);
    await new Promise((r) => sock.once('connect', r));
    sock.write(frame([int(1), int(3), str('bench')]));
    let buf = Buffer.alloc(0);
    let sent = 0;
    let acked = 0;
    let bad = 0;
    const t0 = process.hrtime.bigint();
    await new Promise((resolve) => {
      const pump = () => {
        const frames = [];
        while (sent < n && sent - acked < window)
          frames.push(mt(randomUUID(), `+4206${String(sent++).padStart(8, '0')}`, 'bench'));
        if (frames.length) sock.write(Buffer.concat(frames));
      };
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const len = buf.readUInt32BE(0);
          if (buf.readInt32BE(4) === 3) {
            acked++;
            if (![0, 3].includes(buf.readInt32BE(8))) bad++;
          }
          buf = buf.subarray(4 + len);
        }
        if (acked === n) resolve();
        else pump();
      });
      pump();
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    sock.destroy();
    return { rate: n / s, bad };
  };
}

// ---- the outlet ----
async function outletRun(n, window) {
  const outlet = new KannelOutlet(
    {
      host: '127.0.0.1',
      port: boxPort,
      boxId: 'bench',
      heartbeatMs: 10000,
      window,
      reconnectMs: 1000,
      reconnectMaxMs: 30000,
      ackTimeoutMs: 30000,
      dlrMask: 27,
      dlrMaskNoReport: 0,
      smscId: undefined,
      sender: undefined,
      maxFrame: 1048576,
      inboundLimit: 1000,
      dedupeSize: 20000,
    },
    (level, m) => level !== 'debug' && level !== 'info' && console.error(m),
  );
  await outlet.start({ mo: async () => {}, report: async () => {} });
  let next = 0;
  let bad = 0;
  const t0 = process.hrtime.bigint();
  // `window` callers, each submitting its next part when the last is acked (as the runner does).
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) {
        const i = next++;
        const o = await outlet.submit({
          key: `b${i}`,
          destination: `+4207${String(i).padStart(8, '0')}`,
          sender: '12345',
          coding: 'gsm',
          text: 'bench',
          report: false,
          partNumber: 1,
          partCount: 1,
          reference: i & 255,
        });
        if (o.kind !== 'accepted') bad++;
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await outlet.close(1000);
  return { rate: n / s, bad };
}

/** `smsd run` with Connection = kannel draining `n` queued files; rate from the link up to the last in sent/. */
async function smsdRun(n, window) {
  const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'kannel-bench-run-'));
  for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(spool, d));
  const config = path.join(spool, 'smsdrc');
  fs.writeFileSync(
    config,
    `[gammu]\nConnection = kannel\nDevice = 127.0.0.1:${boxPort}\n\n[smsd]\nService = files\n` +
      ['inbox', 'outbox', 'sent', 'error']
        .map(
          (d) =>
            `${d === 'sent' ? 'SentSMSPath' : d === 'error' ? 'ErrorSMSPath' : d === 'inbox' ? 'InboxPath' : 'OutboxPath'} = ${spool}/${d}/\n`,
        )
        .join('') +
      `PhoneID = bench\nDeliveryReport = ${REPORTS ? 'log' : 'no'}\nCommTimeout = 1\n\n[kannel]\nBoxId = bench\nWindow = ${window}\n`,
  );
  const smsd = path.join(root, 'bin', 'smsd.js');
  const csv = path.join(spool, 'batch.csv');
  fs.writeFileSync(
    csv,
    Array.from({ length: n }, (_, i) => `+4208${String(i).padStart(8, '0')},bench ${i}`).join('\n') + '\n',
  );
  const inj = spawn(process.execPath, [smsd, 'inject', '-c', config, '--batch', csv], { stdio: 'ignore' });
  await new Promise((r) => inj.once('exit', r));
  const queued = fs.readdirSync(path.join(spool, 'outbox')).filter((f) => f.startsWith('OUT')).length;
  if (queued !== n) throw new Error(`smsd inject --batch queued ${queued} of ${n}`);
  const child = spawn(process.execPath, [smsd, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out = (out + b.toString()).slice(-20000)));
  child.stderr.on('data', (b) => (out = (out + b.toString()).slice(-20000)));
  await until('smsd run bound', () => /connected as box/.test(out));
  const t0 = process.hrtime.bigint();
  let rssMb = 0;
  const sampler = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
      rssMb = Math.max(rssMb, Math.round(kb / 1024));
    } catch {
      // exited
    }
  }, 100);
  await until(`${n} in sent/\n${out}`, () => fs.readdirSync(path.join(spool, 'sent')).length >= n, 600000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const errors = fs.readdirSync(path.join(spool, 'error')).length;
  if (errors) console.log(`  (${errors} files in error/)`);
  fs.rmSync(spool, { recursive: true, force: true });
  return { rate: n / seconds, seconds, rssMb };
}

/** Waits until bearerbox has passed everything on to the SMSC, so each round starts alike. */
async function drained() {
  let last = '';
  await until(
    'bearerbox to drain its queue',
    async () => {
      last = await status();
      const queued = /sent \d+ \((\d+) queued\)/.exec(last);
      const store = /store size (\d+)/.exec(last);
      return queued && queued[1] === '0' && (!store || store[1] === '0');
    },
    300000,
  );
  if (process.env.BENCH_LOG) console.log(last);
}

const bare = bareClient();
const fmt = (x) => Math.round(x).toLocaleString('en');
console.log(`Kannel outlet: ${MESSAGES} MT per round, window ${WINDOW}, bearerbox 1.4.5 with a file store`);
// Warm-up (bearerbox's first messages are slower).
await bare(1000, WINDOW);
await drained();
const results = { bare: [], outlet: [] };
for (let r = 0; r < ROUNDS; r++) {
  const b = await bare(MESSAGES, WINDOW);
  results.bare.push(b.rate);
  console.log(
    `round ${r + 1}: bare box client   ${fmt(b.rate)} msg/s${b.bad ? ` (${b.bad} not accepted)` : ''}`,
  );
  await drained();
  const o = await outletRun(MESSAGES, WINDOW);
  results.outlet.push(o.rate);
  console.log(
    `round ${r + 1}: smsgate outlet    ${fmt(o.rate)} msg/s${o.bad ? ` (${o.bad} not accepted)` : ''}`,
  );
  await drained();
}
if (RUN) {
  const b = await bare(MESSAGES, WINDOW);
  results.bare.push(b.rate);
  console.log(`run round: bare box client   ${fmt(b.rate)} msg/s`);
  await drained();
  const d = await smsdRun(MESSAGES, WINDOW);
  console.log(
    `run round: smsd run          ${fmt(d.rate)} msg/s${REPORTS ? ' with reports' : ''} (${MESSAGES} files to sent/ in ${d.seconds.toFixed(2)} s after the link was up; daemon peak RSS ${d.rssMb} MB)`,
  );
  // Not drained after it: with --reports, bearerbox keeps the DLRs of the stopped box queued.
}
const best = (a) => Math.max(...a);
console.log(
  `best: outlet ${fmt(best(results.outlet))} msg/s, bare ${fmt(best(results.bare))} msg/s, ratio ${(best(results.outlet) / best(results.bare)).toFixed(2)}`,
);
console.log(`bench process RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
bb.kill('SIGTERM');
await sleep(500);
bb.kill('SIGKILL');
smsc.kill('SIGKILL');
fs.rmSync(dir, { recursive: true, force: true });

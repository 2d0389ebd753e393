#!/usr/bin/env node
// Benchmark of `smsd run` with Connection = smpp (never a test): a backlog of queued files drained
// into a no-op SMSC (test/peers/smsc.py --noop), side by side with a bare SMPP client (the `smpp`
// package) flooding the same SMSC with the same window; RSS with the backlog queued; idle CPU;
// the same with the MariaDB service (--sql); ESME → smppd → outlet → SMSC → receipt → ESME (--e2e).
// Usage: npm run build && node bench/outlet.mjs [--messages 50000] [--window 100] [--sql] [--e2e 60]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import smpp from 'smpp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const N = opt('--messages', 50_000);
const WINDOW = opt('--window', 100);
const E2E_SECONDS = args.includes('--e2e') ? opt('--e2e', 60) : 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];
process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

async function startSmsc(extra = []) {
  const c = spawn('python3', [path.join(root, 'test/peers/smsc.py'), ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(c);
  let out = '';
  c.stdout.on('data', (b) => (out += b));
  while (!/LISTEN (\d+) CONTROL (\d+)/.test(out)) await sleep(10);
  const [, port, control] = /LISTEN (\d+) CONTROL (\d+)/.exec(out).map(Number);
  const stats = () =>
    new Promise((resolve) => {
      const s = net.connect(control, '127.0.0.1', () => s.write('{"cmd":"stats"}\n'));
      let b = '';
      s.on('data', (d) => {
        b += d;
        if (b.includes('\n')) {
          s.destroy();
          resolve(JSON.parse(b));
        }
      });
    });
  return { port, stats, child: c };
}

/** Reference: the `smpp` package's client, window WINDOW, N submit_sm, same SMSC. */
async function bareClient(port, n) {
  const session = smpp.connect({ host: '127.0.0.1', port });
  await new Promise((r) => session.on('connect', r));
  await new Promise((r) => session.bind_transceiver({ system_id: 'bare', password: 'x' }, r));
  const t0 = performance.now();
  let sent = 0;
  let done = 0;
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < n && sent - done < WINDOW) {
        sent++;
        session.submit_sm(
          { destination_addr: '4912345678', data_coding: 0, short_message: Buffer.from(`bench ${sent}`) },
          () => {
            done++;
            if (done === n) resolve();
            else pump();
          },
        );
      }
    };
    pump();
  });
  const s = (performance.now() - t0) / 1000;
  session.close();
  return n / s;
}

function writeBacklog(outbox, n) {
  for (let i = 0; i < n; i++) {
    const name = `OUTC20260101_000000_${String(i).padStart(6, '0')}_+4912${String(i).padStart(8, '0')}_sms0.txt`;
    fs.writeFileSync(path.join(outbox, name), `bench message ${i}`);
  }
}

function procStat(pid) {
  const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(st[11]) + Number(st[12]);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuS: ticks / 100, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

function config(dir, port, service) {
  return `[gammu]\nconnection = smpp\ndevice = 127.0.0.1:${port}\n[smsd]\n${service}\nphoneid = bench\nCommTimeout = 5\nDeliveryReport = log\n[upstream]\nSystemId = bench\nPassword = x\nWindow = ${WINDOW}\n`;
}

function startDaemon(cfg) {
  // BENCH_CPU_PROF=<dir>: the daemon writes a V8 CPU profile there when it stops.
  const prof = process.env.BENCH_CPU_PROF;
  const bin = path.join(root, 'bin/smsd.js');
  const flags = fs.readFileSync(bin, 'utf8').split('\n')[0].split(' node ')[1].split(' ');
  const argv = prof ? [...flags, '--cpu-prof', `--cpu-prof-dir=${prof}`, bin] : [...flags, bin];
  const c = spawn(process.execPath, [...argv, 'run', '-c', cfg], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(c);
  return c;
}

async function drainFiles(port) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-outlet-'));
  for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, d));
  writeBacklog(path.join(work, 'outbox'), N);
  const cfg = path.join(work, 'smsdrc');
  fs.writeFileSync(
    cfg,
    config(
      work,
      port,
      `service = files\ninboxpath = ${work}/inbox/\noutboxpath = ${work}/outbox/\nsentsmspath = ${work}/sent/\nerrorsmspath = ${work}/error/`,
    ),
  );
  const status = path.join(work, 'status', 'bench.json');
  const t0 = performance.now();
  const d = startDaemon(cfg);
  let sent = 0;
  let bound = 0;
  let hwm = 0;
  while (sent < N) {
    await sleep(100);
    hwm = Math.max(hwm, procStat(d.pid).rssMb);
    try {
      const s = JSON.parse(fs.readFileSync(status, 'utf8'));
      sent = s.sent;
      if (!bound && s.state === 'connected') bound = performance.now();
      if (s.failed > 0) throw new Error(`failures: ${s.lastError}`);
    } catch (e) {
      if (e.message?.startsWith('failures')) throw e;
    }
  }
  const t1 = performance.now();
  const inSent = fs.readdirSync(path.join(work, 'sent')).length;
  const rate = N / ((t1 - (bound || t0)) / 1000);
  const before = procStat(d.pid);
  await sleep(5000);
  const after = procStat(d.pid);
  d.kill('SIGTERM');
  await new Promise((r) => d.once('exit', r));
  fs.rmSync(work, { recursive: true, force: true });
  return { rate, inSent, hwm: Math.max(hwm, after.hwmMb), idleCpu: (after.cpuS - before.cpuS) / 5 };
}

async function drainSql(port) {
  const { SqlConnection } = await import(path.join(root, 'dist/lib/services/sql/connection.js'));
  const { initSchema } = await import(path.join(root, 'dist/lib/services/sql/schema.js'));
  const { SQL_TABLE_NAMES } = await import(path.join(root, 'dist/lib/config/smsd-config.js'));
  const name = `smsgate_bench_${process.pid}`;
  const admin = new SqlConnection({
    dialect: 'mysql',
    host: '127.0.0.1:3306',
    user: 'root',
    password: '',
    database: 'mysql',
  });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const c = new SqlConnection({
    dialect: 'mysql',
    host: '127.0.0.1:3306',
    user: 'root',
    password: '',
    database: name,
  });
  await c.connect();
  await initSchema(c, Object.fromEntries(SQL_TABLE_NAMES.map((t) => [t, t])), 17);
  for (let i = 0; i < N; i += 1000) {
    const rows = [];
    for (let j = i; j < Math.min(N, i + 1000); j++)
      rows.push(
        `('+4912${String(j).padStart(8, '0')}', 'bench message ${j}', 'Default_No_Compression', 'bench', '')`,
      );
    await c.query(
      `INSERT INTO outbox (DestinationNumber, TextDecoded, Coding, CreatorID, SenderID) VALUES ${rows.join(',')}`,
    );
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-outlet-sql-'));
  const cfg = path.join(work, 'smsdrc');
  fs.writeFileSync(
    cfg,
    config(
      work,
      port,
      `service = sql\ndriver = native_mysql\nhost = 127.0.0.1:3306\nuser = root\npassword =\ndatabase = ${name}\nStatePath = ${work}/`,
    ),
  );
  const d = startDaemon(cfg);
  const status = path.join(work, 'status', 'bench.json');
  let t0 = 0;
  let sent = 0;
  while (sent < N) {
    await sleep(200);
    try {
      const s = JSON.parse(fs.readFileSync(status, 'utf8'));
      if (!t0 && s.state === 'connected') t0 = performance.now();
      sent = s.sent;
    } catch {
      // not written yet
    }
  }
  const rate = N / ((performance.now() - t0) / 1000);
  const rows = (
    await c.query(`SELECT COUNT(*) FROM sentitems WHERE Status = 'SendingOKNoReport' OR Status = 'SendingOK'`)
  ).rows[0][0];
  d.kill('SIGTERM');
  await new Promise((r) => d.once('exit', r));
  await c.close();
  await admin.query(`DROP DATABASE ${name}`);
  await admin.close();
  fs.rmSync(work, { recursive: true, force: true });
  return { rate, rows: Number(rows) };
}

console.log(
  `# outlet benchmark (${os.cpus().length} CPUs, node ${process.version}), ${N} messages, Window ${WINDOW}, no-op SMSC (Python asyncio)`,
);
const smsc = await startSmsc(['--noop']);
const bare = await bareClient(smsc.port, N);
console.log(`bare smpp client (the smpp package), same SMSC and window: ${bare.toFixed(0)} submits/s`);
const f = await drainFiles(smsc.port);
console.log(
  `smsd run, Connection = smpp, files: ${N} queued files drained at ${f.rate.toFixed(0)} messages/s (${(f.rate / bare).toFixed(2)}x the bare client); ${f.inSent} in sent/; peak RSS ${f.hwm.toFixed(0)} MB; idle CPU ${(f.idleCpu * 100).toFixed(1)} %`,
);
if (args.includes('--sql')) {
  const s = await drainSql(smsc.port);
  console.log(
    `smsd run, Connection = smpp, MariaDB: ${N} outbox rows at ${s.rate.toFixed(0)} messages/s; ${s.rows} sentitems rows`,
  );
}
if (E2E_SECONDS > 0) {
  const { e2e } = await import('./outlet-e2e.mjs');
  await e2e(root, E2E_SECONDS, startSmsc);
}
process.exit(0);

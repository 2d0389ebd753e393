#!/usr/bin/env node
// Benchmarks of `smsd inject` (never run as a test): start-up wall time of one call, and
// `--batch` throughput into the spool, printed beside the raw disk ceiling measured in the same run.
// Usage: npm run build && node bench/inject.mjs [--calls 40] [--messages 20000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const CALLS = opt('--calls', 40);
const MESSAGES = opt('--messages', 20000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-'));
const outbox = path.join(work, 'outbox');
for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, d));
const config = path.join(work, 'smsdrc');
fs.writeFileSync(
  config,
  `[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = files\ninboxpath = ${work}/inbox/\noutboxpath = ${outbox}/\nsentsmspath = ${work}/sent/\nerrorsmspath = ${work}/error/\n`,
);
const clean = () => {
  for (const f of fs.readdirSync(outbox)) fs.rmSync(path.join(outbox, f), { recursive: true, force: true });
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/**
 * Median wall time of each command, run interleaved (A B C A B C ...) so that load from other
 * processes on the machine falls on all of them alike; the ratio to a bare `node -e 0` is the figure.
 */
function timeInterleaved(commands) {
  const times = commands.map(() => []);
  for (let i = 0; i < CALLS + 3; i++) {
    commands.forEach(({ cmd, argv, ok = [0] }, k) => {
      clean();
      const t = process.hrtime.bigint();
      const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (r.error) {
        times[k] = undefined;
        return;
      }
      if (!ok.includes(r.status)) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
      if (i >= 3 && times[k]) times[k].push(ms); // warm-up runs discarded
    });
  }
  return times.map((t) => (t === undefined ? undefined : median(t)));
}

console.log(`# smsd inject benchmark (${os.cpus().length} CPUs, node ${process.version}, spool on ${work})`);
const bin = (name) => path.join(root, 'bin', `${name}.js`);
// esme list reads the accounts file named in [smppd]; smsd monitor the status of a running daemon.
fs.appendFileSync(config, `[smppd]\naccountsfile = ${work}/accounts\n`);
spawnSync(process.execPath, [bin('esme'), 'add', 'shop', '--password', 'pw', '-c', config]);
// The daemon gets its own outbox: the inject runs below empty theirs between calls.
const daemonConfig = path.join(work, 'smsdrc-daemon');
fs.mkdirSync(path.join(work, 'outbox-daemon'));
fs.writeFileSync(
  daemonConfig,
  fs
    .readFileSync(config, 'utf8')
    .replace('device = /dev/null', 'device = emulator')
    .replace(`outboxpath = ${outbox}/`, `outboxpath = ${work}/outbox-daemon/`),
);
const daemon = spawn(process.execPath, [bin('smsd'), 'run', '-c', daemonConfig], { stdio: 'ignore' });
const deadline = Date.now() + 30_000;
while (
  Date.now() < deadline &&
  spawnSync(process.execPath, [bin('smsd'), 'monitor', '-c', daemonConfig, '-n', '1']).status !== 0
)
  spawnSync('sleep', ['0.2']);
const [bare, ours, monitor, esme, gammu] = timeInterleaved([
  { cmd: process.execPath, argv: ['-e', '0'] },
  {
    cmd: process.execPath,
    argv: [bin('smsd'), 'inject', '-c', config, 'TEXT', '+420123456789', '-text', 'hello'],
  },
  { cmd: process.execPath, argv: [bin('smsd'), 'monitor', '-c', daemonConfig, '-n', '1'] },
  { cmd: process.execPath, argv: [bin('esme'), 'list', '-c', config] },
  { cmd: 'gammu-smsd-inject', argv: ['-c', config, 'TEXT', '+420123456789', '-text', 'hello'] },
]);
daemon.kill('SIGTERM');
const ratio = (x) => `${x.toFixed(1)} ms = ${(x / bare).toFixed(2)}x node -e 0`;
console.log(`one call, median of ${CALLS} (interleaved): bare node -e 0 ${bare.toFixed(1)} ms`);
console.log(`  smsd inject      ${ratio(ours)}`);
console.log(`  smsd monitor -n 1 ${ratio(monitor)}`);
console.log(`  esme list        ${ratio(esme)}`);
console.log(`  gammu-smsd-inject ${gammu === undefined ? 'n/a' : gammu.toFixed(1) + ' ms'}`);

// Deleting thousands of files makes this file system (ext4, mounted with discard) slow for many
// seconds afterwards, so each measurement below gets a fresh folder and nothing is deleted until the end.
const fresh = (name) => {
  const d = path.join(work, name);
  fs.mkdirSync(d);
  return d;
};
const settle = () => {
  spawnSync('sync');
  spawnSync('sleep', ['2']);
};

// Raw disk ceiling: one file at a time with its own open/write/fdatasync/close/rename.
settle();
const ceilingDir = fresh('ceiling');
const data = Buffer.alloc(600, 'x');
const N = Math.min(3000, MESSAGES);
let t0 = performance.now();
for (let i = 0; i < N; i++) {
  const tmp = path.join(ceilingDir, `.t${i}`);
  const fd = fs.openSync(tmp, 'wx');
  fs.writeSync(fd, data);
  fs.fdatasyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, path.join(ceilingDir, `OUT${i}.txt`));
}
const ceiling = N / ((performance.now() - t0) / 1000);
t0 = performance.now();
const fd = fs.openSync(path.join(ceilingDir, '.sync-probe'), 'w');
for (let i = 0; i < 500; i++) {
  fs.writeSync(fd, data);
  fs.fdatasyncSync(fd);
}
fs.closeSync(fd);
const syncMs = (performance.now() - t0) / 500;

const batchOutbox = fresh('batch-outbox');
fs.writeFileSync(
  config,
  fs.readFileSync(config, 'utf8').replace(`outboxpath = ${outbox}/`, `outboxpath = ${batchOutbox}/`),
);
const batch = path.join(work, 'batch.csv');
fs.writeFileSync(
  batch,
  Array.from(
    { length: MESSAGES },
    (_, i) => `+4207${String(i % 100000).padStart(8, '0')},Benchmark message ${i} {with} some € text`,
  ).join('\n'),
);
settle();
const r = spawnSync(
  process.execPath,
  [path.join(root, 'bin/smsd.js'), 'inject', '-c', config, '--batch', batch],
  {
    encoding: 'utf8',
  },
);
const m = /Queued (\d+) messages .* in ([\d.]+) s, (\d+) messages\/s/.exec(r.stdout);
if (!m) throw new Error(`unexpected batch output: ${r.stdout}${r.stderr}`);
console.log(
  `batch: ${m[1]} messages in ${m[2]} s = ${m[3]} messages/s, each durable before counted (group commit)`,
);
console.log(
  `raw disk ceiling in this run: ${Math.round(ceiling)} files/s with one fdatasync per file; one fdatasync ${syncMs.toFixed(3)} ms`,
);
fs.rmSync(work, { recursive: true, force: true });

#!/usr/bin/env node
// Benchmarks of `smsd inject` (never run as a test): start-up wall time of one call, and
// `--batch` throughput into the spool, printed beside the raw disk ceiling measured in the same run.
// Usage: npm run build && node bench/inject.mjs [--calls 40] [--messages 20000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
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

function timeCommand(cmd, argv) {
  const times = [];
  for (let i = 0; i < CALLS + 3; i++) {
    clean();
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0 && r.status !== null) throw new Error(`${cmd} exited ${r.status}`);
    if (r.error) return undefined;
    if (i >= 3) times.push(ms); // warm-up runs discarded
  }
  return median(times);
}

console.log(`# smsd inject benchmark (${os.cpus().length} CPUs, node ${process.version}, spool on ${work})`);
const ours = timeCommand(process.execPath, [
  path.join(root, 'bin/smsd.js'),
  'inject',
  '-c',
  config,
  'TEXT',
  '+420123456789',
  '-text',
  'hello',
]);
const bare = timeCommand(process.execPath, ['-e', '0']);
const gammu = timeCommand('gammu-smsd-inject', ['-c', config, 'TEXT', '+420123456789', '-text', 'hello']);
console.log(
  `one call, median of ${CALLS}: smsd inject ${ours.toFixed(1)} ms | bare node ${bare.toFixed(1)} ms | gammu-smsd-inject ${gammu === undefined ? 'n/a' : gammu.toFixed(1) + ' ms'}`,
);

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

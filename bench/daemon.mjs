#!/usr/bin/env node
// Benchmark of `smsd run` against the product's emulator on a real pseudo-terminal (never a test):
// messages per second from one daemon, inject-to-AT+CMGS latency, idle CPU and RSS.
// Usage: npm run build && node bench/daemon.mjs [--messages 500] [--latency-samples 20]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startEmulator } = await import(path.join(root, 'dist/lib/emulator/server.js'));
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const MESSAGES = opt('--messages', 500);
const SAMPLES = opt('--latency-samples', 20);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-daemon-'));
for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, d));
const device = path.join(work, 'modem');
const config = path.join(work, 'smsdrc');
fs.writeFileSync(
  config,
  `[gammu]\ndevice = ${device}\nconnection = at\n[smsd]\nservice = files\ninboxpath = ${work}/inbox/\noutboxpath = ${work}/outbox/\nsentsmspath = ${work}/sent/\nerrorsmspath = ${work}/error/\nReceiveFrequency = 15\nStatusFrequency = 60\nCommTimeout = 30\n`,
);
const emulator = await startEmulator({ device, control: null, modem: { reportDelayMs: 0 } });
const smsd = path.join(root, 'bin/smsd.js');
const inject = (...a) =>
  spawnSync(process.execPath, [smsd, 'inject', '-c', config, ...a], { encoding: 'utf8' });
const sentCount = () => fs.readdirSync(path.join(work, 'sent')).length;

console.log(
  `# smsd run benchmark (${os.cpus().length} CPUs, node ${process.version}, emulator with no latency on a PTY)`,
);
const batch = path.join(work, 'batch.csv');
fs.writeFileSync(
  batch,
  Array.from({ length: MESSAGES }, (_, i) => `+4207${String(i).padStart(8, '0')},bench ${i}`).join('\n'),
);
inject('--batch', batch);
// Run through the bin itself, so its shebang's Node flags apply as they do for users.
const daemon = spawn(smsd, ['run', '-c', config], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
daemon.stdout.on('data', (b) => (out += b));
while (!out.includes('connected to')) await sleep(10);
const t0 = performance.now();
while (sentCount() < MESSAGES) await sleep(5);
const rate = MESSAGES / ((performance.now() - t0) / 1000);
console.log(
  `throughput: ${MESSAGES} queued messages sent in ${((performance.now() - t0) / 1000).toFixed(2)} s = ${rate.toFixed(1)} messages/s`,
);

// Latency, one message at a time with the daemon idle: from the moment the outbox file is
// published (the end of what `smsd inject` does) to AT+CMGS at the modem, and from the start of
// the `smsd inject` process (adds its ~70 ms of Node start-up).
const { createSpoolFile } = await import(path.join(root, 'dist/lib/spool/atomic.js'));
inject('TEXT', '+420111', '-text', 'template');
while (sentCount() < MESSAGES + 1) await sleep(5);
const template = fs.readFileSync(
  path.join(
    work,
    'sent',
    fs.readdirSync(path.join(work, 'sent')).find((n) => n.includes('_+420111_')),
  ),
);
const published = [];
const withInject = [];
for (let i = 0; i < SAMPLES * 2; i++) {
  await sleep(150);
  const seen = new Promise((resolve) => emulator.modem.once('submit', () => resolve(performance.now())));
  const t = performance.now();
  if (i % 2 === 0) {
    createSpoolFile(
      path.join(work, 'outbox'),
      template,
      (j) => `OUTC20260101_000000_00_+420111_lat${i}_${j}.smsbackup`,
      10,
    );
    published.push((await seen) - t);
  } else {
    const child = spawn(process.execPath, [
      smsd,
      'inject',
      '-c',
      config,
      'TEXT',
      '+420111',
      '-text',
      `latency ${i}`,
    ]);
    const exited = new Promise((r) => child.on('exit', r));
    withInject.push((await seen) - t);
    await exited;
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `latency to AT+CMGS: median ${med(published).toFixed(1)} ms from the queued file (max ${Math.max(...published).toFixed(1)}), median ${med(withInject).toFixed(1)} ms from the start of smsd inject (${SAMPLES} samples each)`,
);

// Idle: CPU time over 10 s with nothing to do, and peak RSS.
const stat = () => fs.readFileSync(`/proc/${daemon.pid}/stat`, 'utf8').split(') ')[1].split(' ');
const ticks = () => Number(stat()[11]) + Number(stat()[12]);
const hz = 100;
const c0 = ticks();
await sleep(10_000);
const idleCpu = ((ticks() - c0) / hz / 10) * 100;
const status = fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
console.log(
  `idle: ${idleCpu.toFixed(2)} % CPU over 10 s; RSS ${rss.toFixed(0)} MB now, peak ${hwm.toFixed(0)} MB`,
);
daemon.kill('SIGTERM');
await new Promise((r) => daemon.on('exit', r));
await emulator.close();

// The same measurement of the real gammu-smsd (Debian package), when installed.
if (spawnSync('gammu-smsd', ['-v']).error === undefined) {
  const gw = path.join(work, 'gammu');
  for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(gw, d), { recursive: true });
  const gdev = path.join(gw, 'modem');
  const gconf = path.join(gw, 'smsdrc');
  fs.writeFileSync(
    gconf,
    `[gammu]\ndevice = ${gdev}\nconnection = at\n[smsd]\nservice = files\ninboxpath = ${gw}/inbox/\noutboxpath = ${gw}/outbox/\nsentsmspath = ${gw}/sent/\nerrorsmspath = ${gw}/error/\nlogfile = ${gw}/log\n`,
  );
  const gem = await startEmulator({ device: gdev, control: null, modem: { reportDelayMs: 0 } });
  const N = 10;
  for (let i = 0; i < N; i++)
    spawnSync('gammu-smsd-inject', ['-c', gconf, 'TEXT', `+42070000${i}`, '-text', `gammu ${i}`]);
  const g = spawn('gammu-smsd', ['-c', gconf], { stdio: 'ignore' });
  while (gem.modem.sent.length < 1) await sleep(10);
  const g0 = performance.now();
  while (fs.readdirSync(path.join(gw, 'sent')).length < N && performance.now() - g0 < 60_000) await sleep(10);
  const grate = (N - 1) / ((performance.now() - g0) / 1000);
  console.log(
    `gammu-smsd 1.42, same emulator: ${grate.toFixed(2)} messages/s; smsd run is ${(rate / grate).toFixed(0)}x faster`,
  );
  g.kill('SIGTERM');
  await gem.close();
}
fs.rmSync(work, { recursive: true, force: true });

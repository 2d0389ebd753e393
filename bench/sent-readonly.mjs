#!/usr/bin/env node
// The case, measured (never a test): `smsd run` sending while sent/ is read-only (a
// read-only bind mount, as root) for a minute, then writable again. Counts AT+CMGS submissions per
// message (the emulator records them), modem resets, log lines, and the time to reach sent/.
// With --inbox-too the inbox is read-only as well and an MO arrives meanwhile (kept on the SIM).
// Usage (root): npm run build && node bench/sent-readonly.mjs [--seconds 60] [--messages 5] [--inbox-too]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startEmulator } = await import(path.join(root, 'dist/lib/emulator/server.js'));
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const SECONDS = opt('--seconds', 60);
const MESSAGES = opt('--messages', 5);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sh = (...a) => {
  const r = spawnSync(a[0], a.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${a.join(' ')}: ${r.stderr}`);
};

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-ro-'));
for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, d));
const device = path.join(work, 'modem');
const config = path.join(work, 'smsdrc');
fs.writeFileSync(
  config,
  `[gammu]\ndevice = ${device}\nconnection = at\n[smsd]\nservice = files\ninboxpath = ${work}/inbox/\noutboxpath = ${work}/outbox/\nsentsmspath = ${work}/sent/\nerrorsmspath = ${work}/error/\nReceiveFrequency = 1\nCommTimeout = 1\nLoopSleep = 0\nStatusFrequency = 0\n`,
);
const emulator = await startEmulator({ device, control: null, modem: { reportDelayMs: 0 } });
let resets = 0;
emulator.modem.on('reset', () => resets++);
const smsd = path.join(root, 'bin/smsd.js');
let log = '';
const daemon = spawn(process.execPath, [smsd, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
daemon.stdout.on('data', (b) => (log += b));
daemon.stderr.on('data', (b) => (log += b));
while (!log.includes('connected to')) await sleep(50);
const sent = path.join(work, 'sent');
const inbox = path.join(work, 'inbox');
const INBOX_TOO = args.includes('--inbox-too');
const readOnly = INBOX_TOO ? [sent, inbox] : [sent];
for (const d of readOnly) {
  sh('mount', '--bind', d, d);
  sh('mount', '-o', 'remount,bind,ro', d);
}
if (INBOX_TOO) emulator.modem.deliver({ from: '+420777000111', text: 'while the inbox is read-only' });
const t0 = Date.now();
for (let i = 0; i < MESSAGES; i++)
  spawnSync(process.execPath, [
    smsd,
    'inject',
    '-c',
    config,
    'TEXT',
    `+42060000${String(i).padStart(4, '0')}`,
    '-text',
    `ro ${i}`,
  ]);
await sleep(SECONDS * 1000 - (Date.now() - t0));
const duringMinute = emulator.modem.sendAttempts.length;
for (const d of readOnly) sh('umount', d);
const back = Date.now();
while (fs.readdirSync(sent).length < MESSAGES && Date.now() - back < 120_000) await sleep(50);
const recovered = (Date.now() - back) / 1000;
if (INBOX_TOO) while (fs.readdirSync(inbox).filter((n) => n.startsWith('IN')).length < 1) await sleep(50);
await sleep(2000);
const attempts = emulator.modem.sendAttempts;
const perNumber = new Map();
for (const a of attempts) perNumber.set(a.number, (perNumber.get(a.number) ?? 0) + 1);
const dups = [...perNumber.values()].reduce((s, n) => s + n - 1, 0);
console.log(
  `# sent/${INBOX_TOO ? ' and inbox/' : ''} read-only for ${SECONDS} s with ${MESSAGES} messages queued (${os.cpus().length} CPUs, node ${process.version})`,
);
console.log(`submissions during the read-only time: ${duringMinute}`);
console.log(`submissions in all: ${attempts.length} for ${MESSAGES} messages; duplicates: ${dups}`);
console.log(`modem resets: ${resets}; reconnects: ${(log.match(/connected to /g) ?? []).length - 1}`);
console.log(
  `in sent/ afterwards: ${fs.readdirSync(sent).length} of ${MESSAGES}, ${recovered.toFixed(1)} s after sent/ became writable`,
);
if (INBOX_TOO) {
  const stored = fs.readdirSync(inbox).filter((n) => n.startsWith('IN')).length;
  console.log(`inbox: ${stored} file(s) for 1 MO; left on the SIM: ${emulator.modem.messages().length}`);
}
console.log(
  `log lines about storage: ${(log.match(/storage/g) ?? []).length}; lines in all: ${log.split('\n').length}`,
);
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
await emulator.close();
fs.rmSync(work, { recursive: true, force: true });

#!/usr/bin/env node
// Benchmark of smppd's delivery queue (never run as a test): 100,000 receipts queued for an
// absent ESME.
// 1. In this process: memory (JS heap + typed arrays, after full GCs) taken by a DeliveryQueue
//    that loads them, and the time the load takes.
// 2. `smppd serve` as a process on that spool: its RSS while the ESME is away, then the drain
//    rate once a receiver binds (window 100, every deliver_sm answered at once), and its peak RSS.
// Usage: npm run build && node bench/smpp-queue.mjs [--entries 100000] [--root DIR]
//   --root: another build of the project (for a comparison with an older queue).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import smpp from 'smpp';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const ENTRIES = Number(opt('--entries', 100_000));
const root = path.resolve(opt('--root', here));

const { DeliveryQueue, keyHash } = await import(path.join(root, 'dist/lib/smpp/store/queue.js'));
const { buildReceipt } = await import(path.join(root, 'dist/lib/smpp/protocol/deliver.js'));
const { hashPassword } = await import(path.join(root, 'dist/lib/smpp/policy/accounts.js'));

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const memory = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
};
const mb = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-queue-'));
for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, d));
const state = path.join(work, 'smppd');
const queueDir = path.join(state, 'queue', 'bench');
fs.mkdirSync(queueDir, { recursive: true });

console.log(
  `# smppd delivery queue (${os.cpus().length} CPUs, node ${process.version}, ${ENTRIES} entries, ${root})`,
);
let t = Date.now();
const at = new Date();
const created = at.toISOString();
for (let i = 0; i < ENTRIES; i++) {
  const key = `receipt:OUTC20250101_000000_00_+420123456789_smpp-bench${i}.smsbackup`;
  const pdu = buildReceipt({
    messageId: `bench${i}`,
    recipient: '+420123456789',
    esmeAddress: { ton: 0, npi: 0, addr: '12345' },
    state: 2,
    submitted: at,
    done: at,
    error: 0,
    text: `message ${i}`,
  });
  fs.writeFileSync(
    path.join(queueDir, `${String(i + 1).padStart(16, '0')}-${keyHash(key)}.json`),
    JSON.stringify({ key, kind: 'receipt', pdus: [pdu.toString('hex')], created }),
  );
}
console.log(`wrote ${ENTRIES} queue files in ${((Date.now() - t) / 1000).toFixed(1)} s`);

// 1. The queue alone.
{
  const before = memory();
  t = Date.now();
  const q = new DeliveryQueue(state);
  const loadMs = Date.now() - t;
  const after = memory();
  const count = typeof q.count === 'function' ? q.count('bench') : q.names('bench').length;
  console.log(
    `DeliveryQueue with ${count} queued: +${mb(after.heap - before.heap)} heap and typed arrays, ` +
      `+${mb(after.rss - before.rss)} RSS; loaded in ${loadMs} ms`,
  );
  q.close();
  fs.rmSync(path.join(state, 'done.log'), { force: true }); // smppd starts as on a fresh spool
}

// 2. smppd serve with that backlog.
fs.writeFileSync(
  path.join(work, 'esme.ini'),
  `[bench]\npassword = ${await hashPassword('bench1', { N: 1024, r: 8, p: 1 })}\n`,
);
const config = path.join(work, 'smsdrc');
fs.writeFileSync(
  config,
  `[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = files\ninboxpath = ${work}/inbox/\noutboxpath = ${work}/outbox/\nsentsmspath = ${work}/sent/\nerrorsmspath = ${work}/error/\n` +
    `[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${work}/esme.ini\nWindow = 100\n`,
);
// Loaded into smppd: on SIGUSR2, full GCs, then its heap on stderr.
const probe = path.join(work, 'heap-probe.mjs');
fs.writeFileSync(
  probe,
  `process.on('SIGUSR2', () => { gc(); gc(); const m = process.memoryUsage(); process.stderr.write('HEAP ' + (m.heapUsed + m.arrayBuffers) + '\\n'); });\n`,
);
t = Date.now();
const child = spawn(
  process.execPath,
  ['--expose-gc', '--import', probe, path.join(root, 'bin/smppd.js'), 'serve', '-c', config],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let stderr = '';
child.stderr.on('data', (b) => (stderr += b.toString()));
/** smppd's live heap (plus typed arrays) after full GCs. */
const heap = async () => {
  const seen = stderr.length;
  child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const m = /HEAP (\d+)\n/.exec(stderr.slice(seen));
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no heap figure from smppd: ${stderr}`);
};
const port = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (b) => {
    out += b.toString();
    const m = /listening on [^:]+:(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
  child.on('exit', (code) => reject(new Error(`smppd exited ${code}:\n${out}`)));
});
const startMs = Date.now() - t;
const proc = (field) =>
  Number(
    new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0,
  ) * 1024;
await new Promise((r) => setTimeout(r, 2000));
console.log(
  `smppd serve started in ${startMs} ms; with ${ENTRIES} queued, ESME away: heap ${mb(await heap())}, RSS ${mb(proc('VmRSS'))}`,
);

const session = await new Promise((resolve, reject) => {
  const s = smpp.connect({ host: '127.0.0.1', port }, () => resolve(s));
  s.on('error', reject);
});
let got = 0;
let wrong = 0;
const drained = new Promise((resolve) => {
  session.on('deliver_sm', (pdu) => {
    if (pdu.receipted_message_id !== `bench${got}`) wrong++;
    session.send(pdu.response());
    if (++got === ENTRIES) resolve();
  });
});
t = Date.now();
await new Promise((resolve, reject) =>
  session.bind_receiver({ system_id: 'bench', password: 'bench1' }, (r) =>
    r.command_status === 0 ? resolve() : reject(new Error(`bind ${r.command_status}`)),
  ),
);
await drained;
const secs = (Date.now() - t) / 1000;
console.log(
  `drained ${got} deliver_sm in ${secs.toFixed(1)} s: ${Math.round(got / secs).toLocaleString('en')}/s` +
    `${wrong ? `, ${wrong} out of order` : ', in order'}; peak RSS ${mb(proc('VmHWM'))}`,
);
await new Promise((r) => setTimeout(r, 500));
console.log(`after the drain: heap ${mb(await heap())}, RSS ${mb(proc('VmRSS'))}`);
session.close();
await new Promise((resolve) => {
  child.removeAllListeners('exit');
  child.once('exit', resolve);
  child.kill('SIGTERM');
});
const left = fs.readdirSync(queueDir).filter((n) => n.endsWith('.json')).length;
console.log(`${left} entries left in the queue folder`);
fs.rmSync(work, { recursive: true, force: true });

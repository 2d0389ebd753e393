// ESME (the `smpp` package) → smppd serve → spool → smsd run (Connection = smpp) → test SMSC with
// receipts → back to the ESME, for `seconds`: submits/s accepted, receipts/s delivered, each once.
// Used by bench/outlet.mjs --e2e SECONDS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import smpp from 'smpp';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function e2e(root, seconds, startSmsc, window = 100) {
  const smsc = await startSmsc(['--receipts', '--id-style', 'hex']);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-e2e-'));
  for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, d));
  const cfg = path.join(work, 'smsdrc');
  const accounts = path.join(work, 'esme.ini');
  fs.writeFileSync(
    cfg,
    `[gammu]\nconnection = smpp\ndevice = 127.0.0.1:${smsc.port}\n[smsd]\nservice = files\ninboxpath = ${work}/inbox/\noutboxpath = ${work}/outbox/\nsentsmspath = ${work}/sent/\nerrorsmspath = ${work}/error/\nphoneid = e2e\nDeliveryReport = log\n[upstream]\nSystemId = e2e\nPassword = x\nWindow = ${window}\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\n`,
  );
  const add = spawnSync(
    process.execPath,
    [path.join(root, 'bin/esme.js'), 'add', 'bench', '--password', 'bench-pw', '-c', cfg],
    {
      encoding: 'utf8',
    },
  );
  if (add.status !== 0) throw new Error(`esme add: ${add.stdout}${add.stderr}`);
  const procs = [];
  // BENCH_CPU_PROF=<dir>: smsd and smppd write V8 CPU profiles there when they stop.
  const bin = (name) => {
    const file = path.join(root, 'bin', name);
    const prof = process.env.BENCH_CPU_PROF;
    if (!prof) return [file, []];
    const flags = fs.readFileSync(file, 'utf8').split('\n')[0].split(' node ')[1]?.split(' ') ?? [];
    return [process.execPath, [...flags, '--cpu-prof', `--cpu-prof-dir=${prof}`, file]];
  };
  const [smsdCmd, smsdArgs] = bin('smsd.js');
  const outlet = spawn(smsdCmd, [...smsdArgs, 'run', '-c', cfg], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [smppdCmd, smppdArgs] = bin('smppd.js');
  const smppd = spawn(smppdCmd, [...smppdArgs, 'serve', '-c', cfg], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  procs.push(outlet, smppd);
  let out = '';
  smppd.stdout.on('data', (b) => (out += b));
  while (!/listening on 127\.0\.0\.1:(\d+)/.test(out)) await sleep(20);
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)[1]);
  const session = smpp.connect({ host: '127.0.0.1', port });
  await new Promise((r) => session.on('connect', r));
  const receipts = new Map();
  session.on('deliver_sm', (pdu) => {
    if (pdu.esm_class & 0x04) {
      const id = String(pdu.receipted_message_id);
      receipts.set(id, (receipts.get(id) ?? 0) + 1);
    }
    session.send(pdu.response());
  });
  await new Promise((resolve, reject) =>
    session.bind_transceiver({ system_id: 'bench', password: 'bench-pw' }, (p) =>
      p.command_status === 0 ? resolve() : reject(new Error(`bind ${p.command_status}`)),
    ),
  );
  let inFlight = 0;
  let accepted = 0;
  let refused = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await new Promise((resolve) => {
    const pump = () => {
      while (inFlight < window && performance.now() < until) {
        inFlight++;
        session.submit_sm(
          {
            destination_addr: '+4912345678',
            data_coding: 0,
            short_message: Buffer.from(`e2e ${accepted}`),
            registered_delivery: 1,
          },
          (p) => {
            inFlight--;
            if (p.command_status === 0) accepted++;
            else refused++;
            if (performance.now() >= until && inFlight === 0) resolve();
            else setImmediate(pump);
          },
        );
      }
    };
    pump();
  });
  const submitS = (performance.now() - t0) / 1000;
  // Receipts still on their way: wait until they stop coming (or all came).
  let last = -1;
  while (receipts.size < accepted && receipts.size !== last) {
    last = receipts.size;
    await sleep(3000);
  }
  const totalS = (performance.now() - t0) / 1000;
  const dup = [...receipts.values()].filter((n) => n > 1).length;
  if (process.env.E2E_DEBUG) {
    const st = await smsc.stats();
    const os_ = JSON.parse(fs.readFileSync(path.join(work, 'status', 'e2e.json'), 'utf8'));
    console.log('smsc', {
      submits: st.submits,
      receipts_sent: st.receipts_sent,
      receipts_acked: st.receipts_acked,
    });
    console.log('outlet', {
      sent: os_.sent,
      ...os_.outlet,
      reports: fs.readdirSync(path.join(work, 'reports')).length,
    });
    console.log(
      'outbox',
      fs.readdirSync(path.join(work, 'outbox')).length,
      'sent',
      fs.readdirSync(path.join(work, 'sent')).length,
    );
  }
  console.log(
    `E2E ESME → smppd → outlet → SMSC → receipt → ESME, Window ${window}, ${seconds} s: ${accepted} submits accepted (${(accepted / submitS).toFixed(0)}/s, ${refused} refused), ${receipts.size} receipts (${(receipts.size / totalS).toFixed(0)}/s until the last), ${dup} duplicated`,
  );
  session.close();
  for (const p of procs) p.kill('SIGTERM');
  await sleep(1000);
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  smsc.child.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
}

#!/usr/bin/env node
// Benchmark of the SQL service (never a test): four `smsd run` daemons (four emulated modems on
// real pseudo-terminals, four PhoneIDs) share one MariaDB or PostgreSQL database holding N queued
// messages, some pinned to a PhoneID (SenderID). Measures messages per second until the outbox is
// empty and checks that each message was sent exactly once, pinned ones by their PhoneID.
// With --restart the real database server is restarted half-way (this disturbs everything else
// using it: do not run it while tests run against the shared servers).
//
// Usage: npm run build && node bench/sql.mjs [--db mysql|pgsql|both] [--messages 10000]
//          [--pinned-every 10] [--restart]
// Needs MariaDB on 127.0.0.1:3306 (root, no password) and/or PostgreSQL 15 on 127.0.0.1:5432
// (postgres, trust), as `.ci/run` starts them. Each run creates and drops its own database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startEmulator } = await import(path.join(root, 'dist/lib/emulator/server.js'));
const { SqlConnection } = await import(path.join(root, 'dist/lib/services/sql/connection.js'));

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const MESSAGES = Number(opt('--messages', 10_000));
const PIN_EVERY = Number(opt('--pinned-every', 10));
const DAEMONS = 4;
const RESTART = args.includes('--restart');
const which = opt('--db', 'both');
if (!['mysql', 'pgsql', 'both'].includes(which)) throw new Error(`--db mysql|pgsql|both, not ${which}`);
const DIALECTS = which === 'both' ? ['mysql', 'pgsql'] : [which];
const SERVERS = {
  mysql: { dialect: 'mysql', host: '127.0.0.1:3306', user: 'root', password: '', admin: 'mysql' },
  pgsql: { dialect: 'pgsql', host: '127.0.0.1:5432', user: 'postgres', password: '', admin: 'postgres' },
};
const smsd = path.join(root, 'bin/smsd.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const secs = (ms) => (ms / 1000).toFixed(2);

function connection(dialect, database, extra = {}) {
  const s = SERVERS[dialect];
  return new SqlConnection({
    dialect,
    host: s.host,
    user: s.user,
    password: s.password,
    database,
    retries: 1,
    connectTimeoutMs: 2000,
    ...extra,
  });
}

/** Runs a command without blocking the event loop (the emulators live in this process). */
function run(cmd, argv) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('error', (err) => resolve({ code: -1, out: String(err) }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Does a fresh connection to the server answer? */
async function probe(dialect) {
  const c = connection(dialect, SERVERS[dialect].admin, { connectTimeoutMs: 500 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.close().catch(() => undefined);
  }
}

/**
 * Restarts the real server: MariaDB with its own shutdown command, then .ci/run's start command;
 * PostgreSQL with pg_ctlcluster. Meanwhile fresh connections every 20 ms tell when the server
 * stopped answering (gone) and when it answered again (back).
 */
async function restartServer(dialect, admin) {
  const t = { down: now() };
  let done = false;
  const watch = (async () => {
    while (!done) {
      const ok = await probe(dialect);
      const at = now();
      if (!ok) t.gone ??= at;
      else if (t.gone !== undefined) {
        t.back = at;
        return;
      }
      await sleep(20);
    }
  })();
  if (dialect === 'mysql') {
    const pidFile = String((await admin.query('SELECT @@pid_file')).rows[0][0]);
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    // A clean shutdown through the server's admin command (what SIGTERM to mariadbd does).
    const stop = await run('mariadb-admin', ['-h', '127.0.0.1', '-u', 'root', 'shutdown']);
    if (stop.code !== 0) throw new Error(`mariadb-admin shutdown failed: ${stop.out}`);
    while (fs.existsSync(`/proc/${pid}`)) await sleep(10);
    t.stopped = now();
    const start = await run('start-stop-daemon', [
      '--start',
      '--oknodo',
      '--background',
      '--exec',
      '/usr/sbin/mariadbd',
    ]);
    if (start.code !== 0) throw new Error(`start-stop-daemon failed: ${start.out}`);
  } else {
    const r = await run('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'restart']);
    if (r.code !== 0) throw new Error(`pg_ctlcluster restart failed: ${r.out}`);
  }
  const finished = now();
  while (t.back === undefined) {
    if (t.gone === undefined && now() - finished > 2000) {
      t.back = t.gone = finished; // too short for the watcher to see: count from the command's end
      break;
    }
    if (now() - finished > 120_000) {
      done = true;
      throw new Error(`${dialect} server not back 2 minutes after the restart`);
    }
    await sleep(20);
  }
  done = true;
  await watch;
  return t;
}

async function bench(dialect) {
  const s = SERVERS[dialect];
  const name = `smsgate_bench_${randomBytes(5).toString('hex')}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `smsgate-bench-sql-${dialect}-`));
  const dbLines = `service = sql\ndriver = native_${dialect}\nhost = ${s.host}\nuser = ${s.user}\npassword =\ndatabase = ${name}\n`;
  const config = path.join(work, 'smsdrc');
  fs.writeFileSync(config, `[smsd]\n${dbLines}`);
  const f = (n) => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
  const emulators = [];
  const daemons = [];
  let db;
  let created = false;
  try {
    const init = spawnSync(process.execPath, [smsd, 'db', 'init', '-c', config, '--create-database'], {
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`smsd db init: ${init.stderr}${init.stdout}`);
    created = true;
    db = connection(dialect, name, { retries: 1 });
    const version = String((await db.query('SELECT VERSION()')).rows[0][0])
      .split(' ')
      .slice(0, 2)
      .join(' ');
    console.log(`\n## ${dialect === 'mysql' ? 'MariaDB' : 'PostgreSQL'} (${version}), database ${name}`);

    // Queue: one CSV line per message, each text unique so the modems' SUBMITs can be counted by text.
    const batch = path.join(work, 'batch.csv');
    fs.writeFileSync(
      batch,
      Array.from({ length: MESSAGES }, (_, i) => `+4207${String(i).padStart(8, '0')},bench ${i}`).join('\n'),
    );
    const inj = spawnSync(smsd, ['inject', '-c', config, '--batch', batch], { encoding: 'utf8' });
    if (inj.status !== 0) throw new Error(`smsd inject --batch: ${inj.stderr}${inj.stdout}`);
    console.log(`smsd inject --batch: ${inj.stdout.trim()}`);
    // Pin every PIN_EVERY-th message to a PhoneID, spread over the four daemons.
    if (PIN_EVERY > 0)
      for (let k = 0; k < DAEMONS; k++)
        await db.query(
          `UPDATE outbox SET ${f('SenderID')} = 'bench${k + 1}' WHERE MOD(${f('ID')}, ${PIN_EVERY * DAEMONS}) = ${k * PIN_EVERY}`,
        );
    const queued = new Map(); // text -> { id, pinned }
    for (const r of (await db.query(`SELECT ${f('ID')}, ${f('TextDecoded')}, ${f('SenderID')} FROM outbox`))
      .rows)
      queued.set(String(r[1]), { id: String(r[0]), pinned: r[2] ? String(r[2]) : '' });
    const pinnedCount = [...queued.values()].filter((q) => q.pinned).length;
    if (queued.size !== MESSAGES) throw new Error(`${queued.size} rows in the outbox, expected ${MESSAGES}`);
    console.log(`queued ${MESSAGES} messages, ${pinnedCount} pinned to a PhoneID (SenderID)`);

    // Four modems and four daemons, bench1..bench4.
    const submits = new Map(); // text -> [{ daemon, t }]
    let first = 0;
    let last = 0;
    let sent = 0;
    for (let k = 0; k < DAEMONS; k++) {
      const device = path.join(work, `modem${k + 1}`);
      const em = await startEmulator({
        device,
        control: null,
        modem: { reportDelayMs: 0, imei: `35693803564381${k}` },
      });
      em.modem.on('submit', (rec) => {
        const t = now();
        first ||= t;
        last = t;
        sent++;
        const list = submits.get(rec.text) ?? [];
        list.push({ daemon: k, t });
        submits.set(rec.text, list);
      });
      emulators.push(em);
      const dir = path.join(work, `d${k + 1}`);
      for (const d of ['outbox', 'error']) fs.mkdirSync(path.join(dir, d), { recursive: true });
      const cfg = path.join(work, `smsdrc${k + 1}`);
      fs.writeFileSync(
        cfg,
        `[gammu]\ndevice = ${device}\nconnection = at\n[smsd]\n${dbLines}PhoneID = bench${k + 1}\n` +
          `OutboxPath = ${dir}/outbox/\nErrorSMSPath = ${dir}/error/\nStatePath = ${dir}/\n` +
          `DeliveryReport = no\nReceiveFrequency = 15\nStatusFrequency = 60\nCommTimeout = 30\nRetryTimeout = 10\n`,
      );
      const log = fs.openSync(path.join(work, `smsd${k + 1}.log`), 'w');
      daemons.push(spawn(smsd, ['run', '-c', cfg], { stdio: ['ignore', log, log] }));
      fs.closeSync(log);
    }
    const logs = () => daemons.map((_, k) => fs.readFileSync(path.join(work, `smsd${k + 1}.log`), 'utf8'));

    // Until the outbox is empty, polled on a connection of our own.
    let restart;
    let restarting;
    const poll = connection(dialect, name);
    const started = now();
    let remaining = MESSAGES;
    let emptyAt = 0;
    for (;;) {
      await sleep(100);
      if (RESTART && !restarting && sent >= MESSAGES / 2) {
        const admin = connection(dialect, s.admin);
        await admin.connect();
        const at = sent;
        restarting = restartServer(dialect, admin)
          .then(
            (t) => (restart = { ...t, at }),
            (err) => (restart = { error: err.message, at }),
          )
          .finally(() => admin.close().catch(() => undefined));
      }
      try {
        remaining = Number((await poll.query('SELECT COUNT(*) FROM outbox')).rows[0][0]);
      } catch {
        continue; // the server is down (restart): keep the emulators running and ask again
      }
      if (remaining === 0 && (!RESTART || restart)) {
        emptyAt = now();
        break;
      }
      const dead = daemons.findIndex((d) => d.exitCode !== null);
      if (dead >= 0) throw new Error(`smsd run bench${dead + 1} exited:\n${logs()[dead].slice(-3000)}`);
      if (now() - Math.max(started, last) > 120_000) {
        const left = await poll
          .query(
            `SELECT ${['ID', 'SenderID', 'SendingDateTime', 'SendingTimeOut', 'Retries', 'Status'].map(f).join(', ')} FROM outbox`,
          )
          .then((r) => r.rows.map((x) => x.join(' | ')).join('\n'))
          .catch((err) => err.message);
        const trouble = logs()
          .map((l, k) =>
            l
              .split('\n')
              .filter((x) => !/ INFO /.test(x))
              .map((x) => `bench${k + 1}: ${x}`),
          )
          .flat()
          .slice(-60)
          .join('\n');
        throw new Error(
          `no progress for 2 minutes, ${remaining} left:\n${left}\nwarnings and errors:\n${trouble}`,
        );
      }
    }
    await restarting;
    await poll.close();
    await sleep(500); // late duplicates, if any, would show up here

    // Exactly once: every queued text SUBMITted once; every outbox ID once in sentitems.
    let missing = 0;
    let twice = 0;
    let wrongModem = 0;
    for (const [text, q] of queued) {
      const got = submits.get(text) ?? [];
      if (got.length === 0) missing++;
      if (got.length > 1) twice++;
      if (q.pinned && got.some((g) => `bench${g.daemon + 1}` !== q.pinned)) wrongModem++;
    }
    const unknown = [...submits.keys()].filter((t) => !queued.has(t)).length;
    const rows = (
      await db.query(`SELECT ${f('ID')}, ${f('SenderID')}, ${f('Status')} FROM sentitems`)
    ).rows.map((r) => ({ id: String(r[0]), sender: String(r[1]), status: String(r[2]) }));
    const perId = new Map();
    for (const r of rows) perId.set(r.id, (perId.get(r.id) ?? 0) + 1);
    const ids = new Set([...queued.values()].map((q) => q.id));
    const idMissing = [...ids].filter((id) => !perId.has(id)).length;
    const idTwice = [...perId.values()].filter((n) => n > 1).length;
    const idUnknown = [...perId.keys()].filter((id) => !ids.has(id)).length;
    const notOk = rows.filter((r) => r.status !== 'SendingOKNoReport' && r.status !== 'SendingOK').length;
    const byId = new Map(rows.map((r) => [r.id, r.sender]));
    const pinnedWrong = [...queued.values()].filter((q) => q.pinned && byId.get(q.id) !== q.pinned).length;
    const perDaemon = Array.from(
      { length: DAEMONS },
      (_, k) => rows.filter((r) => r.sender === `bench${k + 1}`).length,
    );

    const wall = emptyAt - first;
    console.log(
      `throughput: ${MESSAGES} messages, 4 daemons, first SUBMIT to an empty outbox in ${secs(wall)} s = ${(MESSAGES / (wall / 1000)).toFixed(1)} messages/s overall` +
        (restart ? ' (the restart included)' : ''),
    );
    console.log(
      `sent per PhoneID (sentitems.SenderID): ${perDaemon.map((n, k) => `bench${k + 1} ${n}`).join(', ')}`,
    );
    console.log(
      `exactly once: SUBMITs at the modems ${sent} (missing ${missing}, twice or more ${twice}, unknown ${unknown}); ` +
        `sentitems rows ${rows.length} (IDs missing ${idMissing}, twice ${idTwice}, unknown ${idUnknown}, status not SendingOK* ${notOk})`,
    );
    console.log(
      `pinned: ${pinnedCount} messages, sent by another PhoneID ${pinnedWrong} (sentitems), through another modem ${wrongModem}`,
    );
    if (restart?.error) console.log(`restart after ${restart.at} SUBMITs failed: ${restart.error}`);
    else if (restart) {
      const after = (k) =>
        Math.min(
          ...[...submits.values()]
            .flat()
            .filter((g) => g.t >= restart.back && (k === undefined || g.daemon === k))
            .map((g) => g.t),
        );
      const perDaemonBack = Array.from({ length: DAEMONS }, (_, k) => after(k) - restart.back);
      const times = [...submits.values()]
        .flat()
        .map((g) => g.t)
        .sort((a, b) => a - b);
      let pause = 0;
      for (let i = 1; i < times.length; i++) pause = Math.max(pause, times[i] - times[i - 1]);
      console.log(
        `restart after ${restart.at} SUBMITs: ${dialect === 'mysql' ? 'mariadb-admin shutdown + start-stop-daemon' : 'pg_ctlcluster restart'}; ` +
          `the server stopped answering ${secs(restart.gone - restart.down)} s after the command and answered again ${secs(restart.back - restart.gone)} s later` +
          `; first message sent ${secs(after() - restart.back)} s after the server was back, ` +
          `every daemon sending again within ${secs(Math.max(...perDaemonBack))} s ` +
          `(${perDaemonBack.map((ms, k) => `bench${k + 1} ${secs(ms)}`).join(', ')}); longest pause between two SUBMITs ${secs(pause)} s`,
      );
    }
    const lines = logs().map((l) => l.split('\n'));
    const warnings = lines.map((l) => l.filter((x) => / WARN /.test(x)));
    const errors = lines.map((l) => l.filter((x) => / ERROR /.test(x)));
    console.log(
      `daemon log: WARN lines ${warnings.map((w) => w.length).join(', ')}; ERROR lines ${errors.map((e) => e.length).join(', ')}`,
    );
    for (const [k, e] of errors.entries())
      for (const x of e.slice(0, 10)) console.log(`  bench${k + 1}: ${x}`);
    const ok =
      missing + twice + unknown + idMissing + idTwice + idUnknown + notOk + pinnedWrong + wrongModem === 0;
    console.log(
      ok ? 'result: each message sent exactly once, pinned ones by their PhoneID' : 'result: FAILED',
    );
    return ok;
  } finally {
    for (const d of daemons) {
      if (d.exitCode !== null) continue;
      const exited = new Promise((r) => d.once('exit', r));
      d.kill('SIGTERM');
      const timer = setTimeout(() => d.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    for (const em of emulators) await em.close();
    await db?.close().catch(() => undefined);
    if (created) {
      const admin = connection(dialect, s.admin);
      try {
        if (dialect === 'pgsql')
          await admin.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
            [name],
          );
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      } catch (err) {
        console.error(`could not drop ${name}: ${err.message}`);
      } finally {
        await admin.close().catch(() => undefined);
      }
    }
    if (!process.env.KEEP_BENCH) fs.rmSync(work, { recursive: true, force: true });
    else console.log(`work folder kept: ${work}`);
  }
}

console.log(
  `# SQL service benchmark: ${DAEMONS} x smsd run, ${MESSAGES} messages (every ${PIN_EVERY}th pinned), ` +
    `${os.cpus().length} CPUs, node ${process.version}, emulators with no latency on PTYs${RESTART ? ', server restarted half-way' : ''}`,
);
let failed = false;
for (const d of DIALECTS) if (!(await bench(d))) failed = true;
process.exitCode = failed ? 1 : 0;

#!/usr/bin/env node
// Benchmark of `smppd serve` (never run as a test): one bind, a window of 100 submit_sm in flight,
// each acknowledged only once its outbox file is durable (group commit), beside a server on the
// same `smpp` package that stores nothing (bench/smpp-null-server.mjs); prints both and the ratio.
// Then the submit_sm_resp latency at a steady offered rate.
// With --sql mysql|pgsql: `Service = sql` instead, each submit acknowledged once committed to Gammu's
// SQL outbox (and smppd_message) in a fresh database on the local server; --nodes N runs N smppd
// processes on that one database, each flooded by its own bind at once (aggregate rate).
// --sql sqlite: one node on a fresh SQLite file (Driver = sqlite3, better-sqlite3 installed), and in
// the same run the files store (the spool) as the reference, with the ratio.
// Usage: npm run build && node bench/smpp.mjs [--messages 50000] [--window 100] [--rate 1000]
//          [--sql mysql|pgsql|sqlite [--nodes 2]]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import smpp from 'smpp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MESSAGES = opt('--messages', 50000);
const WINDOW = opt('--window', 100);
const RATE = opt('--rate', 1000);
const BINDS = opt('--binds', 1000);
const SQL = args.includes('--sql') ? args[args.indexOf('--sql') + 1] : undefined;
const NODES = opt('--nodes', 1);
// --ksmppd (with --sql): accounts, routes and prepaid credit from KSMPPD's tables in the same database.
const KSMPPD = args.includes('--ksmppd');
if (SQL !== undefined && !['mysql', 'pgsql', 'sqlite'].includes(SQL))
  throw new Error(`--sql mysql|pgsql|sqlite, not ${SQL}`);
if (SQL === 'sqlite' && NODES !== 1) throw new Error('--sql sqlite: one node (SQLite serves one smppd)');

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

function bind(port) {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ host: '127.0.0.1', port }, () =>
      s.bind_transceiver({ system_id: 'bench', password: 'bench1' }, (r) =>
        r.command_status === 0 ? resolve(s) : reject(new Error(`bind ${r.command_status}`)),
      ),
    );
    s.on('error', reject);
  });
}

const submit = (s, i, done) =>
  s.submit_sm(
    {
      destination_addr: '+420123456789',
      data_coding: 0,
      short_message: Buffer.from(`message ${i}`),
      registered_delivery: 1,
    },
    done,
  );

/** N submits with `window` in flight; messages per second. */
function flood(s, n, window) {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = 0;
    const t0 = process.hrtime.bigint();
    const next = () => {
      while (sent < n && sent - answered < window) {
        submit(s, sent++, (r) => {
          if (r.command_status !== 0) return reject(new Error(`submit_sm_resp status ${r.command_status}`));
          if (++answered === n) resolve(n / (Number(process.hrtime.bigint() - t0) / 1e9));
          else next();
        });
      }
    };
    next();
  });
}

/** Offered load at `rate`/s for `seconds`; submit_sm_resp latency percentiles in ms. */
function latency(s, rate, seconds) {
  return new Promise((resolve) => {
    const lat = [];
    const total = rate * seconds;
    let sent = 0;
    const tick = 10;
    const perTick = Math.max(1, Math.round((rate * tick) / 1000));
    const timer = setInterval(() => {
      for (let k = 0; k < perTick && sent < total; k++) {
        const t = process.hrtime.bigint();
        submit(s, sent++, () => {
          lat.push(Number(process.hrtime.bigint() - t) / 1e6);
          if (lat.length === total) {
            lat.sort((a, b) => a - b);
            const p = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))].toFixed(2);
            resolve({ p50: p(0.5), p99: p(0.99), max: lat[lat.length - 1].toFixed(2) });
          }
        });
      }
      if (sent >= total) clearInterval(timer);
    }, tick);
  });
}

async function run(label, server) {
  const s = await bind(server.port);
  await flood(s, Math.min(5000, MESSAGES), WINDOW); // warm-up (JIT, first journal segment)
  const rate = await flood(s, MESSAGES, WINDOW);
  const lat = RATE > 0 ? await latency(s, RATE, 3) : undefined;
  s.close();
  console.log(
    `${label.padEnd(34)} ${Math.round(rate).toLocaleString('en')} submit_sm/s` +
      (lat ? `; at ${RATE}/s offered: p50 ${lat.p50} ms, p99 ${lat.p99} ms, max ${lat.max} ms` : ''),
  );
  return rate;
}

/** --sql: N smppd on one fresh database; aggregate submits/s acknowledged after the SQL commit. */
async function runSql(dialect) {
  const { SqlConnection } = await import(path.join(root, 'dist/lib/services/sql/connection.js'));
  const { initSchema } = await import(path.join(root, 'dist/lib/services/sql/schema.js'));
  const { SQL_TABLE_NAMES } = await import(path.join(root, 'dist/lib/config/smsd-config.js'));
  const { hashPassword } = await import(path.join(root, 'dist/lib/smpp/policy/accounts.js'));
  const server = {
    mysql: { dialect: 'mysql', host: '127.0.0.1:3306', user: 'root', password: '', admin: 'mysql' },
    pgsql: { dialect: 'pgsql', host: '127.0.0.1:5432', user: 'postgres', password: '', admin: 'postgres' },
  }[dialect];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-smpp-sql-'));
  const sqlite = dialect === 'sqlite';
  const name = sqlite ? 'smsd.db' : `smsgate_bench_${Math.random().toString(16).slice(2, 10)}`;
  const admin = sqlite ? undefined : new SqlConnection({ ...server, database: server.admin });
  await admin?.query(`CREATE DATABASE ${name}`);
  const conn = sqlite
    ? new SqlConnection({
        dialect: 'sqlite',
        host: '',
        user: '',
        password: '',
        dbDir: work,
        database: name,
        create: true,
      })
    : new SqlConnection({ ...server, database: name });
  await initSchema(conn, Object.fromEntries(SQL_TABLE_NAMES.map((t) => [t, t])), 18);
  fs.writeFileSync(path.join(work, 'esme.ini'), `[bench]\npassword = ${await hashPassword('bench1')}\n`);
  if (KSMPPD) {
    const { initKsmppdSchema } = await import(path.join(root, 'dist/lib/smpp/sql/schema.js'));
    await initKsmppdSchema(conn, { user: 'smpp_user', route: 'smpp_route', version: 'smpp_version' });
    const p = (i) => (dialect === 'pgsql' ? `$${i}` : '?');
    await conn.query(
      `INSERT INTO smpp_user (system_id, password, throughput, default_smsc, default_cost, enable_prepaid_billing, credit, simulate_deliver_every, simulate_permanent_failure_every, simulate_temporary_failure_every, simulate_mo_every) VALUES ('bench', ${p(1)}, 0, NULL, 0, 1, 1000000, 0, 0, 0, 0)`,
      [await hashPassword('bench1')],
    );
    await conn.query(
      `INSERT INTO smpp_route (direction, regex, cost, system_id, smsc_id, priority) VALUES (1, ${p(1)}, 0.01, '*', '', 0)`,
      ['^\\+420'],
    );
  }
  const nodes = [];
  for (let i = 0; i < NODES; i++) {
    const config = path.join(work, `smsdrc-${i}`);
    fs.writeFileSync(
      config,
      `[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = sql\n` +
        (sqlite
          ? `driver = sqlite3\ndbdir = ${work}\ndatabase = ${name}\n`
          : `driver = native_${dialect}\nhost = ${server.host}\nuser = ${server.user}\npassword =\ndatabase = ${name}\n`) +
        `[smppd]\nPort = 0\nListen = 127.0.0.1\nStateDir = ${work}/state-${i}\nNodeId = node-${i}\n` +
        (KSMPPD ? 'AccountsSource = sql\nRoutesSource = sql\n' : `AccountsFile = ${work}/esme.ini\n`),
    );
    nodes.push(
      await start(
        process.execPath,
        [path.join(root, 'bin/smppd.js'), 'serve', '-c', config],
        /listening on [^:]+:(\d+)/,
      ),
    );
  }
  console.log(
    `# smppd serve on SQL (${dialect}, database ${sqlite ? path.join(work, name) : name}, ${KSMPPD ? 'KSMPPD accounts, routes and prepaid credit in the database, ' : ''}${NODES} node(s), ${os.cpus().length} CPUs, node ${process.version}, ${MESSAGES} submits, window ${WINDOW} per node)`,
  );
  const sessions = await Promise.all(nodes.map((n) => bind(n.port)));
  await Promise.all(sessions.map((s) => flood(s, Math.min(2000, MESSAGES), WINDOW))); // warm-up
  const per = Math.ceil(MESSAGES / NODES);
  // Where the time goes, less skewed by a loaded machine than the rate: CPU of the nodes and (on
  // PostgreSQL) of the database's backends per submit, and the commits the database counted.
  const backends =
    dialect === 'pgsql'
      ? (await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1`, [name])).rows.map(
          (r) => r[0],
        )
      : [];
  const pids = [...nodes.map((n) => n.child.pid), ...backends];
  const cpu = () =>
    pids.map((pid) => {
      try {
        const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) * (1e6 / 100); // utime + stime, clock ticks -> µs
      } catch {
        return 0;
      }
    });
  const commits = async () =>
    dialect === 'pgsql'
      ? Number(
          (await admin.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, [name]))
            .rows[0][0],
        )
      : 0;
  const [cpu0, commits0] = [cpu(), await commits()];
  const t0 = process.hrtime.bigint();
  const rates = await Promise.all(sessions.map((s) => flood(s, per, WINDOW)));
  const total = (per * NODES) / (Number(process.hrtime.bigint() - t0) / 1e9);
  const sqliteRate = total;
  const used = cpu().map((v, i) => v - cpu0[i]);
  const [commits1] = [await commits()];
  rates.forEach((r, i) => console.log(`node ${i + 1}: ${Math.round(r).toLocaleString('en')} submit_sm/s`));
  console.log(
    `all ${NODES} node(s): ${Math.round(total).toLocaleString('en')} submit_sm/s committed to the SQL outbox`,
  );
  const us = (v) => (v / (per * NODES)).toFixed(0);
  console.log(
    `CPU per submit: nodes ${us(used.slice(0, NODES).reduce((a, b) => a + b, 0))} µs` +
      (dialect === 'pgsql'
        ? `, PostgreSQL backends ${us(used.slice(NODES).reduce((a, b) => a + b, 0))} µs; ${((commits1 - commits0) / ((per * NODES) / 1000)).toFixed(1)} commits per 1,000 submits`
        : ''),
  );
  if (RATE > 0) {
    const lat = await latency(sessions[0], RATE, 3);
    console.log(`node 1 at ${RATE}/s offered: p50 ${lat.p50} ms, p99 ${lat.p99} ms, max ${lat.max} ms`);
  }
  for (const s of sessions) s.close();
  for (const n of nodes) await stop(n.child);
  const count = async (t) => Number((await conn.query(`SELECT COUNT(*) FROM ${t}`)).rows[0][0]);
  console.log(`${await count('outbox')} outbox rows, ${await count('smppd_message')} smppd_message rows`);
  if (KSMPPD) {
    const credit = Number(
      (await conn.query(`SELECT credit FROM smpp_user WHERE system_id = 'bench'`)).rows[0][0],
    );
    console.log(
      `credit left ${credit.toFixed(2)} (spent ${(1_000_000 - credit).toFixed(2)}), ${await count('smppd_ledger')} ledger rows`,
    );
  }
  await conn.close();
  if (dialect === 'pgsql')
    await admin?.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
  await admin?.query(`DROP DATABASE ${name}`);
  await admin?.close();
  if (sqlite) {
    // The reference in the same run: the files store (the spool), same account, same load.
    fs.mkdirSync(path.join(work, 'spool'));
    for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, 'spool', d));
    const config = path.join(work, 'smsdrc-files');
    fs.writeFileSync(
      config,
      `[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = files\n` +
        ['inbox', 'outbox', 'sent', 'error']
          .map(
            (d) => `${d === 'sent' ? 'sentsms' : d === 'error' ? 'errorsms' : d}path = ${work}/spool/${d}/\n`,
          )
          .join('') +
        `[smppd]\nPort = 0\nListen = 127.0.0.1\nStateDir = ${work}/state-files\nAccountsFile = ${work}/esme.ini\n`,
    );
    const files = await start(
      process.execPath,
      [path.join(root, 'bin/smppd.js'), 'serve', '-c', config],
      /listening on [^:]+:(\d+)/,
    );
    const s = await bind(files.port);
    await flood(s, Math.min(2000, MESSAGES), WINDOW);
    const ref = await flood(s, MESSAGES, WINDOW);
    s.close();
    await stop(files.child);
    console.log(
      `files store (spool), same run: ${Math.round(ref).toLocaleString('en')} submit_sm/s; SQLite / files = ${(sqliteRate / ref).toFixed(2)}`,
    );
  }
  fs.rmSync(work, { recursive: true, force: true });
}

if (SQL) {
  await runSql(SQL);
  process.exit(0);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-smpp-'));
for (const d of ['inbox', 'outbox', 'sent', 'error']) fs.mkdirSync(path.join(work, d));
const { hashPassword } = await import(path.join(root, 'dist/lib/smpp/policy/accounts.js'));
// The idle binds use a cheap scrypt cost: what is measured is memory, not bind time.
fs.writeFileSync(
  path.join(work, 'esme.ini'),
  `[bench]\npassword = ${await hashPassword('bench1')}\n[idle]\npassword = ${await hashPassword('idle1', { N: 1024, r: 8, p: 1 })}\n`,
);
const config = path.join(work, 'smsdrc');
fs.writeFileSync(
  config,
  `[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = files\ninboxpath = ${work}/inbox/\noutboxpath = ${work}/outbox/\nsentsmspath = ${work}/sent/\nerrorsmspath = ${work}/error/\n` +
    // All the idle binds come from 127.0.0.1: above the default MaxConnectionsPerIp (200).
    `[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${work}/esme.ini\nMaxConnectionsPerIp = ${BINDS + 100}\n`,
);

console.log(
  `# smppd serve benchmark (${os.cpus().length} CPUs, node ${process.version}, ${MESSAGES} submits, window ${WINDOW}, spool ${work})`,
);
const nullServer = await start(
  process.execPath,
  [path.join(root, 'bench/smpp-null-server.mjs')],
  /listening (\d+)/,
);
const base = await run('no storage (same smpp package)', nullServer);
await stop(nullServer.child);
const ours = await start(
  process.execPath,
  [path.join(root, 'bin/smppd.js'), 'serve', '-c', config],
  /listening on [^:]+:(\d+)/,
);
const rate = await run('smppd serve (durable outbox)', ours);
if (BINDS > 0) {
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${ours.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const before = rss();
  const sessions = [];
  for (let i = 0; i < BINDS; i += 50) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(50, BINDS - i) },
        () =>
          new Promise((resolve, reject) => {
            const s = smpp.connect({ host: '127.0.0.1', port: ours.port }, () =>
              s.bind_receiver({ system_id: 'idle', password: 'idle1' }, (r) =>
                r.command_status === 0 ? resolve(s) : reject(new Error(`bind ${r.command_status}`)),
              ),
            );
            s.on('error', reject);
          }),
      ),
    );
    sessions.push(...batch);
  }
  await new Promise((r) => setTimeout(r, 2000));
  console.log(
    `${BINDS} idle binds: server RSS ${rss().toFixed(0)} MB (after the submits, before the binds: ${before.toFixed(0)} MB)`,
  );
  for (const s of sessions) s.destroy();
}
await stop(ours.child);
const files = fs.readdirSync(path.join(work, 'outbox')).filter((n) => n.startsWith('OUT')).length;
console.log(`ratio ${(rate / base).toFixed(2)} (target >= 0.5); ${files} outbox files written`);
fs.rmSync(work, { recursive: true, force: true });

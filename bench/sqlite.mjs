#!/usr/bin/env node
// Benchmark of the SQL service on SQLite (Driver = sqlite3; never a test), side by side with
// MariaDB when it is up (127.0.0.1:3306, root) as the reference:
//  1. `smsd inject --batch` of N messages (default 20,000): messages/s, durable (WAL, synchronous
//     = FULL: each 256-message transaction is fsynced before the next one starts).
//  2. The outbox pick at a backlog of 100 and of 10,000: (a) in-process, SqlService's findOutbox +
//     addSentInfo + moveSms for 100 messages (the database work of sending); (b) one `smsd run`
//     with an emulated modem, the time for its first 100 messages. A flat pick cost gives the same
//     rate at both backlogs. Prints the query plan of the pick.
//
// Usage: npm run build && node bench/sqlite.mjs [--messages 20000] [--backlog 10000] [--no-mysql]
//          [--parts inject,plan,pick,daemon]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startEmulator } = await import(path.join(root, 'dist/lib/emulator/server.js'));
const { SqlConnection } = await import(path.join(root, 'dist/lib/services/sql/connection.js'));
const { SqlService } = await import(path.join(root, 'dist/lib/services/sql/service.js'));
const { defaultQueries } = await import(path.join(root, 'dist/lib/services/sql/queries.js'));
const Database = (await import('better-sqlite3')).default;

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const MESSAGES = Number(opt('--messages', 20_000));
const BACKLOG = Number(opt('--backlog', 10_000));
const PARTS = opt('--parts', 'inject,plan,pick,daemon').split(',');
const smsd = path.join(root, 'bin/smsd.js');
const TABLES = Object.fromEntries(
  ['gammu', 'inbox', 'outbox', 'outbox_multipart', 'sentitems', 'phones'].map((t) => [t, t]),
);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-bench-sqlite-'));

/** A fresh database of `kind` (sqlite or mysql) with Gammu's tables at 18; returns its config lines. */
async function freshDb(kind) {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(work, 'db-'));
    const lines = `service = sql\ndriver = sqlite3\nsql = sqlite\ndbdir = ${dir}\ndatabase = smsd.db\n`;
    const cfg = path.join(dir, 'smsdrc');
    fs.writeFileSync(cfg, `[gammu]\ndevice = /dev/null\n[smsd]\n${lines}`);
    const r = spawnSync(smsd, ['db', 'init', '-c', cfg], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return {
      lines,
      conn: { dialect: 'sqlite', host: '', user: '', password: '', database: 'smsd.db', dbDir: dir },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `smsgate_b_${randomBytes(5).toString('hex')}`;
  const base = { dialect: 'mysql', host: '127.0.0.1:3306', user: 'root', password: '', retries: 1 };
  const admin = new SqlConnection({ ...base, database: 'mysql', connectTimeoutMs: 1000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.close();
  const lines = `service = sql\ndriver = native_mysql\nhost = 127.0.0.1:3306\nuser = root\npassword =\ndatabase = ${name}\n`;
  const cfg = path.join(work, `${name}.rc`);
  fs.writeFileSync(cfg, `[gammu]\ndevice = /dev/null\n[smsd]\n${lines}`);
  const r = spawnSync(smsd, ['db', 'init', '-c', cfg], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return {
    lines,
    conn: { ...base, database: name },
    drop: async () => {
      const a = new SqlConnection({ ...base, database: 'mysql' });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name}`);
      await a.close();
    },
  };
}

async function mysqlUp() {
  if (args.includes('--no-mysql')) return false;
  try {
    const c = new SqlConnection({
      dialect: 'mysql',
      host: '127.0.0.1:3306',
      user: 'root',
      password: '',
      database: 'mysql',
      retries: 1,
      connectTimeoutMs: 500,
    });
    await c.connect();
    await c.close();
    return true;
  } catch {
    return false;
  }
}

function csv(n, from = 0) {
  const file = path.join(work, `batch-${n}-${from}.csv`);
  fs.writeFileSync(
    file,
    Array.from({ length: n }, (_, i) => `+4207${String(from + i).padStart(8, '0')},bench ${from + i}`).join(
      '\n',
    ),
  );
  return file;
}

function inject(db, file) {
  const cfg = path.join(work, `inj-${randomBytes(3).toString('hex')}.rc`);
  fs.writeFileSync(cfg, `[gammu]\ndevice = /dev/null\n[smsd]\n${db.lines}`);
  const t = performance.now();
  const r = spawnSync(smsd, ['inject', '-c', cfg, '--batch', file], { encoding: 'utf8' });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`smsd inject --batch: ${r.stderr}${r.stdout}`);
  return { wall, summary: r.stdout.trim() };
}

const svcOptions = (conn, phoneId) => ({
  connection: { ...conn, retries: 1 },
  tables: TABLES,
  phoneId,
  loopSleep: 1,
  statusFrequency: 60,
  deliveryReportDelay: 600,
  deliveryReport: 'no',
});

/** In-process: the database work of sending 100 messages from a backlog of `backlog`. */
async function pickRate(kind, backlog) {
  const db = await freshDb(kind);
  try {
    inject(db, csv(backlog));
    const s = new SqlService(svcOptions(db.conn, 'bench'));
    await s.init();
    await s.initAfterConnect({ phoneId: 'bench', imei: '356938035643809', imsi: '' });
    const t = performance.now();
    for (let i = 0; i < 100; i++) {
      const job = await s.findOutbox();
      if (!job) throw new Error('outbox empty too early');
      await s.addSentInfo(job, 0, i & 0xff);
      await s.moveSms(job, 'sent');
    }
    const ms = performance.now() - t;
    await s.free();
    return 100_000 / ms;
  } finally {
    await db.drop();
  }
}

/** One `smsd run` with an emulated modem: messages/s over its first 100 sends from a backlog of `backlog`. */
async function daemonRate(kind, backlog) {
  const db = await freshDb(kind);
  const device = path.join(work, `modem-${randomBytes(3).toString('hex')}`);
  const em = await startEmulator({ device, control: null, modem: { reportDelayMs: 0 } });
  let daemon;
  try {
    inject(db, csv(backlog));
    const times = [];
    em.modem.on('submit', () => times.push(performance.now()));
    const cfg = path.join(work, `run-${randomBytes(3).toString('hex')}.rc`);
    const state = fs.mkdtempSync(path.join(work, 'state-'));
    fs.writeFileSync(
      cfg,
      `[gammu]\ndevice = ${device}\nconnection = at\n[smsd]\n${db.lines}PhoneID = bench\nStatePath = ${state}/\n` +
        `DeliveryReport = no\nReceiveFrequency = 15\nStatusFrequency = 60\nCommTimeout = 30\n`,
    );
    daemon = spawn(smsd, ['run', '-c', cfg], { stdio: 'ignore' });
    const deadline = Date.now() + 120_000;
    while (times.length < 110 && Date.now() < deadline) await sleep(50);
    if (times.length < 110) throw new Error(`only ${times.length} sends`);
    // Messages 10..110: past the start-up, 100 picks in the steady state.
    return 100_000 / (times[109] - times[9]);
  } finally {
    daemon?.kill('SIGTERM');
    await sleep(300);
    await em.close();
    await db.drop();
  }
}

try {
  const withMysql = await mysqlUp();
  const kinds = withMysql ? ['sqlite', 'mysql'] : ['sqlite'];
  const label = { sqlite: 'SQLite (WAL, synchronous=FULL)', mysql: 'MariaDB (reference)' };
  console.log(`# smsgate on SQLite: ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? ''}`);
  if (PARTS.includes('inject'))
    console.log(`\n## smsd inject --batch, ${MESSAGES} messages (durable when the command returns)`);
  for (const kind of PARTS.includes('inject') ? kinds : []) {
    const db = await freshDb(kind);
    try {
      const { wall, summary } = inject(db, csv(MESSAGES));
      console.log(
        `${label[kind]}: ${Math.round(MESSAGES / wall)} messages/s wall (${wall.toFixed(2)} s); ${summary}`,
      );
    } finally {
      await db.drop();
    }
  }

  // The pick's query plan, and the pick query alone (no writes, so no fsync) at both backlogs.
  if (PARTS.includes('plan')) {
    const q = defaultQueries({
      dialect: 'sqlite',
      version: 18,
      tables: TABLES,
      loopSleep: 1,
      statusFrequency: 60,
    });
    const sql = q.find_outbox_sms_id.replace(/%P/g, "'bench'").replace(/%1/g, '1').replace(/%2/g, '127');
    // Reference: the same query as Gammu writes it (no unary +): the planner sorts the queue.
    const gammuSql = sql.replace(/\+"/g, '"');
    const perPick = [];
    const perGammu = [];
    for (const backlog of [100, BACKLOG]) {
      const db = await freshDb('sqlite');
      inject(db, csv(backlog));
      const c = new Database(path.join(db.conn.dbDir, 'smsd.db'), { readonly: true });
      if (backlog === 100)
        console.log(
          `\n## find_outbox_sms_id on SQLite: ${c
            .prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .all()
            .map((r) => r.detail)
            .join('; ')}`,
        );
      const st = c.prepare(sql);
      for (let i = 0; i < 500; i++) st.get();
      const t = performance.now();
      for (let i = 0; i < 5000; i++) st.get();
      perPick.push(((performance.now() - t) / 5000) * 1000);
      const g = c.prepare(gammuSql);
      const t2 = performance.now();
      for (let i = 0; i < 200; i++) g.get();
      perGammu.push(((performance.now() - t2) / 200) * 1000);
      c.close();
      await db.drop();
    }
    console.log(
      `the pick query alone: ${perPick[0].toFixed(1)} µs at 100 queued, ${perPick[1].toFixed(1)} µs at ${BACKLOG} queued; ` +
        `without the unary + (Gammu's text): ${perGammu[0].toFixed(1)} µs and ${perGammu[1].toFixed(1)} µs`,
    );
  }

  console.log(`\n## the pick at a backlog of 100 and ${BACKLOG}: 100 messages sent`);
  for (const kind of PARTS.includes('pick') ? kinds : []) {
    const small = await pickRate(kind, 100);
    const big = await pickRate(kind, BACKLOG);
    console.log(
      `${label[kind]}, SqlService (find + sentitems + delete): ${Math.round(small)}/s at 100, ${Math.round(big)}/s at ${BACKLOG} (ratio ${(big / small).toFixed(2)})`,
    );
  }
  for (const kind of PARTS.includes('daemon') ? kinds : []) {
    const small = await daemonRate(kind, 120);
    const big = await daemonRate(kind, BACKLOG);
    console.log(
      `${label[kind]}, smsd run + emulated modem: ${small.toFixed(1)}/s at 120, ${big.toFixed(1)}/s at ${BACKLOG} (ratio ${(big / small).toFixed(2)})`,
    );
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

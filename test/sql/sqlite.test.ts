import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createTempDb, serverAvailable, type TempDb } from './db.js';
import { runSmsd, SMSD_BIN } from '../helpers/spool.js';
import { waitFor, FAST_TIMERS } from '../helpers/rig.js';
import { startEmulator, type EmulatorServer } from '../../src/lib/emulator/server.js';
import { joinSent } from '../../src/lib/emulator/records.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';

/**
 * SQLite as Gammu's DBI service, the parts no server database has: several processes on one file,
 * another process holding the write lock, a read-only or missing file, the file vanishing, the
 * optional binding missing, and Gammu's own daemon on a file we created.
 */
describe('Service = sql, Driver = sqlite3', () => {
  let db: TempDb | undefined;
  const emulators: EmulatorServer[] = [];
  const daemons: ChildProcess[] = [];
  const mounts: string[] = [];
  let dir = '';

  afterEach(async () => {
    for (const d of daemons.splice(0)) {
      if (d.exitCode !== null || d.signalCode !== null) continue;
      const exited = new Promise((r) => d.once('exit', r));
      d.kill('SIGKILL');
      await exited;
    }
    for (const e of emulators.splice(0)) await e.close();
    for (const m of mounts.splice(0)) spawnSync('umount', [m]);
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    db = undefined;
    dir = '';
  });

  async function setup(version: 17 | 18 = 18): Promise<TempDb | undefined> {
    if (!(await serverAvailable('sqlite'))) return undefined;
    db = await createTempDb('sqlite', version);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-sqlite-run-'));
    return db;
  }

  /** A modem emulator and a config for one daemon with PhoneID `id` on the shared file. */
  async function node(
    id: string,
    extra = '',
    lines = (db as TempDb).configLines,
  ): Promise<{ config: string; emulator: EmulatorServer }> {
    const device = path.join(dir, `modem-${id}`);
    const emulator = await startEmulator({ device, control: null, modem: { reportDelayMs: 100 } });
    emulators.push(emulator);
    const config = path.join(dir, `smsdrc-${id}`);
    fs.writeFileSync(
      config,
      `[gammu]\ndevice = ${device}\nconnection = at\n\n[smsd]\n${lines}PhoneID = ${id}\n` +
        `DeliveryReport = log\n${FAST_TIMERS}${extra}`,
    );
    return { config, emulator };
  }

  function run(config: string, env: NodeJS.ProcessEnv = {}): { proc: ChildProcess; out: () => string } {
    let out = '';
    const proc = spawn(process.execPath, [SMSD_BIN, 'run', '-c', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    daemons.push(proc);
    return { proc, out: () => out };
  }

  const file = (): string => path.join((db as TempDb).dir as string, (db as TempDb).name);
  const count = (sql: string): number => {
    const c = new Database(file(), { readonly: true });
    try {
      return Number(c.prepare(sql).pluck().get());
    } finally {
      c.close();
    }
  };

  it('three smsd run processes drain one file: every message sent once, by one of them', async () => {
    if (!(await setup())) return;
    const nodes = await Promise.all(['a', 'b', 'c'].map((id) => node(id)));
    const n = 90;
    const batch = path.join(dir, 'batch.csv');
    fs.writeFileSync(
      batch,
      Array.from({ length: n }, (_, i) => `+420700${String(i).padStart(6, '0')},bulk ${i}`).join('\n') + '\n',
    );
    const inj = runSmsd(['inject', '-c', nodes[0]!.config, '--batch', batch]);
    expect(inj.status, inj.stderr + inj.stdout).toBe(0);
    // Queued for any daemon (gammu-smsd-inject pins to its own PhoneID; these are for all three).
    const c = new Database(file());
    c.prepare(`UPDATE outbox SET SenderID = ''`).run();
    c.close();
    const procs = nodes.map((x) => run(x.config));
    await waitFor(
      () => count('SELECT COUNT(*) FROM outbox') === 0,
      60_000,
      `an empty outbox\n${procs.map((p) => p.out()).join('\n')}`,
    );
    const sent = nodes.flatMap((x) => joinSent(x.emulator.modem.sent).map((s) => s.number));
    expect(sent.length).toBe(n);
    expect(new Set(sent).size).toBe(n);
    expect(count('SELECT COUNT(*) FROM sentitems')).toBe(n);
    expect(count('SELECT COUNT(DISTINCT SenderID) FROM sentitems')).toBeGreaterThan(1);
    for (const p of procs) expect(p.out()).not.toMatch(/reconnecting|resetting|SQLITE_BUSY/);
    // smsd monitor sees a daemon on SQLite as any other: its PhoneID and how many it sent.
    const bSent = joinSent(nodes[1]!.emulator.modem.sent).length;
    await waitFor(
      () => {
        const mon = runSmsd(['monitor', '-c', nodes[1]!.config, '-n', '1', '-C']);
        const fields = mon.stdout.trim().split(';');
        return mon.status === 0 && fields[1] === 'b' && Number(fields[4]) === bSent;
      },
      10_000,
      `smsd monitor showing b with ${bSent} sent`,
    );
  }, 90_000);

  it('waits out another writer that holds the lock past the busy timeout: no failure, no modem reset, sent once', async () => {
    if (!(await setup())) return;
    // Gammu's older spelling of the same service: Service = dbi.
    const dbi = (db as TempDb).configLines.replace('service = sql', 'Service = dbi');
    expect(dbi).not.toBe((db as TempDb).configLines);
    const x = await node('lock', 'BackendRetries = 2\n', dbi);
    const inj = runSmsd(['inject', '-c', x.config, 'TEXT', '+420600000099', '-text', 'after the lock']);
    expect(inj.status, inj.stderr).toBe(0);
    // Due in a few seconds: by then the daemon runs and another process holds the write lock.
    const c = new Database(file());
    c.prepare(`UPDATE outbox SET SendingDateTime = datetime('now', '+4 seconds', 'localtime')`).run();
    c.close();
    const d = run(x.config, { SMSGATE_SQLITE_BUSY_MS: '300' });
    await waitFor(() => count('SELECT COUNT(*) FROM phones') === 1, 15_000, `a phones row\n${d.out()}`);
    // Another process (the sqlite3 shell, as a front end would) takes the write lock and keeps it.
    const holder = spawn('sqlite3', [file()], { stdio: ['pipe', 'pipe', 'pipe'] });
    holder.stdin.write('BEGIN IMMEDIATE;\nSELECT 1;\n');
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    try {
      await waitFor(() => /locked by another process/.test(d.out()), 15_000, `a lock message\n${d.out()}`);
      await new Promise((r) => setTimeout(r, 2_000));
      expect(joinSent(x.emulator.modem.sent)).toEqual([]);
      expect(d.proc.exitCode).toBeNull();
    } finally {
      holder.stdin.end('ROLLBACK;\n.quit\n');
    }
    await waitFor(
      () => count('SELECT COUNT(*) FROM outbox') === 0,
      20_000,
      `an empty outbox after the lock\n${d.out()}`,
    );
    expect(joinSent(x.emulator.modem.sent).map((s) => s.text)).toEqual(['after the lock']);
    expect(count(`SELECT COUNT(*) FROM sentitems WHERE Status = 'SendingOK'`)).toBe(1);
    expect(d.out()).not.toMatch(/modem problem|resetting|Error sending/);
  }, 60_000);

  it('a message received while another writer holds the lock stays on the SIM, then is stored once: no modem reset', async () => {
    if (!(await setup())) return;
    const x = await node('rx', 'BackendRetries = 1\n');
    const d = run(x.config, { SMSGATE_SQLITE_BUSY_MS: '200' });
    await waitFor(() => count('SELECT COUNT(*) FROM phones') === 1, 15_000, `a phones row\n${d.out()}`);
    const holder = spawn('sqlite3', [file()], { stdio: ['pipe', 'pipe', 'pipe'] });
    holder.stdin.write('BEGIN IMMEDIATE;\nSELECT 1;\n');
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    try {
      x.emulator.modem.deliver({ from: '+420777000555', text: 'while locked' });
      // The daemon logs the first failure (then a reminder a minute) and retries with back-off
      // (0.5, 1, 2 s ...): after 4 s it has tried several times, and the message is still not in.
      await waitFor(() => /storage problem \(inbox\)/.test(d.out()), 40_000, `a failed save\n${d.out()}`);
      await new Promise((r) => setTimeout(r, 4_000));
      expect(count('SELECT COUNT(*) FROM inbox')).toBe(0);
      expect(x.emulator.modem.status().storage.SM.used + x.emulator.modem.status().storage.ME.used).toBe(1);
    } finally {
      holder.stdin.end('ROLLBACK;\n.quit\n');
    }
    await waitFor(() => count('SELECT COUNT(*) FROM inbox') === 1, 40_000, `the inbox row\n${d.out()}`);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(count(`SELECT COUNT(*) FROM inbox WHERE TextDecoded = 'while locked'`)).toBe(1);
    expect(d.out()).not.toMatch(/modem problem|resetting/);
    expect(d.proc.exitCode).toBeNull();
  }, 120_000);

  it('a sent message whose move fails is neither sent again nor a modem fault; a later pick moves it', async () => {
    if (!(await setup())) return;
    const x = await node('mv');
    // The outbox refuses deletes for a while (as a broken disk would refuse the commit).
    const c = new Database(file());
    c.exec(
      `CREATE TRIGGER smsgate_test_nodelete BEFORE DELETE ON outbox BEGIN SELECT RAISE(FAIL, 'no deletes now'); END`,
    );
    c.close();
    const inj = runSmsd(['inject', '-c', x.config, 'TEXT', '+420600000096', '-text', 'move me']);
    expect(inj.status, inj.stderr).toBe(0);
    const d = run(x.config);
    await waitFor(() => /storage problem \(sent\)/.test(d.out()), 15_000, `the failed move\n${d.out()}`);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(joinSent(x.emulator.modem.sent).map((s) => s.text)).toEqual(['move me']);
    expect(count('SELECT COUNT(*) FROM sentitems')).toBe(1);
    expect(count('SELECT COUNT(*) FROM outbox')).toBe(1);
    // Storage back; the lease ended (as it would after its 60 s): the next pick only moves it.
    const c2 = new Database(file());
    c2.exec(`DROP TRIGGER smsgate_test_nodelete`);
    c2.prepare(`UPDATE outbox SET SendingTimeOut = datetime('now', '-1 seconds', 'localtime')`).run();
    c2.close();
    await waitFor(() => count('SELECT COUNT(*) FROM outbox') === 0, 20_000, `the move\n${d.out()}`);
    expect(joinSent(x.emulator.modem.sent).map((s) => s.text)).toEqual(['move me']);
    expect(count('SELECT COUNT(*) FROM sentitems')).toBe(1);
    expect(d.out()).not.toMatch(/modem problem|resetting/);
  }, 60_000);

  it('a file that vanishes while running is noticed, not written into the void; a new file is used', async () => {
    if (!(await setup())) return;
    const x = await node('gone');
    const d = run(x.config, { SMSGATE_SQLITE_BUSY_MS: '300' });
    await waitFor(() => count('SELECT COUNT(*) FROM phones') === 1, 15_000, `a start\n${d.out()}`);
    const fds = (): number => fs.readdirSync(`/proc/${d.proc.pid}/fd`).length;
    const fdsBefore = fds();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file() + suffix, { force: true });
    await waitFor(() => /vanished|does not exist/.test(d.out()), 20_000, `the loss noticed\n${d.out()}`);
    // Let it try (and fail) to reopen for a while: no descriptor is left behind per attempt.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(fds()).toBeLessThanOrEqual(fdsBefore);
    expect(d.proc.exitCode).toBeNull();
    const init = runSmsd(['db', 'init', '-c', x.config]);
    expect(init.status, init.stderr).toBe(0);
    const inj = runSmsd(['inject', '-c', x.config, 'TEXT', '+420600000098', '-text', 'into the new file']);
    expect(inj.status, inj.stderr).toBe(0);
    await waitFor(() => count('SELECT COUNT(*) FROM sentitems') === 1, 40_000, `sent\n${d.out()}`);
    expect(joinSent(x.emulator.modem.sent).map((s) => s.text)).toEqual(['into the new file']);
    expect(d.out()).not.toMatch(/modem problem|resetting/);
  }, 90_000);

  it('start-up errors are one line and exit 2: read-only file, missing DBDir, missing file, no binding', async () => {
    if (!(await setup())) return;
    const x = await node('ro');
    const oneError = (r: { status: number | null; stdout: string; stderr: string }, re: RegExp) => {
      expect(r.status, r.stdout + r.stderr).toBe(2);
      const errors = (r.stdout + r.stderr).split('\n').filter((l) => /ERROR|Error|error/.test(l));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(re);
      expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m);
    };
    // Missing DBDir.
    const text = fs.readFileSync(x.config, 'utf8');
    const dbDir = (db as TempDb).dir as string;
    fs.writeFileSync(x.config, text.replace(`dbdir = ${dbDir}`, `dbdir = ${dbDir}/nowhere`));
    oneError(runSmsd(['run', '-c', x.config]), /directory .*nowhere does not exist \(DBDir\)/);
    // Missing file.
    fs.writeFileSync(x.config, text.replace('database = smsd.db', 'database = other.db'));
    oneError(
      runSmsd(['run', '-c', x.config]),
      /other\.db: the file does not exist \(create it with: smsd db init/,
    );
    // The binding missing (a machine without a compiler): a resolve hook hides better-sqlite3.
    fs.writeFileSync(x.config, text);
    const hook = path.join(dir, 'hide.mjs');
    fs.writeFileSync(
      hook,
      `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent("export async function resolve(s, c, next) { if (s === 'better-sqlite3') { const e = new Error('Cannot find package better-sqlite3'); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }"));\n`,
    );
    const hidden = spawnSync(process.execPath, ['--import', hook, SMSD_BIN, 'run', '-c', x.config], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    oneError(
      hidden,
      /needs the optional package better-sqlite3, which is not installed; install it with: npm install better-sqlite3@12/,
    );
    // Read-only: a read-only bind mount of DBDir (chmod does not stop root).
    const m = spawnSync('mount', ['--bind', dbDir, dbDir]);
    if (m.status !== 0) {
      console.log(`skipped the read-only case: mount --bind failed (${m.stderr}); needs root`);
      return;
    }
    mounts.push(dbDir);
    expect(spawnSync('mount', ['-o', 'remount,bind,ro', dbDir]).status).toBe(0);
    oneError(runSmsd(['run', '-c', x.config]), /smsd\.db is read-only/);
    const inj = runSmsd(['inject', '-c', x.config, 'TEXT', '+420600000097', '-text', 'x']);
    expect(inj.status).not.toBe(0);
    expect(inj.stderr).toMatch(/is read-only/);
  }, 90_000);

  it('opens every connection in WAL with synchronous = FULL: a commit is on disk when acknowledged', async () => {
    if (!(await setup())) return;
    const conn = new SqlConnection((db as TempDb).options);
    try {
      expect((await conn.query('PRAGMA journal_mode')).rows).toEqual([['wal']]);
      expect((await conn.query('PRAGMA synchronous')).rows).toEqual([[2]]);
    } finally {
      await conn.close();
    }
  });

  it('a full disk stops smsd inject --batch with one line, and what it reported queued is what is stored', async () => {
    if (!(await setup())) return;
    const full = path.join(dir, 'full');
    fs.mkdirSync(full);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', full]);
    if (m.status !== 0) {
      console.log(`skipped: mounting a small tmpfs failed (${m.stderr}); needs root`);
      return;
    }
    mounts.push(full);
    const config = path.join(dir, 'smsdrc-full');
    fs.writeFileSync(
      config,
      `[gammu]\ndevice = /dev/null\n\n[smsd]\nService = sql\nDriver = sqlite3\nDBDir = ${full}\nDatabase = s.db\nBackendRetries = 1\n`,
    );
    expect(runSmsd(['db', 'init', '-c', config]).status).toBe(0);
    const batch = path.join(dir, 'big.csv');
    fs.writeFileSync(
      batch,
      Array.from({ length: 20_000 }, (_, i) => `+4207${String(i).padStart(8, '0')},message number ${i}`).join(
        '\n',
      ),
    );
    const r = runSmsd(['inject', '-c', config, '--batch', batch]);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Failed to inject message: SQLite database .*s\.db: database or disk is full$/),
    ]);
    const queued = Number(/^Queued (\d+) messages/m.exec(r.stdout)?.[1]);
    expect(queued).toBeGreaterThan(0);
    const c = new Database(path.join(full, 's.db'), { readonly: true });
    try {
      expect(Number(c.prepare('SELECT COUNT(*) FROM outbox').pluck().get())).toBe(queued);
      // The durability the acknowledgement stands on.
      expect(c.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      c.close();
    }
  }, 60_000);

  it("Gammu's own gammu-smsd sends what smsd inject queued in a file smsd db init created (schema 17)", async () => {
    if (spawnSync('gammu-smsd', ['-v']).error && !process.env.CI) return;
    if (!(await setup(17))) return;
    const x = await node('gammu');
    const one = runSmsd(['inject', '-c', x.config, 'TEXT', '+420600000001', '-text', 'single from smsgate']);
    expect(one.status, one.stderr).toBe(0);
    const batch = path.join(dir, 'b.csv');
    fs.writeFileSync(batch, `+420600000002,${'long from smsgate '.repeat(12)}\n+420600000003,Zoë Привет\n`);
    const many = runSmsd(['inject', '-c', x.config, '--batch', batch]);
    expect(many.status, many.stderr + many.stdout).toBe(0);
    const g = spawn('gammu-smsd', ['-c', x.config], { stdio: 'ignore' });
    daemons.push(g);
    await waitFor(() => count('SELECT COUNT(*) FROM outbox') === 0, 30_000, "gammu-smsd's sending");
    const sent = joinSent(x.emulator.modem.sent);
    expect(sent.find((s) => s.number === '+420600000001')?.text).toBe('single from smsgate');
    expect(sent.find((s) => s.number === '+420600000002')?.text).toBe('long from smsgate '.repeat(12));
    expect(sent.find((s) => s.number === '+420600000003')?.text).toBe('Zoë Привет');
    expect(
      count(`SELECT COUNT(*) FROM sentitems WHERE CreatorID LIKE 'smsgate %' AND SenderID = 'gammu'`),
    ).toBe(4);
    // And gammu-smsd-monitor reads the phones row Gammu keeps in our file.
    const mon = spawnSync('gammu-smsd-monitor', ['-c', x.config, '-n', '1', '-d', '0', '-C'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(mon.status, mon.stderr).toBe(0);
    expect(mon.stdout).toMatch(/;gammu;/);
  }, 60_000);
});

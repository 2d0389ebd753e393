import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { makeSpool, ROOT } from '../helpers/spool.js';
import { createTempDb, serverAvailable, type TempDb } from '../sql/db.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';
import { initKsmppdSchema } from '../../src/lib/smpp/sql/schema.js';
import { hashPassword } from '../../src/lib/smpp/policy/accounts.js';
import { esmeAdd, esmeCredit, esmeList, esmeSet } from '../../src/lib/smpp/admin/esme-cli.js';
import { joinSent } from '../../src/lib/emulator/records.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import { bind, bindCollecting, call, smppdConfig, startTestSmppd, type TestSmppd } from './harness.js';
import { makeReadOnly, mountProblem } from '../helpers/mounts.js';

// smppd serve on SQLite, one node: Gammu's tables (Service = sql, Driver = sqlite3) and KSMPPD's
// accounts, routes and credit in the same file, the real `smsd run` on the emulator sending from it.
// Then what SQLite does differently: a second node on the file, another process holding the write
// lock, a file that cannot be written.

let rig: Rig | undefined;
let db: TempDb | undefined;
const nodes: TestSmppd[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const n of nodes.splice(0)) await n.stop().catch(() => undefined);
  await rig?.close();
  rig = undefined;
  await db?.drop();
  db = undefined;
});

const gsm = (t: string) => Buffer.from(encodeGsm7(t));
const text = (p: PDU): string => {
  const m = p.short_message as { message?: unknown } | undefined;
  return typeof m?.message === 'string' ? m.message : '';
};

/** One SQLite file with Gammu's tables, KSMPPD's, an account `shop` (prepaid with `credit` > 0) and a rig on it. */
async function sqliteStack(credit = 2): Promise<{ db: TempDb; rig: Rig; file: string; keys: string }> {
  db = await createTempDb('sqlite', 18);
  const file = path.join(db.dir ?? '', db.name);
  const c = new SqlConnection(db.options);
  try {
    await initKsmppdSchema(c, { user: 'smpp_user', route: 'smpp_route', version: 'smpp_version' });
    await c.query(
      `INSERT INTO smpp_user (system_id, password, default_smsc, default_cost, enable_prepaid_billing, credit) VALUES ('shop', ?, '*', 1, ?, ?)`,
      [await hashPassword('pw123', { N: 1024, r: 8, p: 1 }), credit > 0 ? 1 : 0, credit],
    );
  } finally {
    await c.close();
  }
  rig = await startRig({
    config: `${FAST_TIMERS}DeliveryReport = log\nPhoneID = run1\n`,
    startDaemon: false,
  });
  fs.writeFileSync(
    rig.spool.config,
    fs.readFileSync(rig.spool.config, 'utf8').replace('service = files\n', db.configLines),
  );
  const keys = `AccountsSource = sql\nRoutesSource = sql\nSqlDriver = sqlite3\nSqlDatabase = ${file}\nBlockAttempts = 0\n`;
  return { db, rig, file, keys };
}

async function count(table: string): Promise<number> {
  const c = new SqlConnection((db as TempDb).options);
  try {
    return Number((await c.query(`SELECT COUNT(*) FROM ${table}`)).rows[0]?.[0]);
  } finally {
    await c.close();
  }
}

const quiet = { out: () => undefined, err: (l: string) => expect.fail(l) };

describe('smppd serve on SQLite (one node)', () => {
  it('binds a KSMPPD account from the file, charges its credit, queues in the outbox; smsd run sends; receipts and MO reach the ESME; esme and routes rebuild work on the file', async () => {
    if (!(await serverAvailable('sqlite'))) return;
    const s = await sqliteStack(2);
    const t = await startTestSmppd([], s.keys, s.rig.spool);
    nodes.push(t);
    const out = () => `--- smppd ---\n${t.logs.join('\n')}\n--- smsd run ---\n${s.rig.output()}`;
    expect(t.logs.join('\n')).toMatch(/SQL outbox SQLite database .*smsd\.db, schema 18/);
    expect((await bind(t.port, 'shop', 'wrong')).resp.command_status).toBe(0x0e);
    const { session, got } = await bindCollecting(t.port, 'shop', 'pw123');
    const submit = (to: string, body: string) =>
      call(session, 'submit_sm', { destination_addr: to, short_message: gsm(body), registered_delivery: 1 });
    const r1 = await submit('+420111000001', 'first');
    const r2 = await submit('+420111000002', 'second');
    expect([r1.command_status, r2.command_status]).toEqual([0, 0]);
    // Two credits, two messages: the third is refused, and not stored.
    expect((await submit('+420111000003', 'third')).command_status).toBe(0x45);
    expect(await count('outbox')).toBe(2);
    expect(await count('smppd_message')).toBe(2);
    const o: string[] = [];
    const collect = { out: (l: string) => o.push(l), err: (l: string) => o.push(`ERR ${l}`) };
    expect(await esmeCredit(collect, t.configFile, 'shop', undefined)).toBe(0);
    expect(o.pop()).toBe('credit of shop: 0');

    s.rig.startDaemon();
    await waitFor(() => joinSent(s.rig.emulator.modem.sent).length === 2, 15_000, `sends\n${out()}`);
    const receipts = await waitFor(
      () => (got.filter((p) => p.esm_class === 4).length === 2 ? got : undefined),
      15_000,
      `receipts\n${out()}`,
    );
    for (const r of [r1, r2]) {
      const rc = receipts.find((p) => p.receipted_message_id === r.message_id);
      expect(text(rc as PDU)).toMatch(/ stat:DELIVRD err:000 /);
    }
    expect((await call(session, 'query_sm', { message_id: r1.message_id })).message_state).toBe(2);

    // MO needs an inbound route (direction 2): written into the file, taken at routes rebuild.
    const c = new SqlConnection(s.db.options);
    try {
      await c.query(`INSERT INTO smpp_route (direction, regex, system_id) VALUES (2, '.*', 'shop')`);
    } finally {
      await c.close();
    }
    await expect(t.smppd.reload()).resolves.toMatch(
      /Routes updated: 1 routes from table smpp_route, 1 accounts/,
    );
    s.rig.emulator.modem.deliver({ from: '+420777888999', text: 'reply from a handset' });
    const mo = await waitFor(
      () => got.find((p) => p.esm_class !== 4 && p.esm_class !== 0x20),
      15_000,
      `MO\n${out()}`,
    );
    expect([mo.source_addr, text(mo)]).toEqual(['420777888999', 'reply from a handset']);

    // esme commands on the file: top-up, a new account, a disabled one, the list.
    expect(await esmeCredit(quiet, t.configFile, 'shop', 1)).toBe(0);
    expect(await esmeAdd(quiet, t.configFile, 'fresh', { password: 'fr3sh', defaultRoute: 'spool' })).toBe(0);
    expect(await esmeSet(quiet, t.configFile, 'shop', { maxBinds: 5 })).toBe(0);
    o.length = 0;
    expect(await esmeList(collect, t.configFile)).toBe(0);
    expect(o.join('\n')).toMatch(/fresh/);
    await t.smppd.reload();
    const f = await bind(t.port, 'fresh', 'fr3sh');
    expect(f.resp.command_status).toBe(0);
    expect((await submit('+420111000004', 'after top-up')).command_status).toBe(0);
    expect((await submit('+420111000005', 'no more credit')).command_status).toBe(0x45);
    f.session.close();
    session.close();
  }, 60_000);

  it('refuses a second smppd serve on the same file with one line, and lets one start once the first is killed (kill -9)', async () => {
    if (!(await serverAvailable('sqlite'))) return;
    const s = await sqliteStack();
    const smppdBin = path.join(ROOT, 'bin', 'smppd.js');
    const a = await smppdConfig([], s.keys, s.rig.spool);
    const first = spawn(process.execPath, [smppdBin, 'serve', '-c', a.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(first);
    let firstOut = '';
    first.stdout.on('data', (b: Buffer) => (firstOut += b.toString()));
    await waitFor(() => /listening on 127\.0\.0\.1:\d+/.test(firstOut), 15_000, 'the first node');
    const other = makeSpool();
    try {
      fs.writeFileSync(
        other.config,
        fs.readFileSync(other.config, 'utf8').replace('service = files\n', s.db.configLines),
      );
      const b = await smppdConfig([], s.keys, other);
      const second = spawnSync(process.execPath, [smppdBin, 'serve', '-c', b.configFile], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(second.status).not.toBe(0);
      const lines = `${second.stdout}${second.stderr}`.split('\n').filter((l) => /cannot start/.test(l));
      expect(lines, `${second.stdout}${second.stderr}`).toHaveLength(1);
      expect(lines[0]).toMatch(
        /another smppd serve already uses the SQLite database .*smsd\.db \(it holds .*smsd\.db-smppd\.lock\); SQLite serves one smppd node/,
      );
      // The first never noticed.
      expect(first.exitCode).toBe(null);
      first.kill('SIGKILL');
      await new Promise<void>((resolve) => first.once('exit', () => resolve()));
      // The kernel let go of its lock: no stale lock to clean up by hand.
      const next = await startTestSmppd([], '', other);
      nodes.push(next);
      expect(next.logs.join('\n')).toMatch(/SQL outbox SQLite database/);
    } finally {
      other.cleanup();
    }
  });

  it('answers ESME_RSYSERR after a bounded wait when another process holds the write lock, stores nothing of it, and works again once it is let go', async () => {
    if (!(await serverAvailable('sqlite'))) return;
    const s = await sqliteStack(0);
    const t = await startTestSmppd([], s.keys, s.rig.spool);
    nodes.push(t);
    const { session } = await bindCollecting(t.port, 'shop', 'pw123');
    const submit = (body: string) =>
      call(session, 'submit_sm', { destination_addr: '+420111000009', short_message: gsm(body) }, 30_000);
    expect((await submit('before')).command_status).toBe(0);
    // The sqlite3 shell takes the write lock and keeps it until its stdin closes.
    const shell = spawn('sqlite3', [s.file], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(shell);
    let shellOut = '';
    shell.stdout.on('data', (b: Buffer) => (shellOut += b.toString()));
    shell.stdin.write(
      "BEGIN IMMEDIATE;\nINSERT INTO smppd_state (name, value) VALUES ('lock', 1);\nSELECT 'locked';\n",
    );
    await waitFor(() => shellOut.includes('locked'), 10_000, 'the shell holding the lock');
    const started = Date.now();
    const r = await submit('while locked');
    const waited = Date.now() - started;
    expect(r.command_status).toBe(0x08);
    // Bounded: the 5 s of smppd on SQLite, not 30 s × BackendRetries.
    expect(waited).toBeGreaterThanOrEqual(4_500);
    expect(waited).toBeLessThan(15_000);
    expect(t.logs.join('\n')).toMatch(/locked by another process/);
    shell.stdin.end('ROLLBACK;\n');
    await new Promise<void>((resolve) => shell.once('exit', () => resolve()));
    expect(await count('outbox')).toBe(1);
    expect((await submit('after')).command_status).toBe(0);
    expect(await count('outbox')).toBe(2);
    session.close();
  }, 60_000);

  it('refuses to start on a database it cannot write, with one line naming the file', async () => {
    if (!(await serverAvailable('sqlite'))) return;
    const s = await sqliteStack();
    const dir = path.dirname(s.file);
    // chmod does not stop root: a read-only bind mount of the folder does (EROFS).
    const root = mountProblem() === undefined;
    let undo = (): void => undefined;
    if (root) undo = makeReadOnly(dir);
    else {
      fs.chmodSync(s.file, 0o444);
      fs.chmodSync(dir, 0o555);
    }
    try {
      const message = await startTestSmppd([], s.keys, s.rig.spool).then(
        (n) => {
          nodes.push(n);
          return 'started';
        },
        (err: Error) => err.message,
      );
      expect(message).toMatch(/SQLite database .*smsd\.db is read-only \(SQLITE_(READONLY|CANTOPEN)/);
      expect(message).not.toContain('\n');
    } finally {
      undo();
      if (!root) {
        fs.chmodSync(dir, 0o755);
        fs.chmodSync(s.file, 0o644);
      }
    }
  });

  it('refuses submits with ESME_RSYSERR when the file it writes turns read-only under it (replaced, folder read-only), and stores nothing', async () => {
    if (!(await serverAvailable('sqlite'))) return;
    const why = mountProblem();
    if (why) {
      console.log(`skipped: ${why}`);
      return;
    }
    const s = await sqliteStack(0);
    const t = await startTestSmppd([], s.keys, s.rig.spool);
    const { session } = await bindCollecting(t.port, 'shop', 'pw123');
    const submit = (body: string) =>
      call(session, 'submit_sm', { destination_addr: '+420111000010', short_message: gsm(body) }, 30_000);
    expect((await submit('before')).command_status).toBe(0);
    // A restore puts another file in place and the folder is remounted read-only: every write
    // smppd tries from now on must fail, and the ESME must hear so.
    const c = new SqlConnection(s.db.options);
    await c.query('PRAGMA wal_checkpoint(TRUNCATE)');
    await c.close();
    fs.copyFileSync(s.file, `${s.file}.new`);
    fs.renameSync(`${s.file}.new`, s.file);
    const undo = makeReadOnly(path.dirname(s.file));
    try {
      for (const body of ['during 1', 'during 2']) {
        const r = await submit(body);
        expect(r.command_status).toBe(0x08);
      }
      const log = t.logs.join('\n');
      expect(log).toMatch(
        /refused \(0x08\): SQL outbox in .*smsd\.db: .*smsd\.db was replaced by another file while open/,
      );
      expect(log).toMatch(/refused \(0x08\): SQL outbox in .*smsd\.db: .*(readonly database|is read-only)/);
    } finally {
      session.close();
      // The connections it reopened hold files on the read-only mount: stopped first, then unmounted.
      await t.stop();
      undo();
    }
    expect(await count('outbox')).toBe(1);
  }, 60_000);
});

import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { SMSD_BIN, makeSpool, runSmsd, type TempSpool } from '../helpers/spool.js';
import { haveBearerbox, startKannelRig, until, type KannelRig } from './kannel-rig.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';
import { createTempDb, serverAvailable, type TempDb } from '../sql/db.js';

// `smsd run` with Connection = kannel (real processes from dist/bin) against Kannel 1.4.5's real
// bearerbox bound to the Perl Net::SMPP test SMSC: the spool contract end to end.
if (!haveBearerbox)
  console.log('SKIP smsd run kannel tests: /usr/sbin/bearerbox is not installed (apt-get install kannel)');

interface Run {
  config: string;
  spool: TempSpool;
  child: ChildProcess;
  reports: string;
  statusFile: string;
  output(): string;
  stop(): Promise<number | null>;
}

const rigs: KannelRig[] = [];
const runs: Run[] = [];
const dbs: TempDb[] = [];

afterAll(async () => {
  for (const d of dbs) await d.drop().catch(() => undefined);
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  for (const rig of rigs) await rig.stop();
  for (const r of runs) r.spool.cleanup();
});

async function rig(opts: { boxId?: string } = {}): Promise<KannelRig> {
  const r = await startKannelRig(opts);
  rigs.push(r);
  return r;
}

/** A files spool whose smsdrc makes `smsd run` a box on `rig`'s bearerbox. */
function kannelSpool(k: KannelRig, phoneId = 'kb1', smsd = '', kannel = ''): TempSpool {
  const spool = makeSpool();
  const base = fs.readFileSync(spool.config, 'utf8');
  const paths = base.slice(base.indexOf('[smsd]') + '[smsd]\n'.length).trim();
  fs.writeFileSync(
    spool.config,
    `[gammu]\nConnection = kannel\nDevice = 127.0.0.1:${k.boxPort}\n\n[smsd]\n${paths}\nPhoneID = ${phoneId}\nCommTimeout = 1\nDeliveryReport = log\n${smsd}\n[kannel]\nBoxId = ${k.boxId}\nReconnectDelay = 0.2\nReconnectDelayMax = 1\n${kannel}\n`,
  );
  return spool;
}

function startRun(spool: TempSpool, phoneId = 'kb1', config = spool.config): Run {
  const child = spawn(process.execPath, [SMSD_BIN, 'run', '-c', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const r: Run = {
    config,
    spool,
    child,
    reports: path.join(spool.dir, 'reports'),
    statusFile: path.join(spool.dir, 'status', `${phoneId}.json`),
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      await new Promise((res) => child.once('exit', res));
      return child.exitCode;
    },
  };
  runs.push(r);
  return r;
}

function inject(config: string, ...args: string[]): string {
  const r = runSmsd(['inject', '-c', config, 'TEXT', ...args]);
  expect(r.status, r.stderr + r.stdout).toBe(0);
  const m = /Written message with ID (\S+)/.exec(r.stdout + r.stderr);
  expect(m, r.stdout + r.stderr).not.toBeNull();
  return path.basename((m as RegExpExecArray)[1] as string);
}

const outFiles = (dir: string): string[] =>
  fs.readdirSync(dir).filter((f) => f.startsWith('OUT') && !f.endsWith('.reason'));

/** The SMSC's "submit <dest> <id> <dc> <hex> <udh> <validity> <source>" lines for a destination. */
const submits = (k: KannelRig, dest: string): string[][] =>
  k.smscLines.filter((l) => l.startsWith(`submit ${dest.replace(/^\+/, '')} `)).map((l) => l.split(' '));

interface ReportFile {
  id: string;
  part: number;
  parts: number;
  number: string;
  category: string;
  description: string;
  history: { category: string }[];
}

const reportsOf = (run: Run, id: string): ReportFile[] =>
  fs
    .readdirSync(run.reports)
    .filter((f) => f.startsWith(`${id}.`) && f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(run.reports, f), 'utf8')) as ReportFile);

describe.skipIf(!haveBearerbox)('smsd run with Connection = kannel against the real bearerbox', () => {
  it('MT: GSM text, a concatenated long message and UCS-2 reach the SMSC; sent/ after the ack; DELIVRD receipts become report files; "failed" ends in error/', async () => {
    const k = await rig();
    const spool = kannelSpool(k, 'kb1', 'MaxRetries = 0\n');
    const run = startRun(spool);
    const gsm = inject(spool.config, '+420600200001', '-text', 'Hello {world} €5');
    const long = inject(
      spool.config,
      '+420600200002',
      '-text',
      'x'.repeat(150) + 'y'.repeat(150),
      '-autolen',
      '300',
    );
    const ucs = inject(spool.config, '+420600200003', '-unicode', '-text', 'Příliš žluťoučký 😀');
    const refused = inject(spool.config, '+42099100700', '-text', 'no route');
    await until(`three in sent/\n${run.output()}`, () => outFiles(spool.sent).length >= 3, 30_000);
    await until(`one in error/\n${run.output()}`, () => outFiles(spool.error).length >= 1, 10_000);
    expect(outFiles(spool.outbox)).toEqual([]);
    // bearerbox acks once the message is in its store; the SMSC gets it right after.
    await until(
      'four submits at the SMSC',
      () => k.smscLines.filter((l) => l.startsWith('submit ')).length >= 4,
    );

    // GSM text: UTF-8 on the box link, GSM 03.38 on the SMPP side (bearerbox converts).
    const g = submits(k, '+420600200001');
    expect(g).toHaveLength(1);
    expect(g[0]?.[3]).toBe('0');
    expect(Buffer.from(g[0]?.[4] as string, 'hex').toString('latin1')).toBe('Hello \x1b(world\x1b) \x1be5');
    // Long: two parts with one concatenation UDH (same reference, 2 parts, 1 then 2).
    const l = submits(k, '+420600200002');
    expect(l).toHaveLength(2);
    const udhs = l.map((s) => s[5] as string).sort();
    expect(udhs[0]).toMatch(/^050003([0-9a-f]{2})0201$/);
    expect(udhs[1]).toBe(`${(udhs[0] as string).slice(0, 8)}0202`);
    const bodies = l
      .sort((a, b) => (a[5] as string).localeCompare(b[5] as string))
      .map((s) => Buffer.from(s[4] as string, 'hex').toString('latin1'));
    expect(bodies.join('')).toBe('x'.repeat(150) + 'y'.repeat(150));
    // UCS-2: data_coding 8, UTF-16BE.
    const u = submits(k, '+420600200003');
    expect(u).toHaveLength(1);
    expect(u[0]?.[3]).toBe('8');
    expect(u[0]?.[4]).toBe(Buffer.from('Příliš žluťoučký 😀', 'utf16le').swap16().toString('hex'));
    // bearerbox refused the +42099 prefix: error/ with the reason, never at the SMSC.
    expect(submits(k, '+42099100700')).toEqual([]);
    const bad = outFiles(spool.error)[0] as string;
    expect(bad).toContain(refused);
    expect(fs.readFileSync(path.join(spool.error, `${bad}.reason`), 'utf8')).toMatch(/bearerbox refused it/);
    expect(outFiles(spool.sent).sort()).toEqual(
      [gsm, long, ucs].map((id) => expect.stringContaining(id) as unknown as string).sort(),
    );

    // Receipts: bearerbox's SMSC-accepted DLR then the SMSC's DELIVRD, into reports/<id>.<part>.json.
    const want: [string, number][] = [
      [gsm, 1],
      [long, 2],
      [ucs, 1],
    ];
    await until(
      `delivered reports\n${run.output()}`,
      () =>
        want.every(([id, parts]) => {
          const r = reportsOf(run, id);
          return r.length === parts && r.every((x) => x.category === 'delivered');
        }),
      20_000,
    );
    const lr = reportsOf(run, long);
    expect(lr.map((r) => [r.part, r.parts, r.number])).toEqual([
      [1, 2, '+420600200002'],
      [2, 2, '+420600200002'],
    ]);
    expect(lr[0]?.history.map((h) => h.category)).toEqual(['pending']);
    expect(fs.readdirSync(path.join(run.reports, 'unmatched'))).toEqual([]);

    // No ack, no sent/: bearerbox frozen, the message stays claimed until it answers.
    k.pauseBearerbox(true);
    const held = inject(spool.config, '+420600200004', '-text', 'wait for the ack');
    await new Promise((r) => setTimeout(r, 1500));
    expect(outFiles(spool.sent).some((f) => f.includes(held))).toBe(false);
    expect(outFiles(spool.error).some((f) => f.includes(held))).toBe(false);
    k.pauseBearerbox(false);
    await until(`sent after the ack\n${run.output()}`, () =>
      outFiles(spool.sent).some((f) => f.includes(held)),
    );
    expect(await run.stop()).toBe(0);
  }, 90_000);

  it('MO: stored in inbox/ under a Gammu name, acked to bearerbox only once stored (a daemon killed before storing gets it again)', async () => {
    const k = await rig();
    const spool = kannelSpool(k, 'kb1');
    let run = startRun(spool);
    await until(`bound\n${run.output()}`, () => /connected as box/.test(run.output()), 15_000);
    k.smscCommand(`mo +420600300001 ${k.boxId} 0 ${Buffer.from('Hello from a handset').toString('hex')}`);
    k.smscCommand(
      `mo +420600300002 12345 8 ${Buffer.from('Ahoj čau 😀', 'utf16le').swap16().toString('hex')}`,
    );
    const inbox = (): string[] =>
      fs
        .readdirSync(spool.inbox)
        .filter((f) => f.startsWith('IN'))
        .sort();
    await until(`two MO in inbox/\n${run.output()}`, () => inbox().length >= 2, 15_000);
    const names = inbox();
    expect(names[0]).toMatch(/^IN\d{8}_\d{6}_00_\+420600300001_00\.txt$/);
    expect(names[1]).toMatch(/^IN\d{8}_\d{6}_00_\+420600300002_00\.txt$/);
    expect(fs.readFileSync(path.join(spool.inbox, names[0] as string), 'utf8')).toBe('Hello from a handset');
    expect(fs.readFileSync(path.join(spool.inbox, names[1] as string), 'utf8')).toBe('Ahoj čau 😀');

    // The inbox cannot take it: no ack; kill -9 the daemon; bearerbox keeps the MO for the next box.
    fs.renameSync(spool.inbox, `${spool.inbox}.away`);
    k.smscCommand(`mo +420600300003 ${k.boxId} 0 ${Buffer.from('kept by bearerbox').toString('hex')}`);
    await until(`the failed store\n${run.output()}`, () => /storing mo .* failed/.test(run.output()), 15_000);
    run.child.kill('SIGKILL');
    await new Promise((r) => run.child.once('exit', r));
    fs.renameSync(`${spool.inbox}.away`, spool.inbox);
    run = startRun(spool);
    await until(`the MO again\n${run.output()}`, () => inbox().length >= 3, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const third = inbox().filter((f) => f.includes('+420600300003'));
    expect(third).toHaveLength(1);
    expect(fs.readFileSync(path.join(spool.inbox, third[0] as string), 'utf8')).toBe('kept by bearerbox');
    expect(await run.stop()).toBe(0);
  }, 90_000);

  it('loses nothing when bearerbox is killed (-9) mid-batch and restarted with its store', async () => {
    const k = await rig();
    const spool = kannelSpool(k, 'kb1');
    const total = 400;
    const dests = Array.from({ length: total }, (_, i) => `+4207${String(i).padStart(8, '0')}`);
    const batch = path.join(spool.dir, 'batch.csv');
    fs.writeFileSync(batch, dests.map((d, i) => `${d},batch ${i}`).join('\n') + '\n');
    const inj = runSmsd(['inject', '-c', spool.config, '--batch', batch]);
    expect(inj.status, inj.stderr + inj.stdout).toBe(0);
    k.smscCommand('receipts off');
    const run = startRun(spool);
    await until(`some sent\n${run.output()}`, () => outFiles(spool.sent).length >= 30, 30_000, 1);
    // Frozen first, so the window is full of MT bearerbox may or may not have taken when it dies.
    k.pauseBearerbox(true);
    await new Promise((r) => setTimeout(r, 300));
    await k.killBearerbox('SIGKILL');
    const atKill = outFiles(spool.sent).length;
    await new Promise((r) => setTimeout(r, 500));
    await k.startBearerbox();
    await until(`all in sent/\n${run.output()}`, () => outFiles(spool.sent).length === total, 60_000, 100);
    expect(outFiles(spool.outbox)).toEqual([]);
    expect(outFiles(spool.error)).toEqual([]);
    const seen = await until(
      'every destination at the SMSC',
      () => {
        const got = new Map<string, number>();
        for (const l of k.smscLines.filter((x) => x.startsWith('submit 4207'))) {
          const d = l.split(' ')[1] as string;
          got.set(d, (got.get(d) ?? 0) + 1);
        }
        return dests.every((d) => got.has(d.slice(1))) ? got : undefined;
      },
      60_000,
      200,
    );
    const dups = [...seen.values()].reduce((a, n) => a + n - 1, 0);
    expect(await run.stop()).toBe(0);
    const status = JSON.parse(fs.readFileSync(run.statusFile, 'utf8')) as {
      sent: number;
      outlet: { resentUnanswered: number; submitted: number };
    };
    const unanswered = status.outlet.resentUnanswered;
    console.log(
      `kill -9 mid-batch: ${total} messages, ${atKill} in sent/ at the kill, ${unanswered} unanswered at the kill (resent), ${status.outlet.submitted} MT written to bearerbox, ${dups} duplicates at the SMSC`,
    );
    // The daemon logged and counted the parts it had to offer again ...
    const logged = /link lost with (\d+) MT unanswered/.exec(run.output());
    expect(logged, run.output()).not.toBeNull();
    expect(Number((logged as RegExpExecArray)[1])).toBe(unanswered);
    // ... and wrote every other part to bearerbox exactly once. The rest of the SMSC's duplicates
    // are bearerbox's own: its store replays what it had sent but not yet marked done on disk.
    expect(status.outlet.submitted).toBe(total + unanswered);
    expect(status.sent).toBe(total);
    expect(unanswered).toBeGreaterThan(0);
  }, 120_000);

  it('two smsd run daemons on one outbox, one BoxId: each message sent once, every receipt matched whichever daemon it reaches', async () => {
    const k = await rig();
    const a = kannelSpool(k, 'kbA');
    const configB = path.join(a.dir, 'smsdrc-b');
    fs.writeFileSync(configB, fs.readFileSync(a.config, 'utf8').replace('PhoneID = kbA', 'PhoneID = kbB'));
    const total = 60;
    const dests = Array.from({ length: total }, (_, i) => `+4206${String(i).padStart(8, '0')}`);
    const batch = path.join(a.dir, 'batch.csv');
    fs.writeFileSync(batch, dests.map((d, i) => `${d},two ${i}`).join('\n') + '\n');
    const ra = startRun(a, 'kbA');
    const rb = startRun(a, 'kbB', configB);
    await until(`both bound\n${ra.output()}\n${rb.output()}`, () =>
      [ra, rb].every((r) => /connected as box/.test(r.output())),
    );
    const inj = runSmsd(['inject', '-c', a.config, '--batch', batch]);
    expect(inj.status, inj.stderr + inj.stdout).toBe(0);
    await until(
      `all in sent/\n${ra.output()}\n${rb.output()}`,
      () => outFiles(a.sent).length === total,
      30_000,
    );
    await until(
      'every destination at the SMSC',
      () => k.smscLines.filter((l) => l.startsWith('submit 4206')).length >= total,
      15_000,
    );
    let state = '';
    await until(
      `every part's report delivered`,
      () => {
        const files = fs.readdirSync(ra.reports).filter((f) => f.endsWith('.json'));
        // The test SMSC answers UNDELIV for numbers ending in 9.
        const bad = files.filter((f) => {
          const r = JSON.parse(fs.readFileSync(path.join(ra.reports, f), 'utf8')) as ReportFile;
          return r.category !== (r.number.endsWith('9') ? 'failed' : 'delivered');
        });
        state = `${files.length} of ${total} report files; not final as expected: ${bad.join(' ')}`;
        return files.length >= total && bad.length === 0;
      },
      30_000,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${state}\n${ra.output()}\n${rb.output()}`);
    });
    const lines = k.smscLines.filter((l) => l.startsWith('submit 4206')).map((l) => l.split(' ')[1]);
    expect(new Set(lines).size).toBe(total);
    expect(lines).toHaveLength(total);
    expect(fs.readdirSync(path.join(ra.reports, 'unmatched'))).toEqual([]);
    expect(await ra.stop()).toBe(0);
    expect(await rb.stop()).toBe(0);
    const sentBy = (r: Run) => (JSON.parse(fs.readFileSync(r.statusFile, 'utf8')) as { sent: number }).sent;
    expect(sentBy(ra) + sentBy(rb)).toBe(total);
    const crossed = (ra.output() + rb.output()).match(/\(sent by kb[AB]\)/g)?.length ?? 0;
    console.log(
      `two daemons: A sent ${sentBy(ra)}, B sent ${sentBy(rb)}; ${crossed} receipts reached the other daemon`,
    );
    expect(crossed).toBeGreaterThan(0);
    // Nothing left over by the shutdown either: DLRs that came while closing went to the other box.
    expect(fs.readdirSync(path.join(ra.reports, 'unmatched')), `${ra.output()}\n${rb.output()}`).toEqual([]);
  }, 90_000);

  it('with the SQL service (MariaDB): sends from the outbox table, sentitems per part, DeliveryOK from the receipts, MO into inbox', async () => {
    if (!(await serverAvailable('mysql'))) return;
    const k = await rig();
    const db = await createTempDb('mysql', 17);
    dbs.push(db);
    const spool = makeSpool();
    const config = path.join(spool.dir, 'smsdrc-sql');
    fs.writeFileSync(
      config,
      `[gammu]\nConnection = kannel\nDevice = 127.0.0.1:${k.boxPort}\n\n[smsd]\n${db.configLines}StatePath = ${spool.dir}/\nPhoneID = kbsql\nCommTimeout = 1\nDeliveryReport = log\n\n[kannel]\nBoxId = ${k.boxId}\nReconnectDelay = 0.2\n`,
    );
    inject(config, '+420600400001', '-text', 'sql one');
    inject(config, '+420600400002', '-text', 'a'.repeat(200), '-autolen', '200');
    const run = startRun(spool, 'kbsql', config);
    const c = new SqlConnection(db.options);
    await c.connect();
    try {
      const rows = async () =>
        (
          await c.query(
            'SELECT DestinationNumber, SequencePosition, Status, SenderID FROM sentitems ORDER BY DestinationNumber, SequencePosition',
          )
        ).rows;
      await until(
        `three parts DeliveryOK\n${run.output()}`,
        async () => (await rows()).filter((r) => r[2] === 'DeliveryOK').length === 3,
        30_000,
        200,
      );
      expect(await rows()).toEqual([
        ['+420600400001', 1, 'DeliveryOK', 'kbsql'],
        ['+420600400002', 1, 'DeliveryOK', 'kbsql'],
        ['+420600400002', 2, 'DeliveryOK', 'kbsql'],
      ]);
      expect((await c.query('SELECT COUNT(*) FROM outbox')).rows[0]?.[0]).toBe(0);
      expect(submits(k, '+420600400001')).toHaveLength(1);
      expect(submits(k, '+420600400002')).toHaveLength(2);
      // The part's report file too, as with the files service.
      expect(fs.readdirSync(run.reports).filter((f) => f.endsWith('.json'))).toHaveLength(3);
      k.smscCommand(`mo +420600400003 ${k.boxId} 0 ${Buffer.from('Ahoj SQL').toString('hex')}`);
      await until(
        'MO in the inbox table',
        async () => (await c.query('SELECT TextDecoded FROM inbox')).rows[0],
        15_000,
        200,
      );
      expect((await c.query('SELECT TextDecoded, SenderNumber, RecipientID FROM inbox')).rows).toEqual([
        ['Ahoj SQL', '+420600400003', 'kbsql'],
      ]);
    } finally {
      await c.close();
    }
    expect(await run.stop()).toBe(0);
  }, 90_000);
});

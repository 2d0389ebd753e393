import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, SMSD_BIN, listFiles, runSmsd } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';

/** gammu-smsd's and gammu-smsd-monitor's command-line options on `smsd run` and `smsd monitor`. */

const dirs: string[] = [];
const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A spool and a config with the emulated modem, the folder readable by others (for -U). */
function setup(extra = '', device = 'emulator') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-gammu-flags-'));
  dirs.push(dir);
  fs.chmodSync(dir, 0o755);
  const spool = path.join(dir, 'spool');
  for (const d of ['inbox', 'outbox', 'sent', 'error'])
    fs.mkdirSync(path.join(spool, d), { recursive: true });
  const config = path.join(dir, 'smsdrc');
  const log = path.join(dir, 'smsd.log');
  fs.writeFileSync(
    config,
    `[gammu]\ndevice = ${device}\nconnection = at\n[smsd]\nservice = files\nlogfile = ${log}\n` +
      `inboxpath = ${spool}/inbox/\noutboxpath = ${spool}/outbox/\nsentsmspath = ${spool}/sent/\n` +
      `errorsmspath = ${spool}/error/\nreceivefrequency = 1\n${extra}`,
  );
  return { dir, spool, config, log, pidFile: path.join(dir, 'smsd.pid') };
}

const readPid = (file: string): number => Number(fs.readFileSync(file, 'utf8').trim());

describe('smsd run --daemon', () => {
  it('returns 0 once the detached daemon has written its PID file; TERM stops it and removes the file', async () => {
    const s = setup();
    const t0 = Date.now();
    const r = runSmsd(['run', '--daemon', '--pid', s.pidFile, '-c', s.config]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
    expect(Date.now() - t0).toBeLessThan(20_000);
    const pid = readPid(s.pidFile);
    pids.push(pid);
    expect(alive(pid)).toBe(true);
    // A session of its own, no terminal: ps prints the session ID.
    const sid = spawnSync('ps', ['-o', 'sid=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
    expect(Number(sid)).toBe(pid);
    await waitFor(
      () => fs.readFileSync(s.log, 'utf8').includes('connected to'),
      20_000,
      'the log in LogFile',
    );
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !alive(pid), 20_000, 'the daemon to stop');
    expect(fs.existsSync(s.pidFile)).toBe(false);
  });

  it('says in one line, exit 2, when the config cannot be read', () => {
    const s = setup('bogus line without equals\n');
    const r = runSmsd(['run', '-d', '-p', s.pidFile, '-c', s.config]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Failed to read config/);
    expect(fs.existsSync(s.pidFile)).toBe(false);
  });

  it('an unknown -U user is one line, exit 2, before anything starts', () => {
    const s = setup();
    const r = runSmsd(['run', '-d', '-p', s.pidFile, '-U', 'no-such-user-here', '-c', s.config]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('smsd run: no such user "no-such-user-here"\n');
  });

  it('reports a daemon that dies while starting, with its exit code and where its log is', () => {
    const s = setup();
    const r = runSmsd(['run', '-d', '-p', path.join(s.dir, 'no-such-dir', 'pid'), '-c', s.config]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`smsd run: the daemon exited with code 2 while starting; see ${s.log}\n`);
    // One line naming the path and the cause.
    expect(fs.readFileSync(s.log, 'utf8')).toMatch(/Failed to run SMSD: \S*no-such-dir\/pid: .*\[ENOENT\]\n/);
  });
});

describe.runIf(process.getuid?.() === 0)('smsd run --user/--group (as root)', () => {
  it('drops to the user and group, keeps sending, and chowns the PID file and LogFile', async () => {
    const s = setup();
    spawnSync('chown', ['-R', 'nobody:nogroup', s.spool]);
    const r = runSmsd(['run', '-d', '-p', s.pidFile, '-U', 'nobody', '-G', 'nogroup', '-c', s.config]);
    expect(r.status, r.stderr).toBe(0);
    const pid = readPid(s.pidFile);
    pids.push(pid);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    expect(status).toMatch(/^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
    expect(status).toMatch(/^Groups:\s+65534\s*$/m);
    expect(fs.statSync(s.log).uid).toBe(65534);
    expect(fs.statSync(s.pidFile).uid).toBe(65534);
    expect(runSmsd(['inject', '-c', s.config, 'TEXT', '123', '-text', 'as nobody']).status).toBe(0);
    await waitFor(() => listFiles(path.join(s.spool, 'sent')).length === 1, 30_000, 'the message sent');
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !alive(pid), 20_000, 'the daemon to stop');
    // The PID file's folder is root's: the daemon cannot remove it, and says so in the log.
    expect(fs.readFileSync(s.log, 'utf8')).toMatch(/cannot remove the PID file/);
  });

  it('-U alone takes the primary group of the user', () => {
    const s = setup();
    spawnSync('chown', ['-R', 'nobody:nogroup', s.spool, s.dir]);
    const child = spawnSync(process.execPath, [SMSD_BIN, 'run', '-U', 'nobody', '-X', '1', '-c', s.config], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.status, child.stderr).toBe(0);
    expect(fs.readFileSync(s.log, 'utf8')).toMatch(/running as uid 65534 gid 65534/);
  });
});

describe('smsd run: other gammu-smsd options', () => {
  it('-X SECONDS stops by itself, exit 0', () => {
    const s = setup();
    const t0 = Date.now();
    const r = runSmsd(['run', '-X', '2', '-c', s.config]);
    expect(r.status, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(fs.readFileSync(s.log, 'utf8')).toMatch(/stopping after 2 s \(--suicide\)/);
  });

  it('-f N gives up after N+1 failed connects, exit 2 (as Gammu counts)', () => {
    const s = setup('', '/nonexistent/tty');
    const r = runSmsd(['run', '--max-failures', '1', '-c', s.config]);
    expect(r.status).toBe(2);
    expect(fs.readFileSync(s.log, 'utf8')).toMatch(
      /2 attempts to start talking to the modem failed \(--max-failures 1\)/,
    );
  });

  it('-L logs to standard output although LogFile is set', () => {
    const s = setup();
    const r = runSmsd(['run', '-L', '-X', '1', '-c', s.config]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stopping after 1 s/);
    expect(fs.existsSync(s.log)).toBe(false);
  });

  it('-i writes a systemd unit for the same config and identity, -u removes it', () => {
    const s = setup();
    const env = { SMSGATE_UNIT_DIR: s.dir };
    const unit = path.join(s.dir, 'smsgate-smsd.service');
    const i = runSmsd(['run', '-i', '-c', s.config, '-U', 'nobody', '-G', 'dialout'], { env });
    expect(i.status, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/systemctl daemon-reload && systemctl enable --now smsgate-smsd.service/);
    const text = fs.readFileSync(unit, 'utf8');
    expect(text).toContain(
      `ExecStart=${process.execPath} --max-semi-space-size=1 --optimize-for-size ${SMSD_BIN} run -c ${s.config}\n`,
    );
    expect(text).toContain('User=nobody\nGroup=dialout\n');
    expect(text).toContain('[Install]\nWantedBy=multi-user.target');
    const u = runSmsd(['run', '-u'], { env });
    expect(u.status, u.stderr).toBe(0);
    expect(fs.existsSync(unit)).toBe(false);
    expect(runSmsd(['run', '-u'], { env }).stdout).toMatch(/nothing to remove/);
  });
});

describe('smsd monitor -l', () => {
  it("writes Gammu's Status line to the LogFile of the config", async () => {
    const s = setup();
    const daemon = spawn(process.execPath, [SMSD_BIN, 'run', '-c', s.config], { stdio: 'ignore' });
    pids.push(daemon.pid ?? 0);
    await waitFor(
      () => runSmsd(['monitor', '-c', s.config, '-n', '1']).status === 0,
      30_000,
      'the daemon status',
    );
    const r = runSmsd(['monitor', '-c', s.config, '-n', '1', '-l']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(fs.readFileSync(s.log, 'utf8')).toMatch(
      /INFO {2}Status: Client="smsgate [^"]*", PhoneID="", IMEI="\d*", IMSI="\d*", Sent=0, Received=0, Failed=0, BatteryPercent=-?\d+, NetworkSignal=-?\d+/,
    );
    daemon.kill('SIGTERM');
    await waitFor(() => daemon.exitCode !== null, 20_000, 'the daemon to stop');
  });
});

describe('npm start', () => {
  it('passes SIGTERM to the daemon (no shell left between npm and node)', async () => {
    const s = setup();
    const npm = spawn('npm', ['start', '--silent', '--', '-p', s.pidFile], {
      cwd: ROOT,
      env: { ...process.env, SMSD_CONFIG: s.config },
      stdio: 'ignore',
    });
    await waitFor(
      () => fs.existsSync(s.pidFile) && fs.readFileSync(s.pidFile, 'utf8').trim(),
      30_000,
      'the PID file',
    );
    const pid = readPid(s.pidFile);
    pids.push(pid);
    // npm's child is node itself (`exec` in the script), so the signal npm forwards reaches it.
    const parent = Number(
      spawnSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim(),
    );
    expect(parent).toBe(npm.pid);
    npm.kill('SIGTERM');
    await waitFor(() => !alive(pid), 20_000, 'the daemon to stop after SIGTERM to npm');
    await waitFor(() => npm.exitCode !== null || npm.signalCode !== null, 20_000, 'npm to exit');
  });
});

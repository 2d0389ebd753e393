import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';

/**
 * The npm package as a user gets it (slow: packs and installs it with its dependencies): `npm pack`,
 * `npm i -g --prefix TMP`, then inject, run (the built-in default: emulator and the per-user spool)
 * and monitor from outside the source tree, as a normal user. Needs root to create that user.
 */

const USER = 'smsgate-pkgtest';
const isRoot = process.getuid?.() === 0;
const haveTools =
  spawnSync('setpriv', ['--version']).status === 0 && spawnSync('useradd', ['--help']).status !== null;

describe.runIf(isRoot && haveTools)('the npm package, installed as a user installs it', () => {
  let work: string;
  let prefix: string;
  let home: string;
  let pkgDir: string;
  const pids: number[] = [];

  /** A command as the test user, in their home, with the installed bins first on PATH. */
  const asUser = (cmd: string[]) =>
    spawnSync('setpriv', ['--reuid', USER, '--regid', USER, '--init-groups', '--', ...cmd], {
      cwd: home,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: `${path.join(prefix, 'bin')}:/usr/bin:/bin`, HOME: home, USER, LANG: 'C.UTF-8' },
    });

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-pkg-'));
    fs.chmodSync(work, 0o755);
    prefix = path.join(work, 'prefix');
    home = path.join(work, 'home');
    if (spawnSync('id', [USER]).status !== 0) {
      const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
      expect(r.status, String(r.stderr)).toBe(0);
    }
    fs.mkdirSync(home);
    spawnSync('chown', [`${USER}:`, home]);
    // The tree is built by `npm test`; pack what is there (no second build inside the test).
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--silent'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(pack.status, pack.stderr).toBe(0);
    const tgz = path.join(work, pack.stdout.trim().split('\n').pop() ?? '');
    const install = spawnSync(
      'npm',
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tgz],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(install.status, install.stderr).toBe(0);
    pkgDir = path.join(prefix, 'lib', 'node_modules', 'smsgate');
  }, 360_000);

  afterAll(() => {
    for (const pid of pids)
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('ships what the docs and help point at: contrib/, the module READMEs, LICENSE, man pages', () => {
    for (const f of [
      'LICENSE',
      'contrib/smpp-demo-client.mjs',
      'contrib/systemd/smsd@.service',
      'man/smsd-run.1',
    ])
      expect(fs.existsSync(path.join(pkgDir, f)), f).toBe(true);
    expect(fs.readFileSync(path.join(pkgDir, 'LICENSE'), 'utf8')).toMatch(
      /GNU GENERAL PUBLIC LICENSE\s+Version 2/,
    );
    const help = asUser(['smppd', 'serve', '--help']);
    expect(help.status, help.stderr).toBe(0);
    const mentioned = [...help.stdout.matchAll(/\b((?:src|contrib)\/[\w./-]+\w)/g)].map((m) => m[1] ?? '');
    expect(mentioned.length).toBeGreaterThan(0);
    for (const f of mentioned) expect(fs.existsSync(path.join(pkgDir, f)), f).toBe(true);
  });

  it('prints its version', () => {
    const r = asUser(['smsd', '--version']);
    expect(r.stdout).toMatch(/^smsd \(smsgate\) \d+\.\d+\.\d+\n$/);
  });

  it('inject, run and monitor work without a config, in the per-user spool', async () => {
    const spool = path.join(home, '.local', 'share', 'smsgate', 'spool');
    const inject = asUser(['smsd', 'inject', 'TEXT', '+420123456789', '-text', 'from the package']);
    expect(inject.stderr).toBe('');
    expect(inject.status).toBe(0);
    expect(inject.stdout).toMatch(
      new RegExp(`^Written message with ID ${spool}/outbox/OUTC\\d{8}_\\d{6}_00_`),
    );
    expect(fs.statSync(spool).uid).not.toBe(0);

    let out = '';
    const daemon = spawn(
      'setpriv',
      ['--reuid', USER, '--regid', USER, '--init-groups', '--', 'smsd', 'run'],
      {
        cwd: home,
        env: { PATH: `${path.join(prefix, 'bin')}:/usr/bin:/bin`, HOME: home, USER },
      },
    );
    pids.push(daemon.pid ?? 0);
    daemon.stdout.on('data', (d: Buffer) => (out += d.toString()));
    daemon.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      () => fs.existsSync(path.join(spool, 'sent')) && fs.readdirSync(path.join(spool, 'sent')).length === 1,
      60_000,
      `the message sent\n${out}`,
    );
    expect(out).toContain('config (built-in default)');
    expect(out).toContain(`spool ${spool} (the per-user spool in $XDG_DATA_HOME)`);

    const monitor = asUser(['smsd', 'monitor', '-n', '1']);
    expect(monitor.status, monitor.stderr).toBe(0);
    expect(monitor.stdout).toMatch(/^Client: smsgate .*\nPhoneID: \nIMEI: \d+\n/);
    expect(monitor.stdout).toMatch(/\nSent: 1\n/);

    daemon.kill('SIGTERM');
    await waitFor(() => daemon.exitCode !== null, 30_000, 'the daemon to stop');
    expect(daemon.exitCode).toBe(0);
  }, 120_000);
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/config/errors.js';
import {
  BUILTIN_SOURCE,
  builtinConfigText,
  configCandidates,
  defaultSpool,
  findConfig,
  packageRoot,
  SYSTEM_CONFIG,
} from '../../src/lib/config/locate.js';
import { loadSmsdConfig } from '../../src/lib/config/smsd-config.js';

const MINIMAL = '[gammu]\ndevice = /dev/x\n[smsd]\nservice = null\n';

describe('findConfig: search order', () => {
  let root: string;
  let cwd: string;
  let home: string;
  let xdg: string;
  let system: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-locate-'));
    cwd = path.join(root, 'work');
    home = path.join(root, 'home');
    xdg = path.join(root, 'xdg');
    system = path.join(root, 'etc', 'smsgate', 'smsdrc');
    for (const d of [
      cwd,
      path.join(home, '.config', 'smsgate'),
      path.join(xdg, 'smsgate'),
      path.dirname(system),
    ]) {
      fs.mkdirSync(d, { recursive: true });
    }
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const write = (file: string) => {
    fs.writeFileSync(file, MINIMAL);
    return file;
  };

  it('falls through every step to the built-in default', () => {
    expect(findConfig(cwd, { HOME: home }, { systemConfig: system })).toEqual({ builtin: true });
  });

  it('takes /etc/smsgate/smsdrc before the built-in default', () => {
    write(system);
    expect(findConfig(cwd, { HOME: home }, { systemConfig: system })).toEqual({
      path: system,
      builtin: false,
    });
  });

  it('takes ~/.config/smsgate/smsdrc before /etc/smsgate/smsdrc', () => {
    write(system);
    const user = write(path.join(home, '.config', 'smsgate', 'smsdrc'));
    expect(findConfig(cwd, { HOME: home }, { systemConfig: system }).path).toBe(user);
  });

  it('uses $XDG_CONFIG_HOME instead of ~/.config when it is absolute', () => {
    write(path.join(home, '.config', 'smsgate', 'smsdrc'));
    const x = write(path.join(xdg, 'smsgate', 'smsdrc'));
    expect(findConfig(cwd, { HOME: home, XDG_CONFIG_HOME: xdg }, { systemConfig: system }).path).toBe(x);
    // A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
    expect(findConfig(cwd, { HOME: home, XDG_CONFIG_HOME: 'rel' }, { systemConfig: system }).path).toBe(
      path.join(home, '.config', 'smsgate', 'smsdrc'),
    );
  });

  it('takes ./smsdrc before the user config', () => {
    write(path.join(xdg, 'smsgate', 'smsdrc'));
    const local = write(path.join(cwd, 'smsdrc'));
    expect(findConfig(cwd, { HOME: home, XDG_CONFIG_HOME: xdg }, { systemConfig: system }).path).toBe(local);
  });

  it('ignores a directory named smsdrc', () => {
    fs.mkdirSync(path.join(cwd, 'smsdrc'));
    expect(findConfig(cwd, { HOME: home }, { systemConfig: system })).toEqual({ builtin: true });
  });

  it('takes $SMSD_CONFIG first (relative to cwd), even when the file is missing', () => {
    write(path.join(cwd, 'smsdrc'));
    const chosen = write(path.join(cwd, 'other.ini'));
    expect(findConfig(cwd, { HOME: home, SMSD_CONFIG: 'other.ini' }, { systemConfig: system }).path).toBe(
      chosen,
    );
    const missing = findConfig(cwd, { HOME: home, SMSD_CONFIG: 'gone.ini' }, { systemConfig: system });
    expect(missing).toEqual({ path: path.join(cwd, 'gone.ini'), builtin: false });
    expect(() =>
      loadSmsdConfig(undefined, { cwd, env: { SMSD_CONFIG: 'gone.ini' }, systemConfig: system }),
    ).toThrow(ConfigError);
  });

  it('lists the candidates in order, with the system path last', () => {
    const list = configCandidates('/w', { HOME: '/h', SMSD_CONFIG: '/e/rc' });
    expect(list.map((c) => c.path)).toEqual([
      '/e/rc',
      '/w/smsdrc',
      '/h/.config/smsgate/smsdrc',
      SYSTEM_CONFIG,
    ]);
    expect(SYSTEM_CONFIG).toBe('/etc/smsgate/smsdrc');
  });

  it('loadSmsdConfig without a path reads what findConfig finds', () => {
    const local = write(path.join(cwd, 'smsdrc'));
    const loaded = loadSmsdConfig(undefined, { cwd, env: { HOME: home }, systemConfig: system });
    expect(loaded.source).toBe(local);
    expect(loaded.config.smsd.service).toBe('null');
  });

  it('loadSmsdConfig falls back to the built-in default', () => {
    const { config, warnings, source } = loadSmsdConfig(undefined, {
      cwd,
      env: { HOME: home },
      systemConfig: system,
    });
    const spool = path.join(packageRoot(), 'spool');
    expect(source).toBe(BUILTIN_SOURCE);
    expect(source).toBe('(built-in default)');
    expect(warnings).toEqual([]);
    expect(config.gammu).toMatchObject({ device: 'emulator', connection: 'at' });
    expect(config.smsd.service).toBe('files');
    expect(config.smsd.inboxPath.path).toBe(path.join(spool, 'inbox'));
    expect(config.smsd.outboxPath.path).toBe(path.join(spool, 'outbox'));
    expect(config.smsd.sentSmsPath.path).toBe(path.join(spool, 'sent'));
    expect(config.smsd.errorSmsPath.path).toBe(path.join(spool, 'error'));
  });
});

describe('packageRoot', () => {
  it("is the directory of smsgate's package.json", () => {
    const root = packageRoot();
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string };
    expect(pkg.name).toBe('smsgate');
    expect(fs.existsSync(path.join(root, 'src', 'lib', 'config', 'locate.ts'))).toBe(true);
  });

  it('builds the default config text with trailing separators (usable by Gammu too)', () => {
    expect(builtinConfigText('/pkg/spool')).toContain('outboxpath = /pkg/spool/outbox/\n');
  });
});

describe('defaultSpool: the built-in default spool is where the user can write', () => {
  let pkg: string;
  beforeEach(() => {
    pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-pkg-')); // an installed package: no .git
  });
  afterEach(() => fs.rmSync(pkg, { recursive: true, force: true }));

  it('is ~/.local/share/smsgate/spool for a user of an installed package', () => {
    expect(defaultSpool({ root: pkg, uid: 1000, env: { HOME: '/home/u' } }).dir).toBe(
      '/home/u/.local/share/smsgate/spool',
    );
  });

  it('follows an absolute $XDG_DATA_HOME and ignores a relative one (XDG spec)', () => {
    expect(defaultSpool({ root: pkg, uid: 1000, env: { HOME: '/home/u', XDG_DATA_HOME: '/data' } }).dir).toBe(
      '/data/smsgate/spool',
    );
    expect(defaultSpool({ root: pkg, uid: 1000, env: { HOME: '/home/u', XDG_DATA_HOME: 'rel' } }).dir).toBe(
      '/home/u/.local/share/smsgate/spool',
    );
  });

  it('is /var/spool/smsgate for root', () => {
    expect(defaultSpool({ root: pkg, uid: 0, env: { HOME: '/root' } })).toEqual({
      dir: '/var/spool/smsgate',
      why: 'the system spool, as root',
    });
  });

  it("is the checkout's spool/ in a git checkout (a .git folder or a worktree's .git file), even as root", () => {
    fs.writeFileSync(path.join(pkg, '.git'), 'gitdir: /elsewhere\n');
    expect(defaultSpool({ root: pkg, uid: 0, env: {} }).dir).toBe(path.join(pkg, 'spool'));
    expect(defaultSpool().dir).toBe(path.join(packageRoot(), 'spool')); // this checkout
  });

  it('loadSmsdConfig uses it, with the environment it is given', () => {
    const { config } = loadSmsdConfig(undefined, {
      cwd: pkg,
      env: { HOME: pkg, XDG_DATA_HOME: path.join(pkg, 'data') },
      systemConfig: null,
    });
    // This test runs in a checkout, so the checkout's spool wins over XDG_DATA_HOME.
    expect(config.smsd.outboxPath.path).toBe(path.join(packageRoot(), 'spool', 'outbox'));
  });
});

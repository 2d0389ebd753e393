import { ConfigError } from '../../src/lib/config/errors.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseIni } from '../../src/lib/config/ini.js';
import { readSmppdConfig } from '../../src/lib/smpp/config.js';
import { hashPassword, parseAccounts, verifyPassword } from '../../src/lib/smpp/policy/accounts.js';
import { makeSpool, ROOT } from '../helpers/spool.js';

const sections = (text: string) => parseIni(text, 'rc', { isRawSection: () => true }).document.sections;

describe('[smppd] section', () => {
  it('has the documented defaults and reads times in seconds', () => {
    const { config, warnings } = readSmppdConfig(
      sections('[smppd]\nAccountsFile = esme.ini\nInactivityTimeout = 0.5\nRoutesFile = r.ini\n'),
      'rc',
      '/etc/smsgate',
    );
    expect(config).toMatchObject({
      port: 2775,
      listen: '0.0.0.0',
      accountsFile: '/etc/smsgate/esme.ini',
      window: 100,
      inactivityMs: 500,
      blockAttempts: 5,
      blockMs: 300_000,
      routesFile: '/etc/smsgate/r.ini',
      tls: undefined,
    });
    expect(warnings).toEqual([]);
  });

  it('turns the admin HTTP interface on with AdminPort, only with a password, on 127.0.0.1 by default', () => {
    const read = (extra: string) =>
      readSmppdConfig(sections(`[smppd]\nAccountsFile = a\n${extra}`), 'rc', '/');
    expect(read('').config.admin).toBeUndefined();
    expect(read('AdminPort = 8080\nAdminPassword = s\n')).toMatchObject({
      config: { admin: { port: 8080, listen: '127.0.0.1', password: 's', metricsPublic: false } },
      warnings: [],
    });
    expect(
      read('AdminPort = 1\nAdminPassword = s\nAdminListen = ::\nAdminMetricsPublic = yes\n').config.admin,
    ).toMatchObject({
      listen: '::',
      metricsPublic: true,
    });
    expect(() => read('AdminPort = 8080\n')).toThrow(/AdminPort needs AdminPassword/);
  });

  it('takes a TLS listener only with its key and certificate', () => {
    const read = (extra: string) =>
      readSmppdConfig(sections(`[smppd]\nAccountsFile = a\n${extra}`), 'rc', '/k');
    expect(read('TlsPort = 3550\nTlsKey = key.pem\nTlsCert = cert.pem\n').config.tls).toEqual({
      port: 3550,
      listen: '0.0.0.0',
      keyFile: '/k/key.pem',
      certFile: '/k/cert.pem',
    });
    expect(() => read('TlsPort = 3550\nTlsKey = key.pem\n')).toThrow(/TlsPort needs TlsKey = .* and TlsCert/);
  });

  it('refuses a missing AccountsFile, a bad port and unknown keys are warned about', () => {
    expect(() => readSmppdConfig(sections('[smppd]\nPort = 2775\n'), 'rc', '/')).toThrow(
      /needs AccountsFile/,
    );
    expect(() => readSmppdConfig(sections('[smppd]\nAccountsFile = a\nPort = 70000\n'), 'rc', '/')).toThrow(
      /rc:3: Port = "70000" is not valid; use a whole number from 0 to 65535/,
    );
    expect(readSmppdConfig(sections('[smppd]\nAccountsFile = a\nPrt = 1\n'), 'rc', '/').warnings).toEqual([
      'rc:3: unknown key "Prt" in [smppd] is ignored; did you mean Port?',
    ]);
  });

  it('reads [smppd] with the readers of [smsd]: the same boolean words, errors naming file:line, key and value', () => {
    const admin = (v: string) =>
      readSmppdConfig(
        sections(`[smppd]\nAccountsFile = a\nAdminPort = 0\nAdminPassword = s\nAdminMetricsPublic = ${v}\n`),
        'rc',
        '/',
      ).config.admin?.metricsPublic;
    for (const yes of ['yes', 'Y', 't', 'TRUE', '1']) expect(admin(yes), yes).toBe(true);
    for (const no of ['no', 'n', 'f', 'false', '0']) expect(admin(no), no).toBe(false);
    let err: unknown;
    try {
      admin('maybe');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ file: 'rc', line: 5, key: 'AdminMetricsPublic', value: 'maybe' });
    expect((err as Error).message).toMatch(/^rc:5: AdminMetricsPublic = "maybe" is not valid; use true, yes/);
    expect(() => readSmppdConfig(sections('[smppd]\nAccountsFile = a\nWindow = 12abc\n'), 'rc', '/')).toThrow(
      /rc:3: Window = "12abc" is not valid/,
    );
  });
});

describe('accounts file', () => {
  it('never takes a plain-text password; hashes verify in constant time', async () => {
    expect(() => parseAccounts('[shop]\npassword = hunter2\n', 'esme.ini')).toThrow(/never plain text/);
    const hash = await hashPassword('s3cret', { N: 1024, r: 8, p: 1 });
    const { accounts } = parseAccounts(
      `[Shop]\npassword = ${hash}\nallow = 10.0.0.0/8 192.0.2.1\nthroughput = 2.5\n`,
      'esme.ini',
    );
    const a = accounts.get('shop');
    expect(a).toMatchObject({ systemId: 'Shop', enabled: true, maxBinds: 0, throughput: 2.5, mo: false });
    expect(await verifyPassword('s3cret', a?.passwordHash)).toBe(true);
    expect(await verifyPassword('s3creT', a?.passwordHash)).toBe(false);
    expect(await verifyPassword('s3cret', a?.passwordHash, false)).toBe(false);
    expect(() => parseAccounts(`[x]\npassword = ${hash}\nallow = 10.0.0.0/33\n`, 'e')).toThrow(/bad prefix/);
  });
});

describe('smppd serve as a command', () => {
  it('exits 2 with the reason when it cannot start', () => {
    const spool = makeSpool();
    try {
      fs.appendFileSync(
        spool.config,
        `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${path.join(spool.dir, 'missing.ini')}\n`,
      );
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, 'bin', 'smppd.js'), 'serve', '-c', spool.config],
        { encoding: 'utf8', timeout: 20_000 },
      );
      expect(r.status).toBe(2);
      expect(r.stdout).toMatch(/ERROR smppd cannot start: cannot read AccountsFile .*missing\.ini/);
    } finally {
      spool.cleanup();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { parseIni } from '../../src/lib/config/ini.js';
import { readSmppdConfig, type SmsdSqlKeys } from '../../src/lib/smpp/config.js';
import { checkPasswordHash, verifyPassword } from '../../src/lib/smpp/policy/accounts.js';
import { ipMatchesPattern, parseKannelIpList } from '../../src/lib/smpp/protocol/net.js';
import { posixRegex } from '../../src/lib/smpp/sql/posix-regex.js';
import { accountOfRow, routeOfRow } from '../../src/lib/smpp/sql/load.js';
import { accountOfHeaders } from '../../src/lib/smpp/policy/http-auth.js';
import { safeUrl } from '../../src/lib/smpp/policy/ksmppd-http.js';

const sections = (text: string) => parseIni(text, 'rc', { isRawSection: () => true }).document.sections;
const SMSD: SmsdSqlKeys = {
  driver: 'native_pgsql',
  host: 'db:5432',
  user: 'gammu',
  password: 'pw',
  database: 'sms',
};
const read = (extra: string, smsd?: SmsdSqlKeys) =>
  readSmppdConfig(sections(`[smppd]\n${extra}`), 'rc', '/', smsd);

describe('[smppd] AccountsSource, RoutesSource and their keys', () => {
  it('defaults to the files', () => {
    const { config } = read('AccountsFile = a\n');
    expect(config).toMatchObject({
      accountsSource: 'file',
      routesSource: 'file',
      accountsFile: '/a',
      sql: undefined,
    });
    expect(config.http).toEqual({
      authUrl: undefined,
      routingUrl: undefined,
      timeoutMs: 5_000,
      authCacheMs: 60_000,
    });
  });

  it("takes [smppd]'s own database keys, else [smsd]'s", () => {
    const own = read(
      'AccountsSource = sql\nRoutesSource = SQL\nSqlDriver = native_mysql\nSqlHost = k:3307\nSqlUser = ks\nSqlPassword = s\nSqlDatabase = kannel\nUserTable = users\n',
      SMSD,
    );
    expect(own.warnings).toEqual([]);
    expect(own.config.sql).toEqual({
      connection: { dialect: 'mysql', host: 'k:3307', user: 'ks', password: 's', database: 'kannel' },
      tables: { user: 'users', route: 'smpp_route', version: 'smpp_version' },
    });
    expect(read('AccountsSource = sql\n', SMSD).config.sql?.connection).toEqual({
      dialect: 'pgsql',
      host: 'db:5432',
      user: 'gammu',
      password: 'pw',
      database: 'sms',
    });
    // SqlDriver alone (smppd db init before switching the sources over).
    expect(
      read('AccountsFile = a\nSqlDriver = pgsql\nSqlDatabase = k\n').config.sql?.connection.dialect,
    ).toBe('pgsql');
    // SQLite: SqlDatabase is a file (relative to the working folder); or [smsd]'s DBDir and Database.
    expect(
      read('AccountsSource = sql\nSqlDriver = sqlite3\nSqlDatabase = var/ksmppd.db\n').config.sql?.connection,
    ).toMatchObject({ dialect: 'sqlite', database: '/var/ksmppd.db' });
    expect(
      read('AccountsSource = sql\n', {
        ...SMSD,
        driver: 'sqlite3',
        database: 'smsd.db',
        dbDir: '/var/lib/smsd',
      }).config.sql?.connection,
    ).toMatchObject({ dialect: 'sqlite', database: 'smsd.db', dbDir: '/var/lib/smsd' });
  });

  it('names what is wrong or unused', () => {
    expect(() => read('AccountsSource = ldap\n')).toThrow(
      /rc:2: AccountsSource = "ldap" is not valid; use file, sql or http/,
    );
    expect(() => read('AccountsSource = sql\n')).toThrow(
      /needs SqlDriver = native_mysql, native_pgsql or sqlite3/,
    );
    expect(() => read('AccountsSource = sql\nSqlDriver = oracle\n')).toThrow(
      /rc:3: SqlDriver = "oracle" is not valid; use native_mysql/,
    );
    expect(() => read('AccountsSource = sql\nSqlDriver = mysql\n')).toThrow(/SqlDriver needs SqlDatabase/);
    expect(() => read('AccountsSource = sql\nUserTable = users; DROP\n', SMSD)).toThrow(
      /rc:3: UserTable = "users; DROP" is not a plain table name/,
    );
    expect(() => read('AccountsSource = http\n')).toThrow(/AccountsSource = http needs AuthUrl = http/);
    expect(() => read('AccountsFile = a\nRoutesSource = http\nRoutingUrl = ftp://x\n')).toThrow(
      /rc:4: RoutingUrl = "ftp:\/\/x" is not valid; use an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => read('AccountsFile = a\nHttpTimeout = 0\n')).toThrow(
      /rc:3: HttpTimeout = "0" is not valid; use a number from 0.01 to 86400/,
    );
    expect(
      read('AccountsSource = sql\nAccountsFile = a\nAuthUrl = http://x/\nSqlHost = h\nSqlHots = 1\n', SMSD)
        .warnings,
    ).toEqual([
      'rc:3: AccountsFile is not used: AccountsSource = sql',
      'rc:5: SqlHost is not used: without SqlDriver the [smsd] database keys are used',
      'rc:4: AuthUrl is not used: AccountsSource = sql',
      'rc:6: unknown key "SqlHots" in [smppd] is ignored; did you mean SqlHost?',
    ]);
  });
});

describe('KSMPPD compatibility pieces', () => {
  it("checks MySQL PASSWORD() hashes without the server's PASSWORD()", async () => {
    const hash = '*B69027D44F6E5EDC07F1AEAD1477967B16F28227'; // PASSWORD('x') on MariaDB
    expect(checkPasswordHash(hash)).toBeUndefined();
    expect(await verifyPassword('x', hash)).toBe(true);
    expect(await verifyPassword('x', hash.toLowerCase())).toBe(true);
    expect(await verifyPassword('y', hash)).toBe(false);
    expect(await verifyPassword('x', hash, false)).toBe(false);
    expect(checkPasswordHash('*B69027')).toMatch(/not a scrypt\$\.\.\. hash nor a MySQL PASSWORD\(\) hash/);
    expect(checkPasswordHash('plain')).toMatch(/nor a MySQL PASSWORD/);
  });

  it("reads Kannel's connect_allow_ip lists", () => {
    const any = parseKannelIpList('*.*.*.*');
    expect(any.patterns).toEqual(['*.*.*.*']);
    expect(ipMatchesPattern('192.0.2.1', any.patterns)).toBe(true);
    expect(ipMatchesPattern('::ffff:192.0.2.1', any.patterns)).toBe(true);
    expect(ipMatchesPattern('2001:db8::1', any.patterns)).toBe(false);
    const mixed = parseKannelIpList('10.0.*.1; 192.168.1.5;172.16.0.0/12');
    expect(mixed.allow.map((c) => c.text)).toEqual(['192.168.1.5/32', '172.16.0.0/12']);
    expect(ipMatchesPattern('10.0.7.1', mixed.patterns)).toBe(true);
    expect(ipMatchesPattern('10.0.7.2', mixed.patterns)).toBe(false);
    expect(parseKannelIpList('').allow.map((c) => c.text)).toEqual(['0.0.0.0/0', '::/0']);
    expect(() => parseKannelIpList('10.*')).toThrow(/"10\.\*" is not an IPv4 pattern/);
    expect(() => parseKannelIpList('10.0.0.300')).toThrow(/not an address or CIDR/);
  });

  it('runs POSIX regexes as JavaScript ones', () => {
    expect(posixRegex('^[[:digit:]]{4}$').test('1234')).toBe(true);
    expect(posixRegex('^[+[:digit:]]+$').test('+420')).toBe(true);
    expect(posixRegex('^(1800)').test('18001234')).toBe(true);
    expect(() => posixRegex('[[:nope:]]')).toThrow(/unknown POSIX class/);
  });

  it('maps smpp_user and smpp_route rows, naming what is wrong', () => {
    const base = { system_id: 'a', password: '*B69027D44F6E5EDC07F1AEAD1477967B16F28227' };
    expect(
      accountOfRow({ ...base, default_smsc: 'ksmppd2', enable_prepaid_billing: 1, throughput: '11.00000' }),
    ).toMatchObject({
      defaultRoute: 'phone:ksmppd2',
      prepaid: true,
      throughput: 11,
      enabled: true,
    });
    expect(accountOfRow({ ...base, default_smsc: null })).toMatchObject({ defaultRoute: 'none' });
    expect(accountOfRow({ ...base, default_smsc: '*', enabled: 0 })).toMatchObject({
      defaultRoute: 'spool',
      enabled: false,
    });
    expect(accountOfRow({ ...base, simulate: 1, simulate_mo_every: 2 })).toMatchObject({
      simulate: { moEvery: 2, deliverEvery: 0 },
    });
    expect(accountOfRow({ ...base, message_id_format: 'decimal', message_id_length: 10 })).toMatchObject({
      messageId: { format: 'decimal', length: 10 },
    });
    expect(accountOfRow({ ...base, message_id_format: 'uuid' })).toMatch(/message_id_format = uuid/);
    expect(accountOfRow({ ...base, connect_allow_ip: 'x.y' })).toMatch(/connect_allow_ip: "x.y"/);
    expect(accountOfRow({ ...base, max_binds: -1 })).toMatch(/max_binds = -1/);
    expect(
      routeOfRow({ route_id: 1, direction: 2, regex: '', system_id: 'a', smsc_id: 'modem1' }),
    ).toMatchObject({
      direction: 'in',
      destination: undefined,
      phone: 'modem1',
      systemId: 'a',
    });
    expect(routeOfRow({ route_id: 2, direction: 1, regex: '^1', system_id: '*' })).toMatchObject({
      systemId: undefined,
    });
    expect(routeOfRow({ route_id: 3, direction: 1, regex: '^1', system_id: null })).toMatch(
      /KSMPPD never uses/,
    );
    expect(routeOfRow({ route_id: 4, direction: 3, regex: '^1' })).toMatch(/direction = 3/);
    expect(routeOfRow({ route_id: 5, direction: 1, regex: null, system_id: 'a' })).toMatch(/regex is NULL/);
    expect(routeOfRow({ route_id: 6, direction: 1, regex: '^1', source_regex: '(', system_id: 'a' })).toMatch(
      /source_regex \(/,
    );
  });

  it('reads the HTTP auth answer headers, refusing bad values', () => {
    const h = (o: Record<string, string>) => new Headers(o);
    expect(
      accountOfHeaders(
        'a',
        h({
          'X-KSMPPD-Simulate': '1',
          'X-KSMPPD-Temporary-Failure-Every': '3',
          'X-KSMPPD-Enable-Prepaid-Billing': '1',
        }),
      ),
    ).toMatchObject({ simulate: { temporaryFailureEvery: 3 }, prepaid: true, defaultRoute: 'none' });
    expect(accountOfHeaders('a', h({ 'X-KSMPPD-Throughput': 'fast' }))).toMatch(
      /X-KSMPPD-Throughput: fast is not a number/,
    );
    expect(accountOfHeaders('a', h({ 'X-KSMPPD-Connect-Allow-IP': 'anywhere' }))).toMatch(/Connect-Allow-IP/);
    expect(safeUrl('http://user:secret@auth.example/smpp-auth.php')).toBe(
      'http://auth.example/smpp-auth.php',
    );
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/config/errors.js';
import { loadSmsdConfig, parseSmsdConfig, type SmsdSettings } from '../../src/lib/config/smsd-config.js';

const CWD = '/run/smsd';
const GAMMU = '[gammu]\ndevice = /dev/ttyUSB1\n';

function parse(text: string) {
  return parseSmsdConfig(text, 'smsdrc', { cwd: CWD });
}

function smsd(body: string): SmsdSettings {
  return parse(`${GAMMU}[smsd]\n${body}`).config.smsd;
}

function messages(text: string): string[] {
  return parse(text).warnings.map((w) => w.message);
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const here = (raw = '') => ({ path: CWD, raw, line: undefined });

describe('parseSmsdConfig: defaults', () => {
  it('fills in every Gammu default for a minimal FILES config, without warnings', () => {
    const { config, warnings } = parse('[gammu]\n[smsd]\nservice = files\n');
    expect(warnings).toEqual([]);
    expect(config.gammu).toEqual({
      device: '/dev/ttyUSB0',
      connection: 'at',
      model: '',
      useLocking: false,
      synchronizeTime: false,
      startInfo: false,
      logFile: undefined,
      logFormat: undefined,
      features: [],
      gammuCoding: undefined,
      gammuLoc: undefined,
      dataPath: undefined,
      atgenSetCnmi: undefined,
    });
    expect(config.smsd).toEqual({
      service: 'files',
      serviceName: 'files',
      logFile: undefined,
      logFacility: 'DAEMON',
      debugLevel: 0,
      pin: undefined,
      networkCode: undefined,
      phoneCode: undefined,
      commTimeout: 30,
      sendTimeout: 30,
      receiveFrequency: 15,
      statusFrequency: 60,
      loopSleep: 1,
      multipartTimeout: 600,
      resetFrequency: 0,
      hardResetFrequency: 0,
      retryTimeout: 600,
      deliveryReportDelay: 600,
      checkSecurity: true,
      checkBattery: true,
      checkSignal: true,
      checkNetwork: true,
      hangupCalls: false,
      send: true,
      receive: true,
      maxRetries: 1,
      backendRetries: 10,
      deliveryReport: 'no',
      phoneId: '',
      smsc: undefined,
      skipSmscNumber: '',
      runOnReceive: undefined,
      runOnFailure: undefined,
      runOnSent: undefined,
      runOnIncomingCall: undefined,
      includeNumbersFile: undefined,
      excludeNumbersFile: undefined,
      includeSmscFile: undefined,
      excludeSmscFile: undefined,
      inboxPath: here(),
      outboxPath: here(),
      sentSmsPath: here(),
      errorSmsPath: here(),
      inboxFormat: 'standard',
      outboxFormat: 'detail',
      transmitFormat: '7bit',
      driver: undefined,
      sqlDialect: undefined,
      host: 'localhost',
      user: 'root',
      password: '',
      database: 'sms',
      driversPath: undefined,
      dbDir: undefined,
    });
    expect(config.includeNumbers).toEqual([]);
    expect(config.excludeNumbers).toEqual([]);
    expect(config.includeSmsc).toEqual([]);
    expect(config.excludeSmsc).toEqual([]);
    expect(config.sql).toEqual({});
    expect(config.tables).toEqual({
      gammu: 'gammu',
      inbox: 'inbox',
      sentitems: 'sentitems',
      outbox: 'outbox',
      outbox_multipart: 'outbox_multipart',
      phones: 'phones',
    });
    expect(config.smppd).toEqual([]);
  });

  it('SentSMSPath defaults to OutboxPath and ErrorSMSPath to SentSMSPath', () => {
    const a = smsd('service = files\noutboxpath = /s/out/\n');
    expect(a.sentSmsPath).toEqual({ path: '/s/out', raw: '/s/out/', line: 5 });
    expect(a.errorSmsPath).toEqual(a.sentSmsPath);
    const b = smsd('service = files\noutboxpath = /s/out/\nsentsmspath = /s/sent\n');
    expect(b.errorSmsPath).toEqual({ path: '/s/sent', raw: '/s/sent', line: 6 });
  });

  it('reads every key when set', () => {
    const s = smsd(
      [
        'Service = FILES',
        'LogFile = syslog',
        'LogFacility = local3',
        'DebugLevel = 255',
        'PIN = 1234',
        'NetworkCode = 11',
        'PhoneCode = 22',
        'CommTimeout = 1',
        'SendTimeout = 2',
        'ReceiveFrequency = 3',
        'StatusFrequency = 4',
        'LoopSleep = 0',
        'MultipartTimeout = 5',
        'ResetFrequency = 6',
        'HardResetFrequency = 7',
        'RetryTimeout = 8',
        'DeliveryReportDelay = 9',
        'CheckSecurity = no',
        'CheckBattery = N',
        'CheckSignal = f',
        'CheckNetwork = 0',
        'HangupCalls = yes',
        'Send = false',
        'Receive = FALSE',
        'MaxRetries = 3',
        'BackendRetries = 4',
        'DeliveryReport = sms',
        'PhoneID = modem1',
        'SMSC = +4790002100',
        'SkipSMSCNumber = +4790002101',
        'RunOnReceive = /usr/local/bin/rx "$1"',
        'RunOnFailure = /bin/fail',
        'RunOnSent = /bin/sent',
        'RunOnIncomingCall = /bin/call',
        'IncludeNumbersFile = /etc/inc',
        'ExcludeNumbersFile = exc.txt',
        'IncludeSMSCFile = /etc/incsmsc',
        'ExcludeSMSCFile = /etc/excsmsc',
        'InboxFormat = Unicode',
        'OutboxFormat = standard',
        'TransmitFormat = AUTO',
      ].join('\n'),
    );
    expect(s).toMatchObject({
      service: 'files',
      serviceName: 'FILES',
      logFile: 'syslog',
      logFacility: 'LOCAL3',
      debugLevel: 255,
      pin: '1234',
      networkCode: '11',
      phoneCode: '22',
      commTimeout: 1,
      sendTimeout: 2,
      receiveFrequency: 3,
      statusFrequency: 4,
      loopSleep: 0,
      multipartTimeout: 5,
      resetFrequency: 6,
      hardResetFrequency: 7,
      retryTimeout: 8,
      deliveryReportDelay: 9,
      checkSecurity: false,
      checkBattery: false,
      checkSignal: false,
      checkNetwork: false,
      hangupCalls: true,
      send: false,
      receive: false,
      maxRetries: 3,
      backendRetries: 4,
      deliveryReport: 'sms',
      phoneId: 'modem1',
      smsc: '+4790002100',
      skipSmscNumber: '+4790002101',
      runOnReceive: '/usr/local/bin/rx "$1"',
      runOnFailure: '/bin/fail',
      runOnSent: '/bin/sent',
      runOnIncomingCall: '/bin/call',
      includeNumbersFile: { path: '/etc/inc', raw: '/etc/inc' },
      excludeNumbersFile: { path: `${CWD}/exc.txt`, raw: 'exc.txt' },
      includeSmscFile: { path: '/etc/incsmsc' },
      excludeSmscFile: { path: '/etc/excsmsc' },
      inboxFormat: 'unicode',
      outboxFormat: 'standard',
      transmitFormat: 'auto',
    });
  });

  it('reads the [gammu] keys (Port is an alias of Device; Model = auto means auto-detect)', () => {
    const { config, warnings } = parse(
      '[gammu]\nPort = /dev/ttyACM0\nConnection = AT115200\nModel = auto\nUse_Locking = yes\n' +
        'SynchronizeTime = 1\nStartInfo = t\nLogFile = ~/gammu.log\nLogFormat = TextAll\n' +
        'Features = NO_ATOBEX, OBEX\natgen_setCNMI = 1,2,,2\nGammuCoding = utf8\n[smsd]\nservice = null\n',
    );
    expect(warnings).toEqual([]);
    expect(config.gammu).toMatchObject({
      device: '/dev/ttyACM0',
      connection: 'at115200',
      model: '',
      useLocking: true,
      synchronizeTime: true,
      startInfo: true,
      logFile: '~/gammu.log',
      logFormat: 'textall',
      features: ['NO_ATOBEX', 'OBEX'],
      atgenSetCnmi: '1,2,,2',
      gammuCoding: 'utf8',
    });
    expect(config.smsd.service).toBe('null');
  });

  it('prefers Device over Port, and says so', () => {
    const { config, warnings } = parse('[gammu]\nport = /dev/a\ndevice = /dev/b\n[smsd]\nservice = files\n');
    expect(config.gammu.device).toBe('/dev/b');
    expect(warnings.map((w) => w.message)).toEqual([
      'smsdrc:2: port is ignored because Device is set (line 3)',
    ]);
  });
});

describe('parseSmsdConfig: Gammu INI edge cases', () => {
  it('reads a CRLF file with tabs, uppercase keys and comments like the LF one', () => {
    const text =
      '; cfg\r\n[GAMMU]\r\n\tDEVICE\t=\t/dev/ttyS0 \r\n# x\r\n[Smsd]\r\n  SERVICE = Files\r\n  OUTBOXPATH\t= /o/\r\n';
    const { config, warnings } = parse(text);
    expect(warnings).toEqual([]);
    expect(config.gammu.device).toBe('/dev/ttyS0');
    expect(config.smsd.service).toBe('files');
    expect(config.smsd.outboxPath).toEqual({ path: '/o', raw: '/o/', line: 7 });
  });

  it('accepts paths with or without the trailing slash', () => {
    const a = smsd('service = files\ninboxpath = /var/spool/gammu/inbox/\n');
    const b = smsd('service = files\ninboxpath = /var/spool/gammu/inbox\n');
    expect(a.inboxPath.path).toBe('/var/spool/gammu/inbox');
    expect(b.inboxPath.path).toBe(a.inboxPath.path);
    expect(a.inboxPath.raw).toBe('/var/spool/gammu/inbox/');
  });

  it('resolves relative paths against the working directory, not the config file (as Gammu)', () => {
    const { config } = parseSmsdConfig(
      `${GAMMU}[smsd]\nservice = files\noutboxpath = out/\n`,
      '/etc/smsgate/smsdrc',
      {
        cwd: '/srv/run',
      },
    );
    expect(config.smsd.outboxPath.path).toBe('/srv/run/out');
  });

  it('keeps quotes: a quoted Service is unknown, a quoted path gets a warning', () => {
    expect(errorOf(() => smsd('service = "files"\n')).message).toBe(
      'smsdrc:4: Unknown SMSD service type: ""files""; use files, null or sql ' +
        '(mysql, pgsql and dbi are accepted as deprecated aliases of sql)',
    );
    const { config, warnings } = parse(`${GAMMU}[smsd]\nservice = files\ninboxpath = "/in/"\n`);
    expect(config.smsd.inboxPath.raw).toBe('"/in/"');
    expect(warnings.map((w) => w.message)).toEqual([
      'smsdrc:5: inboxpath: the quotes are part of the path (Gammu does not strip quotes); remove them',
    ]);
  });

  it('does not strip inline comments', () => {
    expect(smsd('service = files\nphoneid = one ; two\n').phoneId).toBe('one ; two');
  });

  it('treats an empty value as unset', () => {
    expect(smsd('service = files\nphoneid =\ncommtimeout = \n')).toMatchObject({
      phoneId: '',
      commTimeout: 30,
    });
  });
});

describe('parseSmsdConfig: Service', () => {
  it('is case-insensitive', () => {
    expect(smsd('service = NULL\n').service).toBe('null');
    expect(smsd('service = Sql\ndriver = Native_PgSQL\n')).toMatchObject({
      service: 'sql',
      driver: 'native_pgsql',
      sqlDialect: 'pgsql',
    });
  });

  it('maps the deprecated mysql / pgsql / dbi services to sql, with a warning', () => {
    const my = parse(`${GAMMU}[smsd]\nservice = MYSQL\npc = db.example:3306\n`);
    expect(my.config.smsd).toMatchObject({
      service: 'sql',
      serviceName: 'MYSQL',
      driver: 'native_mysql',
      sqlDialect: 'mysql',
      host: 'db.example:3306',
    });
    expect(my.warnings.map((w) => w.message)).toEqual([
      'smsdrc:4: Service = MYSQL is deprecated; use Service = sql with Driver = native_mysql (same effect)',
    ]);
    expect(smsd('service = pgsql\n')).toMatchObject({ service: 'sql', driver: 'native_pgsql' });
    const dbi = parse(`${GAMMU}[smsd]\nservice = dbi\ndriver = sqlite3\ndbdir = /var/lib/sms\n`);
    expect(dbi.warnings.map((w) => w.message)).toEqual([
      'smsdrc:4: Service = dbi is deprecated; use Service = sql, keeping Driver (same effect)',
    ]);
    expect(dbi.config.smsd).toMatchObject({
      service: 'sql',
      driver: 'sqlite3',
      sqlDialect: 'sqlite',
      dbDir: '/var/lib/sms',
    });
  });

  it('warns that Driver is ignored with Service = mysql', () => {
    const { config, warnings } = parse(`${GAMMU}[smsd]\nservice = mysql\ndriver = odbc\n`);
    expect(config.smsd.driver).toBe('native_mysql');
    expect(warnings.map((w) => w.message)).toContain(
      'smsdrc:5: driver = odbc is ignored: Service = mysql always uses native_mysql',
    );
  });

  it('reads the SQL keys: Host over PC, SQL dialect, credentials', () => {
    const { config, warnings } = parse(
      `${GAMMU}[smsd]\nservice = sql\ndriver = odbc\nsql = MSSQL\nhost = dsn1\npc = old\nuser = u\npassword = p#w;d\n` +
        'database = gammu\ndriverspath = /usr/lib/dbd\n',
    );
    expect(config.smsd).toMatchObject({
      driver: 'odbc',
      sqlDialect: 'mssql',
      host: 'dsn1',
      user: 'u',
      password: 'p#w;d',
      database: 'gammu',
      driversPath: '/usr/lib/dbd',
    });
    expect(warnings.map((w) => w.message)).toEqual(['smsdrc:8: pc is ignored because Host is set (line 7)']);
  });

  it('requires Driver for Service = sql', () => {
    const err = errorOf(() => smsd('service = sql\n'));
    expect(err.message).toMatch(
      /^smsdrc:4: Service = sql needs Driver; use native_mysql, native_pgsql, odbc or/,
    );
  });

  it("rejects an unknown service with Gammu's message and the allowed list", () => {
    const err = errorOf(() => smsd('service = flies\n'));
    expect(err.message).toBe(
      'smsdrc:4: Unknown SMSD service type: "flies"; use files, null or sql ' +
        '(mysql, pgsql and dbi are accepted as deprecated aliases of sql)',
    );
    expect(err).toMatchObject({ line: 4, key: 'service', value: 'flies' });
    expect(err.allowed).toEqual(['files', 'null', 'sql', 'mysql', 'pgsql', 'dbi']);
  });

  it('defaults to files when Service is missing, with a warning (gammu-smsd would not start)', () => {
    const { config, warnings } = parse(`${GAMMU}[smsd]\ninboxpath = /in/\n`);
    expect(config.smsd.service).toBe('files');
    expect(warnings.map((w) => w.message)).toEqual([
      'smsdrc:3: Service is not set; using files (gammu-smsd would refuse to start: "No SMSD service configured")',
    ]);
  });
});

describe('parseSmsdConfig: bad values', () => {
  it('rejects a bad enum with key, value and the allowed words', () => {
    const err = errorOf(() => parse('[gammu]\n[smsd]\nservice = files\n\n\n\ndeliveryreport = maybe\n'));
    expect(err.message).toBe('smsdrc:7: deliveryreport = "maybe" is not valid; use no, log or sms');
    expect(err).toMatchObject({ file: 'smsdrc', line: 7, key: 'deliveryreport', value: 'maybe' });
    expect(err.allowed).toEqual(['no', 'log', 'sms']);
  });

  it('rejects boolean words Gammu would silently ignore', () => {
    const err = errorOf(() => smsd('service = files\nCheckSecurity = on\n'));
    expect(err.message).toMatch(
      /^smsdrc:5: CheckSecurity = "on" is not valid; use true, yes, y, t or 1 to enable/,
    );
  });

  it('rejects garbage and negative numbers', () => {
    expect(errorOf(() => smsd('service = files\nCommTimeout = 12abc\n')).message).toBe(
      'smsdrc:5: CommTimeout = "12abc" is not valid; use a whole number of seconds, 0 or more',
    );
    expect(() => smsd('service = files\nLoopSleep = -1\n')).toThrow(ConfigError);
    expect(() => smsd('service = files\nDebugLevel = all\n')).toThrow(ConfigError);
  });

  it('rejects bad formats, facility, driver, dialect, log format and CNMI', () => {
    for (const body of [
      'inboxformat = html',
      'outboxformat = txt',
      'transmitformat = 8bit',
      'logfacility = kern',
      'driver = mongodb',
      'sql = nosql',
    ]) {
      expect(() => smsd(`service = files\n${body}\n`), body).toThrow(ConfigError);
    }
    expect(() => parse('[gammu]\nlogformat = verbose\n[smsd]\nservice = files\n')).toThrow(
      'logformat = "verbose" is not valid; use nothing, text, textall',
    );
    expect(() => parse('[gammu]\natgen_setcnmi = 1;2\n[smsd]\nservice = files\n')).toThrow(ConfigError);
  });

  it('forces BackendRetries below 1 to 1, with a warning', () => {
    const { config, warnings } = parse(`${GAMMU}[smsd]\nservice = files\nBackendRetries = 0\n`);
    expect(config.smsd.backendRetries).toBe(1);
    expect(warnings.map((w) => w.message)).toEqual([
      'smsdrc:5: BackendRetries = 0 is too low; using 1 (as Gammu does)',
    ]);
    expect(smsd('service = files\nbackendretries = -3\n').backendRetries).toBe(1);
  });
});

describe('parseSmsdConfig: unknown keys and sections', () => {
  it('warns about an unknown key with file, line and key', () => {
    const [w, ...rest] = parse(`${GAMMU}[smsd]\nservice = files\nfrobnicate = 1\n`).warnings;
    expect(rest).toEqual([]);
    expect(w).toMatchObject({ file: 'smsdrc', line: 5, section: 'smsd', key: 'frobnicate' });
    expect(w?.message).toBe('smsdrc:5: unknown key "frobnicate" in [smsd] is ignored');
  });

  it('suggests the near miss', () => {
    expect(messages(`${GAMMU}[smsd]\nservice = files\nCommTimout = 5\nDeliveryReprot = log\n`)).toEqual([
      'smsdrc:5: unknown key "CommTimout" in [smsd] is ignored; did you mean CommTimeout?',
      'smsdrc:6: unknown key "DeliveryReprot" in [smsd] is ignored; did you mean DeliveryReport?',
    ]);
    expect(messages('[gammu]\ndevise = /dev/x\n[smsd]\nservice = files\n')).toEqual([
      'smsdrc:2: unknown key "devise" in [gammu] is ignored; did you mean Device?',
    ]);
  });

  it('points at the right section for a key in the wrong one', () => {
    expect(messages('[gammu]\ninboxpath = /in/\n[smsd]\nservice = files\ndevice = /dev/x\n')).toEqual([
      'smsdrc:2: unknown key "inboxpath" in [gammu] is ignored; it belongs in [smsd]',
      'smsdrc:5: unknown key "device" in [smsd] is ignored; it belongs in [gammu]',
    ]);
  });

  it('warns about unknown sections, with a suggestion, and about spaces inside brackets', () => {
    expect(messages(`${GAMMU}[smsd]\nservice = files\n[tabels]\ninbox = x\n[ smsd ]\n[weird]\n`)).toEqual([
      'smsdrc:5: unknown section [tabels] is ignored; did you mean [tables]?',
      'smsdrc:7: unknown section [ smsd ] is ignored; Gammu does not trim spaces inside the brackets: write [smsd]',
      'smsdrc:8: unknown section [weird] is ignored',
    ]);
  });

  it('warns about unknown [sql] queries and [tables] keys', () => {
    expect(
      messages(
        `${GAMMU}[smsd]\nservice = files\n[sql]\nfind_outbox_bdy = SELECT 1\n[tables]\nsentitem = s\n`,
      ),
    ).toEqual([
      'smsdrc:6: unknown query name "find_outbox_bdy" in [sql] is ignored; did you mean find_outbox_body?',
      'smsdrc:8: unknown table "sentitem" in [tables] is ignored; use gammu, inbox, sentitems, outbox, ' +
        'outbox_multipart or phones; did you mean sentitems?',
    ]);
  });

  it('warns when [gammu] or [smsd] is missing, and rejects a file without sections', () => {
    expect(messages('[smsd]\nservice = files\n')).toEqual([
      'smsdrc: no [gammu] section; using Device = /dev/ttyUSB0, Connection = at (gammu-smsd refuses to start without it)',
    ]);
    expect(messages('[gammu]\n')).toEqual([
      'smsdrc: no [smsd] section; using the defaults (Service = files, spool in the current directory)',
    ]);
    expect(errorOf(() => parse('; only a comment\n')).message).toBe(
      'smsdrc: no [sections] found; expected at least [gammu] and [smsd]',
    );
  });
});

describe('parseSmsdConfig: other sections', () => {
  it('collects number lists (keys ignored) and keeps them verbatim', () => {
    const { config, warnings } = parse(
      `${GAMMU}[smsd]\nservice = files\n[include_numbers]\nnumber1 = +111\nnumber1 = +222\n` +
        '[exclude_numbers]\nx = +333\n[include_smsc]\na = +444\n[exclude_smsc]\nb = +555\n',
    );
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      includeNumbers: ['+111', '+222'],
      excludeNumbers: ['+333'],
      includeSmsc: ['+444'],
      excludeSmsc: ['+555'],
    });
  });

  it('reads [sql] overrides and [tables] renames', () => {
    const { config } = parse(
      `${GAMMU}[smsd]\nservice = files\n[SQL]\nDelete_Phone = DELETE FROM phones WHERE IMEI = %I\n` +
        '[tables]\ninbox = my_inbox\nOUTBOX = my_outbox\n',
    );
    expect(config.sql).toEqual({ delete_phone: 'DELETE FROM phones WHERE IMEI = %I' });
    expect(config.tables).toMatchObject({ inbox: 'my_inbox', outbox: 'my_outbox', phones: 'phones' });
  });

  it('keeps [smppd] and [smppd*] sections raw, without warnings', () => {
    const { config, warnings } = parse(
      `${GAMMU}[smsd]\nservice = files\n[smppd]\nport = 2775\nport = 2776\n[smppd-user]\nname = a\n[SMPPD-user]\nname = b\n`,
    );
    expect(warnings).toEqual([]);
    expect(config.smppd.map((s) => [s.rawName, s.entries.map((e) => e.value)])).toEqual([
      ['smppd', ['2775', '2776']],
      ['smppd-user', ['a']],
      ['SMPPD-user', ['b']],
    ]);
  });
});

describe('loadSmsdConfig: files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-config-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the given file; messages use the path as given', () => {
    fs.writeFileSync(
      path.join(dir, 'smsdrc'),
      `${GAMMU}[smsd]\nservice = files\noutboxpath = out/\nbogus = 1\n`,
    );
    const { config, warnings, source } = loadSmsdConfig('smsdrc', { cwd: dir });
    expect(source).toBe('smsdrc');
    expect(config.smsd.outboxPath.path).toBe(path.join(dir, 'out'));
    expect(warnings.map((w) => w.message)).toEqual(['smsdrc:6: unknown key "bogus" in [smsd] is ignored']);
  });

  it('reports a missing file with its path and the OS reason', () => {
    const missing = path.join(dir, 'nope', 'smsdrc');
    const err = errorOf(() => loadSmsdConfig(missing));
    expect(err.message).toBe(`${missing}: cannot read config file: no such file or directory (ENOENT)`);
    expect(err.file).toBe(missing);
  });

  it('reports a directory given as config file', () => {
    expect(() => loadSmsdConfig(dir)).toThrow(/cannot read config file: .*\(EISDIR\)$/);
  });

  it('reads a Latin-1 file byte for byte, with a warning', () => {
    const file = path.join(dir, 'latin1rc');
    fs.writeFileSync(file, Buffer.from(`${GAMMU}[smsd]\nservice = files\npassword = gr\xfcn\n`, 'latin1'));
    const { config, warnings } = loadSmsdConfig(file);
    expect(config.smsd.password).toBe('gr\u00fcn');
    expect(warnings.map((w) => w.message)).toEqual([`${file}: file is not valid UTF-8; read as Latin-1`]);
  });
});

/**
 * The SMSD configuration: Gammu's `gammu-smsdrc` read as-is into a typed object with Gammu's defaults
 * (smsd/core.c SMSD_ReadConfig, smsd/services/files.c and sql.c ReadConfiguration, libgammu
 * GSM_ReadConfig), stricter than Gammu about values and loud about keys it does not know.
 */
import fs from 'node:fs';
import path from 'node:path';

import { ConfigError, type ConfigWarning, listWords, makeWarning, quote } from './errors.js';
import { type IniDocument, parseIni } from './ini.js';
import { BUILTIN_SOURCE, builtinConfigText, defaultSpool, findConfig } from './locate.js';
import {
  type ConfigPath,
  type IntegerOptions,
  parseBool,
  parseEnum,
  parseInteger,
  resolveConfigPath,
  type ValueSource,
} from './values.js';
import {
  checkSectionsAndKeys,
  isRawSection,
  isSmppdSection,
  LIST_SECTIONS,
  OUTLET_SECTIONS,
} from './smsd-sections.js';
import {
  DELIVERY_REPORT_MODES,
  GAMMU_LOG_FORMATS,
  INBOX_FORMATS,
  LOG_FACILITIES,
  OUTBOX_FORMATS,
  SMSD_SERVICES,
  SQL_DIALECTS,
  SQL_DRIVERS,
  SQL_QUERY_NAMES,
  SQL_TABLE_NAMES,
  TRANSMIT_FORMATS,
  type GammuConfig,
  type LoadSmsdOptions,
  type LoadedSmsdConfig,
  type ParseSmsdOptions,
  type SmsdConfig,
  type SmsdConfigResult,
  type SmsdService,
  type SmsdSettings,
  type SqlDialect,
  type SqlDriver,
  type SqlQueryName,
  type SqlTableName,
} from './smsd-types.js';

export * from './smsd-types.js';
export { knownKeys, OUTLET_SECTIONS } from './smsd-sections.js';

const DEFAULT_DEVICE = '/dev/ttyUSB0';

/** Typed reads of one section, throwing ConfigError for bad values. */
class SectionReader {
  constructor(
    private readonly doc: IniDocument,
    private readonly section: string,
    private readonly cwd: string,
    private readonly warnings: ConfigWarning[],
  ) {}

  src(key: string): ValueSource | undefined {
    const e = this.doc.get(this.section, key);
    return e && { file: this.doc.file, line: e.line, rawKey: e.rawKey, value: e.value };
  }

  str(key: string): string | undefined {
    return this.doc.value(this.section, key);
  }

  bool(key: string, fallback: boolean): boolean {
    const s = this.src(key);
    return s ? parseBool(s) : fallback;
  }

  int(key: string, fallback: number, options: IntegerOptions = { min: 0, unit: 'seconds' }): number {
    const s = this.src(key);
    return s ? parseInteger(s, options) : fallback;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const s = this.src(key);
    return s ? parseEnum(s, allowed) : fallback;
  }

  path(key: string): ConfigPath | undefined {
    const s = this.src(key);
    if (!s) return undefined;
    const warn = (text: string): void => {
      this.warnings.push(makeWarning(s.file, s.line, text, { section: this.section, key: s.rawKey }));
    };
    if (s.value.length >= 2 && s.value.startsWith('"') && s.value.endsWith('"')) {
      warn(`${s.rawKey}: the quotes are part of the path (Gammu does not strip quotes); remove them`);
    } else if (s.value.startsWith('~')) {
      warn(
        `${s.rawKey}: "~" is not expanded here (nor by Gammu); the path is relative to the current directory`,
      );
    }
    return resolveConfigPath(s.value, this.cwd, s.line);
  }
}

/**
 * The speeds Gammu's serial driver sets for `at<speed>` (its termios table, ser_unx.c); anything else
 * would fail only when the daemon opens the device, and then again at every retry.
 */
export const GAMMU_SPEEDS = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
  460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
] as const;
/** Outlets other than a modem (see src/lib/outlets/): accepted here, served by their own code. */
export const OUTLET_CONNECTIONS = ['smpp', 'smpps', 'kannel'] as const;

/** `Connection`: `at`, `at<speed>` with a speed Gammu knows, or an outlet word; refused at load. */
function parseConnection(src: ValueSource | undefined): string {
  if (!src) return 'at';
  const word = src.value.trim().toLowerCase();
  const speed = /^at(\d+)$/.exec(word)?.[1];
  if (word === 'at' || (OUTLET_CONNECTIONS as readonly string[]).includes(word)) return word;
  if (speed !== undefined && (GAMMU_SPEEDS as readonly number[]).includes(Number(speed))) return word;
  const allowed = ['at', ...GAMMU_SPEEDS.map((n) => `at${n}`), ...OUTLET_CONNECTIONS];
  const why =
    speed !== undefined
      ? `${speed} is not a serial speed Gammu sets (e.g. at9600, at19200, at115200)`
      : `use at, at<speed> (e.g. at115200) or ${OUTLET_CONNECTIONS.join(', ')}`;
  throw new ConfigError(`${src.rawKey} = ${quote(src.value)} is not valid; ${why}`, {
    file: src.file,
    line: src.line,
    key: src.rawKey,
    value: src.value,
    allowed,
  });
}

function readGammu(doc: IniDocument, r: SectionReader, warnings: ConfigWarning[]): GammuConfig {
  const device = r.src('device');
  const port = r.src('port');
  if (device && port) {
    warnings.push(
      makeWarning(
        doc.file,
        port.line,
        `${port.rawKey} is ignored because Device is set (line ${device.line})`,
        {
          section: 'gammu',
          key: port.rawKey,
        },
      ),
    );
  }
  const model = r.str('model');
  const logFormat = r.src('logformat');
  const cnmi = r.src('atgen_setcnmi');
  // GSM_ReadParams: up to five single digits separated by commas, blanks allowed, empty = keep.
  if (cnmi && !/^\s*\d?\s*(,\s*\d?\s*){0,4}$/.test(cnmi.value)) {
    const hint = 'up to 5 comma-separated digits, e.g. 1,2,,2';
    throw new ConfigError(`${cnmi.rawKey} = ${quote(cnmi.value)} is not valid; use ${hint}`, {
      file: cnmi.file,
      line: cnmi.line,
      key: cnmi.rawKey,
      value: cnmi.value,
      allowed: [hint],
    });
  }
  return {
    device: (device ?? port)?.value ?? DEFAULT_DEVICE,
    connection: parseConnection(r.src('connection')),
    model: model === undefined || model === 'auto' ? '' : model,
    useLocking: r.bool('use_locking', false),
    synchronizeTime: r.bool('synchronizetime', false),
    startInfo: r.bool('startinfo', false),
    logFile: r.str('logfile'),
    logFormat: logFormat ? parseEnum(logFormat, GAMMU_LOG_FORMATS) : undefined,
    features: (r.str('features') ?? '').split(/[\s,]+/).filter((f) => f !== ''),
    gammuCoding: r.str('gammucoding'),
    gammuLoc: r.str('gammuloc'),
    dataPath: r.str('datapath'),
    atgenSetCnmi: cnmi?.value,
  };
}

interface ServiceChoice {
  service: SmsdService;
  serviceName: string;
  /** Driver implied by a deprecated service name. */
  impliedDriver: SqlDriver | undefined;
}

function readService(doc: IniDocument, r: SectionReader, warnings: ConfigWarning[]): ServiceChoice {
  const s = r.src('service');
  if (!s) {
    const smsd = doc.section('smsd');
    if (smsd) {
      warnings.push(
        makeWarning(
          doc.file,
          smsd.line,
          'Service is not set; using files (gammu-smsd would refuse to start: "No SMSD service configured")',
          { section: smsd.rawName, key: 'Service' },
        ),
      );
    }
    return { service: 'files', serviceName: '', impliedDriver: undefined };
  }
  const word = s.value.toLowerCase();
  const deprecated = (instead: string): void => {
    warnings.push(
      makeWarning(s.file, s.line, `Service = ${s.value} is deprecated; use ${instead} (same effect)`, {
        section: 'smsd',
        key: s.rawKey,
      }),
    );
  };
  switch (word) {
    case 'files':
    case 'null':
    case 'sql':
      return { service: word, serviceName: s.value, impliedDriver: undefined };
    case 'mysql':
      deprecated('Service = sql with Driver = native_mysql');
      return { service: 'sql', serviceName: s.value, impliedDriver: 'native_mysql' };
    case 'pgsql':
      deprecated('Service = sql with Driver = native_pgsql');
      return { service: 'sql', serviceName: s.value, impliedDriver: 'native_pgsql' };
    case 'dbi':
      deprecated('Service = sql, keeping Driver');
      return { service: 'sql', serviceName: s.value, impliedDriver: undefined };
    default:
      // Gammu's own wording first, so it can be searched for; then what to write instead.
      throw new ConfigError(
        `Unknown SMSD service type: ${quote(s.value)}; use files, null or sql ` +
          '(mysql, pgsql and dbi are accepted as deprecated aliases of sql)',
        {
          file: s.file,
          line: s.line,
          key: s.rawKey,
          value: s.value,
          allowed: [...SMSD_SERVICES, 'mysql', 'pgsql', 'dbi'],
        },
      );
  }
}

/** What Gammu's SMSDSQL_SQLName gives when SQL is unset: the driver name, mapped to a dialect. */
const DIALECT_OF_DRIVER: Partial<Record<SqlDriver, SqlDialect>> = {
  native_mysql: 'mysql',
  mysql: 'mysql',
  native_pgsql: 'pgsql',
  pgsql: 'pgsql',
  sqlite: 'sqlite',
  sqlite3: 'sqlite',
  freetds: 'freetds',
  oracle: 'oracle',
  odbc: 'odbc',
};

/** Spellings Gammu's dialect checks also accept for [smsd] SQL. */
const DIALECT_ALIASES: Readonly<Record<string, SqlDialect>> = {
  native_mysql: 'mysql',
  native_pgsql: 'pgsql',
  sqlite3: 'sqlite',
};

function readSmsd(doc: IniDocument, r: SectionReader, cwd: string, warnings: ConfigWarning[]): SmsdSettings {
  const { service, serviceName, impliedDriver } = readService(doc, r, warnings);
  const warnAt = (line: number, key: string, text: string): void => {
    warnings.push(makeWarning(doc.file, line, text, { section: 'smsd', key }));
  };

  let driver: SqlDriver | undefined;
  const driverSrc = r.src('driver');
  if (impliedDriver) {
    driver = impliedDriver;
    if (driverSrc && driverSrc.value.toLowerCase() !== impliedDriver) {
      warnAt(
        driverSrc.line,
        driverSrc.rawKey,
        `${driverSrc.rawKey} = ${driverSrc.value} is ignored: Service = ${serviceName} always uses ${impliedDriver}`,
      );
    }
  } else if (driverSrc) {
    driver = parseEnum(driverSrc, SQL_DRIVERS);
  }
  if (service === 'sql' && driver === undefined) {
    const line = r.src('service')?.line;
    throw new ConfigError(
      `Service = ${serviceName} needs Driver; use native_mysql, native_pgsql, odbc or a libdbi driver ` +
        `(${listWords(SQL_DRIVERS.slice(3))})`,
      { file: doc.file, line, key: 'Driver', allowed: SQL_DRIVERS },
    );
  }

  const sqlSrc = r.src('sql');
  let sqlDialect: SqlDialect | undefined;
  if (sqlSrc) {
    const alias = sqlSrc.value.toLowerCase();
    // Own keys only: `SQL = constructor` must not find Object.prototype.constructor.
    sqlDialect =
      (Object.hasOwn(DIALECT_ALIASES, alias) ? DIALECT_ALIASES[alias] : undefined) ??
      parseEnum(sqlSrc, SQL_DIALECTS);
  } else if (driver !== undefined) {
    sqlDialect = DIALECT_OF_DRIVER[driver];
  }

  const host = r.src('host');
  const pc = r.src('pc');
  if (host && pc)
    warnAt(pc.line, pc.rawKey, `${pc.rawKey} is ignored because Host is set (line ${host.line})`);

  const backend = r.int('backendretries', 10, {});
  const backendSrc = r.src('backendretries');
  if (backendSrc && backend < 1) {
    warnAt(
      backendSrc.line,
      backendSrc.rawKey,
      `${backendSrc.rawKey} = ${backend} is too low; using 1 (as Gammu does)`,
    );
  }

  const outboxPath = r.path('outboxpath') ?? resolveConfigPath('', cwd);
  const sentSmsPath = r.path('sentsmspath') ?? outboxPath;

  return {
    service,
    serviceName,
    logFile: r.str('logfile'),
    logFacility: r.oneOf('logfacility', LOG_FACILITIES, 'DAEMON'),
    debugLevel: r.int('debuglevel', 0, { min: 0 }),
    pin: r.str('pin'),
    networkCode: r.str('networkcode'),
    phoneCode: r.str('phonecode'),
    commTimeout: r.int('commtimeout', 30),
    sendTimeout: r.int('sendtimeout', 30),
    receiveFrequency: r.int('receivefrequency', 15),
    statusFrequency: r.int('statusfrequency', 60),
    loopSleep: r.int('loopsleep', 1),
    multipartTimeout: r.int('multiparttimeout', 600),
    resetFrequency: r.int('resetfrequency', 0),
    hardResetFrequency: r.int('hardresetfrequency', 0),
    retryTimeout: r.int('retrytimeout', 600),
    deliveryReportDelay: r.int('deliveryreportdelay', 600),
    checkSecurity: r.bool('checksecurity', true),
    checkBattery: r.bool('checkbattery', true),
    checkSignal: r.bool('checksignal', true),
    checkNetwork: r.bool('checknetwork', true),
    hangupCalls: r.bool('hangupcalls', false),
    send: r.bool('send', true),
    receive: r.bool('receive', true),
    maxRetries: r.int('maxretries', 1, { min: 0 }),
    backendRetries: Math.max(1, backend),
    deliveryReport: r.oneOf('deliveryreport', DELIVERY_REPORT_MODES, 'no'),
    phoneId: r.str('phoneid') ?? '',
    ownNumber: r.str('ownnumber'),
    metricsListen: r.str('metricslisten'),
    statePath: r.path('statepath'),
    smsc: r.str('smsc'),
    skipSmscNumber: r.str('skipsmscnumber') ?? '',
    runOnReceive: r.str('runonreceive'),
    runOnFailure: r.str('runonfailure'),
    runOnSent: r.str('runonsent'),
    runOnIncomingCall: r.str('runonincomingcall'),
    includeNumbersFile: r.path('includenumbersfile'),
    excludeNumbersFile: r.path('excludenumbersfile'),
    includeSmscFile: r.path('includesmscfile'),
    excludeSmscFile: r.path('excludesmscfile'),
    inboxPath: r.path('inboxpath') ?? resolveConfigPath('', cwd),
    outboxPath,
    sentSmsPath,
    errorSmsPath: r.path('errorsmspath') ?? sentSmsPath,
    inboxFormat: r.oneOf('inboxformat', INBOX_FORMATS, 'standard'),
    outboxFormat: r.oneOf('outboxformat', OUTBOX_FORMATS, 'detail'),
    transmitFormat: r.oneOf('transmitformat', TRANSMIT_FORMATS, '7bit'),
    driver,
    sqlDialect,
    host: (host ?? pc)?.value ?? 'localhost',
    user: r.str('user') ?? 'root',
    password: r.str('password') ?? '',
    database: r.str('database') ?? 'sms',
    driversPath: r.str('driverspath'),
    dbDir: r.str('dbdir'),
  };
}

/**
 * Parse SMSD config text. Pure apart from reading `process.cwd()` when `options.cwd` is not given;
 * `fileName` is only used in messages. Throws ConfigError for a bad line or value.
 */
export function parseSmsdConfig(
  text: string,
  fileName: string,
  options: ParseSmsdOptions = {},
): SmsdConfigResult {
  const cwd = options.cwd ?? process.cwd();
  const { document: doc, warnings } = parseIni(text, fileName, {
    isListSection: (name) => LIST_SECTIONS.includes(name),
    isRawSection,
  });
  if (doc.sections.length === 0) {
    // Gammu: "Could not parse config file"; most likely -c points at the wrong file.
    throw new ConfigError('no [sections] found; expected at least [gammu] and [smsd]', { file: fileName });
  }
  checkSectionsAndKeys(doc, warnings);

  if (!doc.has('gammu')) {
    warnings.push(
      makeWarning(
        fileName,
        undefined,
        `no [gammu] section; using Device = ${DEFAULT_DEVICE}, Connection = at (gammu-smsd refuses to start without it)`,
      ),
    );
  }
  if (!doc.has('smsd')) {
    warnings.push(
      makeWarning(
        fileName,
        undefined,
        'no [smsd] section; using the defaults (Service = files, spool in the current directory)',
      ),
    );
  }

  const gammu = readGammu(doc, new SectionReader(doc, 'gammu', cwd, warnings), warnings);
  const smsd = readSmsd(doc, new SectionReader(doc, 'smsd', cwd, warnings), cwd, warnings);

  const sql: Partial<Record<SqlQueryName, string>> = {};
  for (const name of SQL_QUERY_NAMES) {
    const query = doc.value('sql', name);
    if (query !== undefined) sql[name] = query;
  }
  const tables = Object.fromEntries(SQL_TABLE_NAMES.map((t) => [t, doc.value('tables', t) ?? t])) as Record<
    SqlTableName,
    string
  >;

  const config: SmsdConfig = {
    gammu,
    smsd,
    includeNumbers: doc.values('include_numbers'),
    excludeNumbers: doc.values('exclude_numbers'),
    includeSmsc: doc.values('include_smsc'),
    excludeSmsc: doc.values('exclude_smsc'),
    sql,
    tables,
    smppd: doc.sections.filter((s) => isSmppdSection(s.name)),
    kannel: doc.sections.filter((s) => s.name === 'kannel'),
    outlets: doc.sections.filter((s) => OUTLET_SECTIONS.includes(s.name)),
    file: fileName,
  };
  // Stable sort: file-level warnings (no line) last.
  warnings.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  return { config, warnings };
}

/** "no such file or directory (ENOENT)" from a Node system error. */
function osReason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // Node's message is "ENOENT: no such file or directory, open '/x'"; keep the middle part.
    const text = err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
    return code ? `${text} (${code})` : text;
  }
  return String(err);
}

function readConfigFile(file: string, shownAs: string): { text: string; warnings: ConfigWarning[] } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`cannot read config file: ${osReason(err)}`, { file: shownAs, cause: err });
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), warnings: [] };
  } catch {
    // Not UTF-8 (decoding only, no I/O). Gammu works on bytes; an old Latin-1 file must not become U+FFFD soup in passwords or paths.
    return {
      text: bytes.toString('latin1'),
      warnings: [makeWarning(shownAs, undefined, 'file is not valid UTF-8; read as Latin-1')],
    };
  }
}

/**
 * Load the SMSD config from `configPath` (as given with -c; relative to `options.cwd`), or, without
 * it, from the first file of the search order documented at findConfig, or the built-in default.
 * Throws ConfigError for an unreadable file or a bad line or value.
 */
export function loadSmsdConfig(configPath?: string, options: LoadSmsdOptions = {}): LoadedSmsdConfig {
  const cwd = options.cwd ?? process.cwd();
  let file = configPath;
  if (file === undefined) {
    const found = findConfig(cwd, options.env ?? process.env, options);
    if (found.builtin || found.path === undefined) {
      return {
        ...parseSmsdConfig(
          builtinConfigText(defaultSpool(options.env ? { env: options.env } : {}).dir),
          BUILTIN_SOURCE,
          { cwd },
        ),
        source: BUILTIN_SOURCE,
      };
    }
    file = found.path;
  }
  const { text, warnings: readWarnings } = readConfigFile(path.resolve(cwd, file), file);
  const result = parseSmsdConfig(text, file, { cwd });
  return { config: result.config, warnings: [...readWarnings, ...result.warnings], source: file };
}

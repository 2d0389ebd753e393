/** The SMSD configuration's value lists and types (read by smsd-config.ts, used by every command). */
import type { ConfigWarning } from './errors.js';
import type { IniSection } from './ini.js';
import type { ConfigEnv, FindConfigOptions } from './locate.js';
import type { ConfigPath } from './values.js';

export const SMSD_SERVICES = ['files', 'null', 'sql'] as const;
export type SmsdService = (typeof SMSD_SERVICES)[number];

export const DELIVERY_REPORT_MODES = ['no', 'log', 'sms'] as const;
export type DeliveryReportMode = (typeof DELIVERY_REPORT_MODES)[number];

export const INBOX_FORMATS = ['standard', 'unicode', 'detail'] as const;
export type InboxFormat = (typeof INBOX_FORMATS)[number];

export const OUTBOX_FORMATS = ['detail', 'unicode', 'standard'] as const;
export type OutboxFormat = (typeof OUTBOX_FORMATS)[number];

export const TRANSMIT_FORMATS = ['auto', 'unicode', '7bit'] as const;
export type TransmitFormat = (typeof TRANSMIT_FORMATS)[number];

export const LOG_FACILITIES = [
  'DAEMON',
  'USER',
  'LOCAL0',
  'LOCAL1',
  'LOCAL2',
  'LOCAL3',
  'LOCAL4',
  'LOCAL5',
  'LOCAL6',
  'LOCAL7',
] as const;
export type LogFacility = (typeof LOG_FACILITIES)[number];

/** libgammu debug formats ([gammu] LogFormat). */
export const GAMMU_LOG_FORMATS = [
  'nothing',
  'text',
  'textall',
  'textdate',
  'textalldate',
  'errors',
  'errorsdate',
  'binary',
] as const;
export type GammuLogFormat = (typeof GAMMU_LOG_FORMATS)[number];

/** Gammu's SQL drivers: its native ones, ODBC, and the libdbi driver names. */
export const SQL_DRIVERS = [
  'native_mysql',
  'native_pgsql',
  'odbc',
  'db2',
  'firebird',
  'freetds',
  'ingres',
  'msql',
  'mysql',
  'oracle',
  'pgsql',
  'sqlite',
  'sqlite3',
] as const;
export type SqlDriver = (typeof SQL_DRIVERS)[number];

/** SQL dialects Gammu adapts its queries to ([smsd] SQL, else derived from the driver). */
export const SQL_DIALECTS = [
  'mysql',
  'pgsql',
  'sqlite',
  'mssql',
  'sybase',
  'freetds',
  'access',
  'oracle',
  'odbc',
] as const;
export type SqlDialect = (typeof SQL_DIALECTS)[number];

/** Query names accepted in [sql] (Gammu 1.42 and 1.44). */
export const SQL_QUERY_NAMES = [
  'delete_phone',
  'insert_phone',
  'save_inbox_sms_select',
  'save_inbox_sms_update_delivered',
  'save_inbox_sms_update',
  'save_inbox_sms_insert',
  'save_inbox_sms_update_metadata',
  'restore_inbox_groups',
  'update_received',
  'refresh_send_status',
  'update_retries',
  'find_outbox_sms_id',
  'find_outbox_body',
  'find_outbox_multipart',
  'find_sent_item',
  'delete_outbox',
  'delete_outbox_multipart',
  'create_outbox',
  'create_outbox_multipart',
  'update_outbox',
  'update_outbox_multipart',
  'update_outbox_statuscode',
  'update_outbox_multipart_statuscode',
  'add_sent_info',
  'update_sent',
  'refresh_phone_status',
] as const;
export type SqlQueryName = (typeof SQL_QUERY_NAMES)[number];

/** Tables that [tables] may rename. */
export const SQL_TABLE_NAMES = [
  'gammu',
  'inbox',
  'sentitems',
  'outbox',
  'outbox_multipart',
  'phones',
] as const;
export type SqlTableName = (typeof SQL_TABLE_NAMES)[number];

/** [gammu]: the phone connection (same keys as ~/.gammurc). */
export interface GammuConfig {
  /** Device (alias Port); Gammu's default /dev/ttyUSB0. */
  device: string;
  /** Protocol, lower-cased: `at`, `at115200`, `fbus`, ...; default `at`. */
  connection: string;
  /** Forced model; '' = auto-detect (also for `Model = auto`). */
  model: string;
  /** Use_Locking: UUCP lock files on the serial device. */
  useLocking: boolean;
  synchronizeTime: boolean;
  startInfo: boolean;
  /** libgammu debug log (SMSD itself uses [smsd] LogFile). */
  logFile: string | undefined;
  logFormat: GammuLogFormat | undefined;
  /** Feature flag names, as written. */
  features: string[];
  gammuCoding: string | undefined;
  gammuLoc: string | undefined;
  dataPath: string | undefined;
  /** atgen_setCNMI: AT+CNMI override, e.g. `1,2,,2`. */
  atgenSetCnmi: string | undefined;
}

/** [smsd]: daemon, FILES and SQL keys, with Gammu's defaults. */
export interface SmsdSettings {
  service: SmsdService;
  /** Service as written (e.g. `MYSQL` for a deprecated alias); '' when unset. */
  serviceName: string;

  /** `syslog`, `stderr`, `stdout`, `eventlog` or a file path; undefined = no log. */
  logFile: string | undefined;
  logFacility: LogFacility;
  /** Bitmask: 1 basic, 2 SQL, 4 libgammu. */
  debugLevel: number;

  pin: string | undefined;
  networkCode: string | undefined;
  phoneCode: string | undefined;

  /** Seconds. */
  commTimeout: number;
  sendTimeout: number;
  receiveFrequency: number;
  statusFrequency: number;
  loopSleep: number;
  multipartTimeout: number;
  resetFrequency: number;
  hardResetFrequency: number;
  retryTimeout: number;
  deliveryReportDelay: number;

  checkSecurity: boolean;
  checkBattery: boolean;
  checkSignal: boolean;
  checkNetwork: boolean;
  hangupCalls: boolean;
  send: boolean;
  receive: boolean;

  maxRetries: number;
  /** At least 1 (Gammu forces lower values to 1). */
  backendRetries: number;

  deliveryReport: DeliveryReportMode;
  phoneId: string;
  /** smsgate: the modem's own number (the destination of what it receives; MO routing of smppd). */
  ownNumber: string | undefined;
  /** smsgate: `host:port` of a Prometheus metrics endpoint of smsd run (unset: none). */
  metricsListen: string | undefined;
  /** smsgate: the folder of `status/` and `reports/` (default: the parent of OutboxPath). */
  statePath: ConfigPath | undefined;
  smsc: string | undefined;
  skipSmscNumber: string;

  runOnReceive: string | undefined;
  runOnFailure: string | undefined;
  runOnSent: string | undefined;
  runOnIncomingCall: string | undefined;

  includeNumbersFile: ConfigPath | undefined;
  excludeNumbersFile: ConfigPath | undefined;
  includeSmscFile: ConfigPath | undefined;
  excludeSmscFile: ConfigPath | undefined;

  // FILES backend. Unset paths mean the current directory, as in Gammu.
  inboxPath: ConfigPath;
  outboxPath: ConfigPath;
  /** Defaults to outboxPath (then sent files are deleted). */
  sentSmsPath: ConfigPath;
  /** Defaults to sentSmsPath. */
  errorSmsPath: ConfigPath;
  inboxFormat: InboxFormat;
  outboxFormat: OutboxFormat;
  /** Gammu's code default is 7bit (its docs say auto). */
  transmitFormat: TransmitFormat;

  // SQL backend.
  /** Set for Service = sql (native_mysql / native_pgsql for the deprecated mysql / pgsql services). */
  driver: SqlDriver | undefined;
  /** [smsd] SQL, else derived from the driver; undefined when Gammu would use its generic SQL. */
  sqlDialect: SqlDialect | undefined;
  /** Host (alias PC): server, `host:port`, `host:/socket`, or the ODBC DSN. */
  host: string;
  user: string;
  password: string;
  database: string;
  driversPath: string | undefined;
  dbDir: string | undefined;
}

export interface SmsdConfig {
  gammu: GammuConfig;
  smsd: SmsdSettings;
  /** Values of [include_numbers] etc. (keys ignored); the *File lists are merged by their consumer. */
  includeNumbers: string[];
  excludeNumbers: string[];
  includeSmsc: string[];
  excludeSmsc: string[];
  /** [sql] query overrides. */
  sql: Partial<Record<SqlQueryName, string>>;
  /** [tables] renames, with the default names filled in. */
  tables: Record<SqlTableName, string>;
  /** [smppd] and [smppd*] sections, raw (defined by the smppd configuration). */
  smppd: IniSection[];
  /** [kannel] sections, raw (read by the Kannel outlet, src/lib/outlets/kannel/config.ts). */
  kannel: IniSection[];
  /** [upstream] and [kannel], raw (read by the outlet that `Connection` names). */
  outlets: IniSection[];
  /** The config file as shown in messages (for `file:line` in the outlets' errors). */
  file: string;
}

export interface SmsdConfigResult {
  config: SmsdConfig;
  /** Sorted by line. */
  warnings: ConfigWarning[];
}

export interface LoadedSmsdConfig extends SmsdConfigResult {
  /** The file read, or `(built-in default)`. */
  source: string;
}

export interface ParseSmsdOptions {
  /** Base of relative paths; default process.cwd(). */
  cwd?: string;
}

export interface LoadSmsdOptions extends ParseSmsdOptions, FindConfigOptions {
  /** Environment for the config search; default process.env. */
  env?: ConfigEnv;
}

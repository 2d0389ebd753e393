/**
 * Gammu's tables at schema version 17 (Gammu 1.42, Debian 12) and 18 (Gammu 1.44), for MySQL/MariaDB
 * and PostgreSQL. Our own DDL with Gammu's column names, types and defaults (so Gammu's daemon,
 * its injector and the web front ends that read these tables work on it), plus: InnoDB (row locks
 * and transactions; Gammu's file says MyISAM) and an index in the outbox's sending order, so taking
 * the next message does not sort the whole queue.
 */
import type { SqlTableName } from '../../config/smsd-config.js';
import type { SqlConnection, SqlDialect } from './connection.js';
import { SUPPORTED_VERSIONS, quoteField, type SchemaVersion } from './queries.js';
import { sqliteDdl, sqliteUpgradeStatements } from './sqlite-schema.js';

export const LATEST_VERSION: SchemaVersion = 18;

type Tables = Record<SqlTableName, string>;

/** Gammu's index names are `<table>_<what>`; derived from the table, so renamed tables get their own. */
const ix = (table: string, what: string): string => `${table.replace(/\W/g, '_')}_${what}`;

const CODINGS = `'Default_No_Compression','Unicode_No_Compression','8bit','Default_Compression','Unicode_Compression'`;
const STATUSES = `'SendingOK','SendingOKNoReport','SendingError','DeliveryOK','DeliveryFailed','DeliveryPending','DeliveryUnknown','Error'`;

function mysqlDdl(t: Tables, v: SchemaVersion): string[] {
  const ts = 'timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP';
  const upd = `${ts} ON UPDATE CURRENT_TIMESTAMP`;
  const coding = `enum(${CODINGS}) NOT NULL DEFAULT 'Default_No_Compression'`;
  const tail = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4';
  const v18 = v >= 18;
  return [
    `CREATE TABLE ${t.gammu} (\`Version\` integer NOT NULL DEFAULT '0' PRIMARY KEY) ${tail}`,
    `INSERT INTO ${t.gammu} (\`Version\`) VALUES (${v})`,
    `CREATE TABLE ${t.inbox} (
  \`UpdatedInDB\` ${upd},
  \`ReceivingDateTime\` ${ts},
  ${v18 ? `\`InsertIntoDB\` ${ts},` : ''}
  \`Text\` text NOT NULL,
  \`SenderNumber\` varchar(20) NOT NULL DEFAULT '',
  \`Coding\` ${coding},
  \`UDH\` text NOT NULL,
  \`SMSCNumber\` varchar(20) NOT NULL DEFAULT '',
  \`Class\` integer NOT NULL DEFAULT '-1',
  \`TextDecoded\` text NOT NULL,
  \`ID\` integer unsigned NOT NULL AUTO_INCREMENT,
  ${v18 ? `\`MessageID\` integer unsigned NOT NULL DEFAULT '0', \`SequencePosition\` integer NOT NULL DEFAULT '1', \`PartCount\` integer NOT NULL DEFAULT '1',` : ''}
  \`RecipientID\` text NOT NULL,
  \`Processed\` enum('false','true') NOT NULL DEFAULT 'false',
  \`Status\` integer NOT NULL DEFAULT '-1',
  PRIMARY KEY (\`ID\`)
) ${tail}`,
    ...(v18
      ? [
          `CREATE INDEX ${ix(t.inbox, 'message')} ON ${t.inbox} (\`MessageID\`, \`SequencePosition\`)`,
          `CREATE INDEX ${ix(t.inbox, 'insert')} ON ${t.inbox} (\`InsertIntoDB\`)`,
        ]
      : []),
    `CREATE TABLE ${t.outbox} (
  \`UpdatedInDB\` ${upd},
  \`InsertIntoDB\` ${ts},
  \`SendingDateTime\` ${ts},
  \`SendBefore\` time NOT NULL DEFAULT '23:59:59',
  \`SendAfter\` time NOT NULL DEFAULT '00:00:00',
  ${v18 ? `\`SendDays\` integer NOT NULL DEFAULT '127',` : ''}
  \`Text\` text,
  \`DestinationNumber\` varchar(20) NOT NULL DEFAULT '',
  \`Coding\` ${coding},
  \`UDH\` text,
  \`Class\` integer DEFAULT '-1',
  \`TextDecoded\` text NOT NULL,
  \`ID\` integer unsigned NOT NULL AUTO_INCREMENT,
  \`MultiPart\` enum('false','true') DEFAULT 'false',
  \`RelativeValidity\` integer DEFAULT '-1',
  \`SenderID\` varchar(255),
  \`SendingTimeOut\` timestamp NULL DEFAULT CURRENT_TIMESTAMP,
  \`DeliveryReport\` enum('default','yes','no') DEFAULT 'default',
  \`CreatorID\` text NOT NULL,
  \`Retries\` int(3) DEFAULT 0,
  \`Priority\` integer DEFAULT 0,
  \`Status\` enum(${STATUSES},'Reserved') NOT NULL DEFAULT 'Reserved',
  \`StatusCode\` integer NOT NULL DEFAULT '-1',
  PRIMARY KEY (\`ID\`)
) ${tail}`,
    `CREATE INDEX ${ix(t.outbox, 'date')} ON ${t.outbox} (\`SendingDateTime\`, \`SendingTimeOut\`)`,
    `CREATE INDEX ${ix(t.outbox, 'sender')} ON ${t.outbox} (\`SenderID\`(250))`,
    `CREATE INDEX ${ix(t.outbox, 'order')} ON ${t.outbox} (\`Priority\` DESC, \`InsertIntoDB\`, \`ID\`)`,
    `CREATE TABLE ${t.outbox_multipart} (
  \`Text\` text,
  \`Coding\` ${coding},
  \`UDH\` text,
  \`Class\` integer DEFAULT '-1',
  \`TextDecoded\` text,
  \`ID\` integer unsigned NOT NULL DEFAULT '0',
  \`SequencePosition\` integer NOT NULL DEFAULT '1',
  \`Status\` enum(${STATUSES},'Reserved') NOT NULL DEFAULT 'Reserved',
  \`StatusCode\` integer NOT NULL DEFAULT '-1',
  PRIMARY KEY (\`ID\`, \`SequencePosition\`)
) ${tail}`,
    `CREATE TABLE ${t.phones} (
  \`ID\` text NOT NULL,
  \`UpdatedInDB\` ${upd},
  \`InsertIntoDB\` ${ts},
  \`TimeOut\` ${ts},
  \`Send\` enum('yes','no') NOT NULL DEFAULT 'no',
  \`Receive\` enum('yes','no') NOT NULL DEFAULT 'no',
  \`IMEI\` varchar(35) NOT NULL,
  \`IMSI\` varchar(35) NOT NULL,
  \`NetCode\` varchar(10) DEFAULT 'ERROR',
  \`NetName\` varchar(35) DEFAULT 'ERROR',
  \`Client\` text NOT NULL,
  \`Battery\` integer NOT NULL DEFAULT -1,
  \`Signal\` integer NOT NULL DEFAULT -1,
  \`Sent\` int NOT NULL DEFAULT 0,
  \`Received\` int NOT NULL DEFAULT 0,
  PRIMARY KEY (\`IMEI\`)
) ${tail}`,
    `CREATE TABLE ${t.sentitems} (
  \`UpdatedInDB\` ${upd},
  \`InsertIntoDB\` ${ts},
  \`SendingDateTime\` ${ts},
  \`DeliveryDateTime\` timestamp NULL,
  \`Text\` text NOT NULL,
  \`DestinationNumber\` varchar(20) NOT NULL DEFAULT '',
  \`Coding\` ${coding},
  \`UDH\` text NOT NULL,
  \`SMSCNumber\` varchar(20) NOT NULL DEFAULT '',
  \`Class\` integer NOT NULL DEFAULT '-1',
  \`TextDecoded\` text NOT NULL,
  \`ID\` integer unsigned NOT NULL DEFAULT '0',
  \`SenderID\` varchar(255) NOT NULL,
  \`SequencePosition\` integer NOT NULL DEFAULT '1',
  \`Status\` enum(${STATUSES}) NOT NULL DEFAULT 'SendingOK',
  \`StatusError\` integer NOT NULL DEFAULT '-1',
  \`TPMR\` integer NOT NULL DEFAULT '-1',
  \`RelativeValidity\` integer NOT NULL DEFAULT '-1',
  \`CreatorID\` text NOT NULL,
  \`StatusCode\` integer NOT NULL DEFAULT '-1',
  PRIMARY KEY (\`ID\`, \`SequencePosition\`)
) ${tail}`,
    `CREATE INDEX ${ix(t.sentitems, 'date')} ON ${t.sentitems} (\`DeliveryDateTime\`)`,
    `CREATE INDEX ${ix(t.sentitems, 'tpmr')} ON ${t.sentitems} (\`TPMR\`)`,
    `CREATE INDEX ${ix(t.sentitems, 'dest')} ON ${t.sentitems} (\`DestinationNumber\`)`,
    `CREATE INDEX ${ix(t.sentitems, 'sender')} ON ${t.sentitems} (\`SenderID\`(250))`,
  ];
}

function pgDdl(t: Tables, v: SchemaVersion): string[] {
  const ts = 'timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)';
  const coding = `varchar(255) NOT NULL DEFAULT 'Default_No_Compression' CHECK ("Coding" IN (${CODINGS}))`;
  const v18 = v >= 18;
  const trigger = (table: string): string =>
    `CREATE TRIGGER update_timestamp BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE PROCEDURE update_timestamp()`;
  return [
    `CREATE OR REPLACE FUNCTION update_timestamp() RETURNS trigger AS $update_timestamp$
  BEGIN
    NEW."UpdatedInDB" := LOCALTIMESTAMP(0);
    RETURN NEW;
  END;
$update_timestamp$ LANGUAGE plpgsql`,
    `CREATE TABLE ${t.gammu} ("Version" smallint NOT NULL DEFAULT '0' PRIMARY KEY)`,
    `INSERT INTO ${t.gammu} ("Version") VALUES (${v})`,
    `CREATE TABLE ${t.inbox} (
  "UpdatedInDB" ${ts},
  "ReceivingDateTime" ${ts},
  ${v18 ? `"InsertIntoDB" ${ts},` : ''}
  "Text" text NOT NULL,
  "SenderNumber" varchar(20) NOT NULL DEFAULT '',
  "Coding" ${coding},
  "UDH" text NOT NULL,
  "SMSCNumber" varchar(20) NOT NULL DEFAULT '',
  "Class" integer NOT NULL DEFAULT '-1',
  "TextDecoded" text NOT NULL DEFAULT '',
  "ID" serial PRIMARY KEY,
  ${v18 ? `"MessageID" integer NOT NULL DEFAULT '0', "SequencePosition" integer NOT NULL DEFAULT '1', "PartCount" integer NOT NULL DEFAULT '1',` : ''}
  "RecipientID" text NOT NULL,
  "Processed" boolean NOT NULL DEFAULT 'false',
  "Status" integer NOT NULL DEFAULT '-1'
)`,
    ...(v18
      ? [
          `CREATE INDEX ${ix(t.inbox, 'message')} ON ${t.inbox} ("MessageID", "SequencePosition")`,
          `CREATE INDEX ${ix(t.inbox, 'insert')} ON ${t.inbox} ("InsertIntoDB")`,
        ]
      : []),
    trigger(t.inbox),
    `CREATE TABLE ${t.outbox} (
  "UpdatedInDB" ${ts},
  "InsertIntoDB" ${ts},
  "SendingDateTime" timestamp NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "SendBefore" time NOT NULL DEFAULT '23:59:59',
  "SendAfter" time NOT NULL DEFAULT '00:00:00',
  ${v18 ? `"SendDays" integer NOT NULL DEFAULT '127',` : ''}
  "Text" text,
  "DestinationNumber" varchar(20) NOT NULL DEFAULT '',
  "Coding" ${coding},
  "UDH" text,
  "Class" integer DEFAULT '-1',
  "TextDecoded" text NOT NULL DEFAULT '',
  "ID" serial PRIMARY KEY,
  "MultiPart" boolean NOT NULL DEFAULT 'false',
  "RelativeValidity" integer DEFAULT '-1',
  "SenderID" varchar(255),
  "SendingTimeOut" ${ts},
  "DeliveryReport" varchar(10) DEFAULT 'default' CHECK ("DeliveryReport" IN ('default','yes','no')),
  "CreatorID" text NOT NULL,
  "Retries" integer DEFAULT '0',
  "Priority" integer DEFAULT '0',
  "Status" varchar(255) NOT NULL DEFAULT 'Reserved' CHECK ("Status" IN (${STATUSES},'Reserved')),
  "StatusCode" integer NOT NULL DEFAULT '-1'
)`,
    `CREATE INDEX ${ix(t.outbox, 'date')} ON ${t.outbox} ("SendingDateTime", "SendingTimeOut")`,
    `CREATE INDEX ${ix(t.outbox, 'sender')} ON ${t.outbox} ("SenderID")`,
    `CREATE INDEX ${ix(t.outbox, 'order')} ON ${t.outbox} ("Priority" DESC, "InsertIntoDB", "ID")`,
    trigger(t.outbox),
    `CREATE TABLE ${t.outbox_multipart} (
  "Text" text,
  "Coding" ${coding},
  "UDH" text,
  "Class" integer DEFAULT '-1',
  "TextDecoded" text DEFAULT NULL,
  "ID" integer NOT NULL,
  "SequencePosition" integer NOT NULL DEFAULT '1',
  "Status" varchar(255) NOT NULL DEFAULT 'Reserved' CHECK ("Status" IN (${STATUSES},'Reserved')),
  "StatusCode" integer NOT NULL DEFAULT '-1',
  PRIMARY KEY ("ID", "SequencePosition")
)`,
    `CREATE TABLE ${t.phones} (
  "ID" text NOT NULL,
  "UpdatedInDB" ${ts},
  "InsertIntoDB" ${ts},
  "TimeOut" ${ts},
  "Send" boolean NOT NULL DEFAULT 'no',
  "Receive" boolean NOT NULL DEFAULT 'no',
  "IMEI" varchar(35) PRIMARY KEY NOT NULL,
  "IMSI" varchar(35) NOT NULL,
  "NetCode" varchar(10) DEFAULT 'ERROR',
  "NetName" varchar(35) DEFAULT 'ERROR',
  "Client" text NOT NULL,
  "Battery" integer NOT NULL DEFAULT -1,
  "Signal" integer NOT NULL DEFAULT -1,
  "Sent" integer NOT NULL DEFAULT 0,
  "Received" integer NOT NULL DEFAULT 0
)`,
    trigger(t.phones),
    `CREATE TABLE ${t.sentitems} (
  "UpdatedInDB" ${ts},
  "InsertIntoDB" ${ts},
  "SendingDateTime" ${ts},
  "DeliveryDateTime" timestamp(0) WITHOUT time zone NULL,
  "Text" text NOT NULL,
  "DestinationNumber" varchar(20) NOT NULL DEFAULT '',
  "Coding" ${coding},
  "UDH" text NOT NULL,
  "SMSCNumber" varchar(20) NOT NULL DEFAULT '',
  "Class" integer NOT NULL DEFAULT '-1',
  "TextDecoded" text NOT NULL DEFAULT '',
  "ID" integer NOT NULL,
  "SenderID" varchar(255) NOT NULL,
  "SequencePosition" integer NOT NULL DEFAULT '1',
  "Status" varchar(255) NOT NULL DEFAULT 'SendingOK' CHECK ("Status" IN (${STATUSES})),
  "StatusError" integer NOT NULL DEFAULT '-1',
  "TPMR" integer NOT NULL DEFAULT '-1',
  "RelativeValidity" integer NOT NULL DEFAULT '-1',
  "CreatorID" text NOT NULL,
  "StatusCode" integer NOT NULL DEFAULT '-1',
  PRIMARY KEY ("ID", "SequencePosition")
)`,
    `CREATE INDEX ${ix(t.sentitems, 'date')} ON ${t.sentitems} ("DeliveryDateTime")`,
    `CREATE INDEX ${ix(t.sentitems, 'tpmr')} ON ${t.sentitems} ("TPMR")`,
    `CREATE INDEX ${ix(t.sentitems, 'dest')} ON ${t.sentitems} ("DestinationNumber")`,
    `CREATE INDEX ${ix(t.sentitems, 'sender')} ON ${t.sentitems} ("SenderID")`,
    trigger(t.sentitems),
  ];
}

/** The statements that create every table at `version` (index names get the table's name when renamed). */
export function schemaStatements(dialect: SqlDialect, tables: Tables, version: SchemaVersion): string[] {
  if (dialect === 'sqlite') return sqliteDdl(tables, version);
  return dialect === 'mysql' ? mysqlDdl(tables, version) : pgDdl(tables, version);
}

/** 17 -> 18: inbox multipart metadata and InsertIntoDB, outbox SendDays. */
export function upgradeStatements(dialect: SqlDialect, t: Tables, from: number): string[] {
  if (from !== 17) return [];
  if (dialect === 'sqlite') return sqliteUpgradeStatements(t);
  const q = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
  const ts =
    dialect === 'mysql'
      ? 'timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP'
      : 'timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)';
  const add = (table: string, col: string, type: string): string =>
    `ALTER TABLE ${table} ADD COLUMN ${q(col)} ${type}`;
  return [
    add(t.inbox, 'InsertIntoDB', ts),
    add(t.inbox, 'MessageID', "integer NOT NULL DEFAULT '0'"),
    add(t.inbox, 'SequencePosition', "integer NOT NULL DEFAULT '1'"),
    add(t.inbox, 'PartCount', "integer NOT NULL DEFAULT '1'"),
    add(t.outbox, 'SendDays', "integer NOT NULL DEFAULT '127'"),
    `CREATE INDEX ${ix(t.inbox, 'message')} ON ${t.inbox} (${q('MessageID')}, ${q('SequencePosition')})`,
    `CREATE INDEX ${ix(t.inbox, 'insert')} ON ${t.inbox} (${q('InsertIntoDB')})`,
    `UPDATE ${t.gammu} SET ${q('Version')} = 18`,
  ];
}

/** MySQL ER_NO_SUCH_TABLE, PostgreSQL undefined_table, SQLite's "no such table" (a plain SQLITE_ERROR). */
function isNoSuchTable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ER_NO_SUCH_TABLE' || e.code === '42P01') return true;
  return e.code === 'SQLITE_ERROR' && /no such table/.test(e.message ?? '');
}

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

/** Reads the Version row; undefined when the gammu table does not exist. */
export async function readSchemaVersion(conn: SqlConnection, t: Tables): Promise<number | undefined> {
  const f = (n: string): string => quoteField(conn.dialect, n);
  try {
    const r = await conn.query(`SELECT ${f('Version')} FROM ${t.gammu}`);
    const v = r.rows[0]?.[0];
    return v === undefined ? Number.NaN : Number(v);
  } catch (err) {
    if (isNoSuchTable(err)) return undefined;
    throw err;
  }
}

/** Gammu's check (SMSD_CheckDBVersion): an older or newer schema stops the daemon. */
export function checkSchemaVersion(version: number | undefined, table: string): SchemaVersion {
  if (version === undefined)
    throw new SchemaError(
      `Table ${table} not found: the database has no Gammu tables; create them with: smsd db init -c CONFIG`,
    );
  if (Number.isNaN(version))
    throw new SchemaError(`Table ${table} has no Version row; the Gammu schema is incomplete`);
  if (SUPPORTED_VERSIONS.includes(version as SchemaVersion)) return version as SchemaVersion;
  if (version < Math.min(...SUPPORTED_VERSIONS))
    throw new SchemaError(
      `Database structures version: ${version}, SMSD current version: ${LATEST_VERSION}. Database structure is from older Gammu version; upgrade it (smsd db upgrade -c CONFIG upgrades 17 to 18; older ones with Gammu's own scripts)`,
    );
  throw new SchemaError(
    `Database structures version: ${version}, SMSD current version: ${LATEST_VERSION}. Database structure is from newer Gammu version`,
  );
}

/** Creates every table at `version`; refuses when a Gammu schema is already there. */
export async function initSchema(conn: SqlConnection, t: Tables, version: SchemaVersion): Promise<void> {
  const existing = await readSchemaVersion(conn, t);
  if (existing !== undefined)
    throw new SchemaError(
      `The database already has a Gammu schema (table ${t.gammu}, version ${existing}); use smsd db upgrade`,
    );
  const stmts = schemaStatements(conn.dialect, t, version);
  if (conn.dialect === 'sqlite')
    await conn.transaction(async () => {
      for (const stmt of stmts) await conn.query(stmt);
    });
  else for (const stmt of stmts) await conn.query(stmt);
}

/** Upgrades 17 to 18 (in one transaction on PostgreSQL); returns the versions before and after. */
export async function upgradeSchema(conn: SqlConnection, t: Tables): Promise<{ from: number; to: number }> {
  const from = checkSchemaVersion(await readSchemaVersion(conn, t), t.gammu);
  if (from === LATEST_VERSION) return { from, to: from };
  const stmts = upgradeStatements(conn.dialect, t, from);
  // MySQL commits each ALTER by itself; PostgreSQL and SQLite can do it all or nothing.
  if (conn.dialect !== 'mysql')
    await conn.transaction(async () => {
      for (const s of stmts) await conn.query(s);
    });
  else for (const s of stmts) await conn.query(s);
  return { from, to: LATEST_VERSION };
}

/** Gammu's start-up check that every table can be read; names the missing table. */
export async function checkTables(conn: SqlConnection, t: Tables): Promise<void> {
  for (const key of ['gammu', 'inbox', 'sentitems', 'outbox', 'outbox_multipart', 'phones'] as const) {
    try {
      await conn.query(`SELECT * FROM ${t[key]} LIMIT 1`);
    } catch (err) {
      if (isNoSuchTable(err))
        throw new SchemaError(
          `Table ${t[key]} not found in ${conn.target}${t[key] !== key ? ` ([tables] ${key} = ${t[key]})` : ''}; create the tables with: smsd db init -c CONFIG`,
        );
      throw err;
    }
  }
}

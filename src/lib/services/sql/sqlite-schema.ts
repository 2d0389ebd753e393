/**
 * Gammu's SQLite tables (docs/sql/sqlite.sql): version 17 as Gammu 1.43 creates them, version 18 as
 * 1.44 does. Same column names, declared types (NUMERIC timestamps holding local-time text: libdbi's
 * sqlite3 driver types its results by these declarations), defaults, CHECKs, triggers and index
 * names, so Gammu's daemon and tools and the front ends work on a file we created and the reverse.
 * One addition: an index in the outbox's sending order, so taking the next message reads one index
 * entry instead of sorting the queue.
 */
import type { SqlTableName } from '../../config/smsd-config.js';
import type { SchemaVersion } from './queries.js';

type Tables = Record<SqlTableName, string>;

const NOW = "(datetime('now', 'localtime'))";
const ts = `NUMERIC NOT NULL DEFAULT ${NOW}`;
const CODING_CHECK = `CHECK (Coding IN
  ('Default_No_Compression','Unicode_No_Compression','8bit','Default_Compression','Unicode_Compression'))`;
const STATUSES = `'SendingOK','SendingOKNoReport','SendingError','DeliveryOK','DeliveryFailed','DeliveryPending',
  'DeliveryUnknown','Error'`;

const ix = (table: string, what: string): string => `${table.replace(/\W/g, '_')}_${what}`;

/** Gammu's UpdatedInDB triggers (SQLite has no ON UPDATE default). */
function trigger(table: string, key: string): string {
  return `CREATE TRIGGER ${ix('update', table)}_time UPDATE ON ${table}
  BEGIN
    UPDATE ${table} SET UpdatedInDB = datetime('now', 'localtime') WHERE ${key} = old.${key};
  END`;
}

export function sqliteInboxStatements(t: Tables, v: SchemaVersion): string[] {
  const v18 = v >= 18;
  return [
    `CREATE TABLE ${t.inbox} (
  UpdatedInDB ${ts},
  ReceivingDateTime ${ts},${v18 ? `\n  InsertIntoDB ${ts},` : ''}
  Text TEXT NOT NULL,
  SenderNumber TEXT NOT NULL DEFAULT '',
  Coding TEXT NOT NULL DEFAULT 'Default_No_Compression',
  UDH TEXT NOT NULL,
  SMSCNumber TEXT NOT NULL DEFAULT '',
  Class INTEGER NOT NULL DEFAULT -1,
  TextDecoded TEXT NOT NULL DEFAULT '',
  ID INTEGER PRIMARY KEY AUTOINCREMENT,${v18 ? '\n  MessageID INTEGER NOT NULL DEFAULT 0,\n  SequencePosition INTEGER NOT NULL DEFAULT 1,\n  PartCount INTEGER NOT NULL DEFAULT 1,' : ''}
  RecipientID TEXT NOT NULL,
  Processed TEXT NOT NULL DEFAULT 'false',
  Status INTEGER NOT NULL DEFAULT -1,
  ${CODING_CHECK}
)`,
    ...(v18
      ? [
          `CREATE INDEX ${ix(t.inbox, 'message')} ON ${t.inbox}(MessageID, SequencePosition)`,
          `CREATE INDEX ${ix(t.inbox, 'insert')} ON ${t.inbox}(InsertIntoDB)`,
        ]
      : []),
    trigger(t.inbox, 'ID'),
  ];
}

export function sqliteOutboxStatements(t: Tables, v: SchemaVersion): string[] {
  return [
    `CREATE TABLE ${t.outbox} (
  UpdatedInDB ${ts},
  InsertIntoDB ${ts},
  SendingDateTime ${ts},
  SendBefore time NOT NULL DEFAULT '23:59:59',
  SendAfter time NOT NULL DEFAULT '00:00:00',${v >= 18 ? '\n  SendDays INTEGER NOT NULL DEFAULT 127,' : ''}
  Text TEXT,
  DestinationNumber TEXT NOT NULL DEFAULT '',
  Coding TEXT NOT NULL DEFAULT 'Default_No_Compression',
  UDH TEXT,
  Class INTEGER DEFAULT -1,
  TextDecoded TEXT NOT NULL DEFAULT '',
  ID INTEGER PRIMARY KEY AUTOINCREMENT,
  MultiPart TEXT NOT NULL DEFAULT 'false',
  RelativeValidity INTEGER DEFAULT -1,
  SenderID TEXT,
  SendingTimeOut ${ts},
  DeliveryReport TEXT DEFAULT 'default',
  CreatorID TEXT NOT NULL,
  Retries INTEGER DEFAULT 0,
  Priority INTEGER DEFAULT 0,
  Status TEXT NOT NULL DEFAULT 'Reserved',
  StatusCode INTEGER NOT NULL DEFAULT -1,
  ${CODING_CHECK},
  CHECK (DeliveryReport IN ('default','yes','no')),
  CHECK (Status IN
  (${STATUSES},'Reserved'))
)`,
    `CREATE INDEX ${ix(t.outbox, 'date')} ON ${t.outbox}(SendingDateTime, SendingTimeOut)`,
    `CREATE INDEX ${ix(t.outbox, 'sender')} ON ${t.outbox}(SenderID)`,
    // Ours: find_outbox_sms_id's ORDER BY, so the pick costs the same at 10 or 100,000 queued.
    `CREATE INDEX ${ix(t.outbox, 'order')} ON ${t.outbox}(Priority DESC, InsertIntoDB, ID)`,
    trigger(t.outbox, 'ID'),
  ];
}

/** Every statement that creates Gammu's SQLite tables at `v`. */
export function sqliteDdl(t: Tables, v: SchemaVersion): string[] {
  return [
    `CREATE TABLE ${t.gammu} (
  Version INTEGER NOT NULL DEFAULT 0 PRIMARY KEY
)`,
    `INSERT INTO ${t.gammu} (Version) VALUES (${v})`,
    ...sqliteInboxStatements(t, v),
    ...sqliteOutboxStatements(t, v),
    `CREATE TABLE ${t.outbox_multipart} (
  Text TEXT,
  Coding TEXT NOT NULL DEFAULT 'Default_No_Compression',
  UDH TEXT,
  Class INTEGER DEFAULT -1,
  TextDecoded TEXT DEFAULT NULL,
  ID INTEGER,
  SequencePosition INTEGER NOT NULL DEFAULT 1,
  Status TEXT NOT NULL DEFAULT 'Reserved',
  StatusCode INTEGER NOT NULL DEFAULT -1,
  ${CODING_CHECK},
  CHECK (Status IN
  (${STATUSES},'Reserved')),
 PRIMARY KEY (ID, SequencePosition)
)`,
    `CREATE TABLE ${t.phones} (
  ID TEXT NOT NULL,
  UpdatedInDB ${ts},
  InsertIntoDB ${ts},
  TimeOut ${ts},
  Send TEXT NOT NULL DEFAULT 'no',
  Receive TEXT NOT NULL DEFAULT 'no',
  IMEI TEXT PRIMARY KEY NOT NULL,
  IMSI TEXT NOT NULL,
  NetCode TEXT DEFAULT 'ERROR',
  NetName TEXT DEFAULT 'ERROR',
  Client TEXT NOT NULL,
  Battery INTEGER NOT NULL DEFAULT -1,
  Signal INTEGER NOT NULL DEFAULT -1,
  Sent INTEGER NOT NULL DEFAULT 0,
  Received INTEGER NOT NULL DEFAULT 0
)`,
    trigger(t.phones, 'IMEI'),
    `CREATE TABLE ${t.sentitems} (
  UpdatedInDB ${ts},
  InsertIntoDB ${ts},
  SendingDateTime ${ts},
  DeliveryDateTime NUMERIC NULL,
  Text TEXT NOT NULL,
  DestinationNumber TEXT NOT NULL DEFAULT '',
  Coding TEXT NOT NULL DEFAULT 'Default_No_Compression',
  UDH TEXT NOT NULL,
  SMSCNumber TEXT NOT NULL DEFAULT '',
  Class INTEGER NOT NULL DEFAULT -1,
  TextDecoded TEXT NOT NULL DEFAULT '',
  ID INTEGER,
  SenderID TEXT NOT NULL,
  SequencePosition INTEGER NOT NULL DEFAULT 1,
  Status TEXT NOT NULL DEFAULT 'SendingOK',
  StatusError INTEGER NOT NULL DEFAULT -1,
  TPMR INTEGER NOT NULL DEFAULT -1,
  RelativeValidity INTEGER NOT NULL DEFAULT -1,
  CreatorID TEXT NOT NULL,
  StatusCode INTEGER NOT NULL DEFAULT -1,
  CHECK (Status IN
  (${STATUSES})),
  ${CODING_CHECK} ,
  PRIMARY KEY (ID, SequencePosition)
)`,
    `CREATE INDEX ${ix(t.sentitems, 'date')} ON ${t.sentitems}(DeliveryDateTime)`,
    `CREATE INDEX ${ix(t.sentitems, 'tpmr')} ON ${t.sentitems}(TPMR)`,
    `CREATE INDEX ${ix(t.sentitems, 'dest')} ON ${t.sentitems}(DestinationNumber)`,
    `CREATE INDEX ${ix(t.sentitems, 'sender')} ON ${t.sentitems}(SenderID)`,
    trigger(t.sentitems, 'ID'),
  ];
}

/**
 * 17 -> 18. SQLite cannot add a column whose default is datetime('now') (inbox.InsertIntoDB), so
 * inbox and outbox are rebuilt with the 18 layout (the columns where Gammu's file has them), their
 * rows and AUTOINCREMENT counters carried over; meant to run in one transaction.
 */
export function sqliteUpgradeStatements(t: Tables): string[] {
  const inboxCols = `UpdatedInDB, ReceivingDateTime, Text, SenderNumber, Coding, UDH, SMSCNumber, Class, TextDecoded, ID, RecipientID, Processed, Status`;
  const outboxCols = `UpdatedInDB, InsertIntoDB, SendingDateTime, SendBefore, SendAfter, Text, DestinationNumber, Coding, UDH, Class, TextDecoded, ID, MultiPart, RelativeValidity, SenderID, SendingTimeOut, DeliveryReport, CreatorID, Retries, Priority, Status, StatusCode`;
  const rebuild = (table: string, cols: string, create: string[], extra?: [string, string]): string[] => {
    const old = `${table}_v17`;
    return [
      `DROP TRIGGER IF EXISTS ${ix('update', table)}_time`,
      ...['date', 'sender', 'order'].map((w) => `DROP INDEX IF EXISTS ${ix(table, w)}`),
      `ALTER TABLE ${table} RENAME TO ${old}`,
      ...create,
      `INSERT INTO ${table} (${cols}${extra ? `, ${extra[0]}` : ''}) SELECT ${cols}${extra ? `, ${extra[1]}` : ''} FROM ${old}`,
      // The counter goes on from where it was: an outbox ID is never handed out twice (sentitems key).
      `UPDATE sqlite_sequence SET seq = max(coalesce(seq, 0), coalesce((SELECT seq FROM sqlite_sequence WHERE name = '${old}'), 0)) WHERE name = '${table}'`,
      `INSERT INTO sqlite_sequence (name, seq) SELECT '${table}', seq FROM sqlite_sequence WHERE name = '${old}' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '${table}')`,
      `DROP TABLE ${old}`,
    ];
  };
  return [
    // Rows already there were stored when they were received (MessageID stays 0, as on MySQL/PostgreSQL).
    ...rebuild(t.inbox, inboxCols, sqliteInboxStatements(t, 18), ['InsertIntoDB', 'ReceivingDateTime']),
    ...rebuild(t.outbox, outboxCols, sqliteOutboxStatements(t, 18)),
    `UPDATE ${t.gammu} SET Version = 18`,
  ];
}

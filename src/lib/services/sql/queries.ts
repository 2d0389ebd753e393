/**
 * Gammu's default queries (smsd/services/sql.c, SMSDSQL_ReadConfiguration) for MySQL/MariaDB and
 * PostgreSQL, schema 17 (Gammu 1.42) or 18 (1.44), with [tables] renames and [sql] overrides.
 * Field names are quoted with the dialect's character; table names are used as written, as Gammu does.
 */
import type { SqlQueryName, SqlTableName } from '../../config/smsd-config.js';
import type { SqlDialect } from './connection.js';

export type SchemaVersion = 17 | 18;
export const SUPPORTED_VERSIONS: readonly SchemaVersion[] = [17, 18];

export interface QueryOptions {
  dialect: SqlDialect;
  version: SchemaVersion;
  tables: Record<SqlTableName, string>;
  /** Seconds ([smsd] LoopSleep, StatusFrequency). */
  loopSleep: number;
  statusFrequency: number;
  overrides?: Partial<Record<SqlQueryName, string>>;
}

/** Our queries beyond Gammu's list (not overridable by name in [sql], as Gammu has no such key). */
export type ExtraQueryName = 'extend_send_status' | 'read_version';
export type QueryName = SqlQueryName | ExtraQueryName;

export function quoteField(dialect: SqlDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/**
 * PostgreSQL: LOCALTIMESTAMP(0), not now(): Gammu's columns are timestamp(0) with LOCALTIMESTAMP(0)
 * defaults, which round to the second, so a row inserted at .6 s looks 0.4 s "in the future" to
 * now() and would wait for the next poll. Both sides rounded the same way compare as intended.
 */
export function sqlNow(dialect: SqlDialect): string {
  // SQLite (Gammu's sql.c): local time as 'YYYY-MM-DD HH:MM:SS' text, compared as text.
  return { mysql: 'NOW()', pgsql: 'LOCALTIMESTAMP(0)', sqlite: "datetime('now', 'localtime')" }[dialect];
}

/** NOW() + n seconds, with n a constant. */
export function sqlNowPlus(dialect: SqlDialect, seconds: number): string {
  const s = Math.trunc(seconds);
  if (dialect === 'sqlite') return `datetime('now', '${s >= 0 ? '+' : ''}${s} seconds', 'localtime')`;
  return dialect === 'mysql'
    ? `(NOW() + INTERVAL ${s} SECOND)`
    : `(LOCALTIMESTAMP(0) + interval '${s} seconds')`;
}

/** How long a taken outbox message stays leased (SendingTimeOut), renewed after each part sent. */
export function leaseSeconds(loopSleep: number): number {
  return Math.max(60, loopSleep * 8);
}

/**
 * The default query set. Two deliberate differences from Gammu: the outbox is taken with `<=`
 * instead of `<` on SendingDateTime/SendingTimeOut (a message queued this second goes out now, not
 * in the next second; the lease stays exclusive because it is set into the future), and
 * update_retries binds the RetryTimeout as %3 (seconds) instead of a constant.
 */
export function defaultQueries(o: QueryOptions): Record<QueryName, string> {
  const d = o.dialect;
  const f = (name: string): string => quoteField(d, name);
  const list = (names: string[]): string => names.map(f).join(', ');
  const t = o.tables;
  const now = sqlNow(d);
  const curtime = { mysql: 'CURTIME()', pgsql: 'localtime', sqlite: "time('now', 'localtime')" }[d];
  const locktime = leaseSeconds(o.loopSleep);
  const phoneTimeout = o.version >= 18 ? o.statusFrequency + 10 : 10;
  const retryPlus = {
    mysql: `(NOW() + INTERVAL %3 SECOND)`,
    pgsql: `(now() + make_interval(secs => %3))`,
    sqlite: `datetime('now', '+' || %3 || ' seconds', 'localtime')`,
  }[d];
  const v18 = o.version >= 18;
  // SQLite's planner, without statistics, prefers outbox_sender or outbox_date and then sorts the
  // whole queue; a unary + keeps those columns off the index choice, so it walks outbox_order and
  // stops at the first row that qualifies (a flat pick cost at any backlog).
  const nx = d === 'sqlite' ? '+' : '';
  const q: Record<QueryName, string> = {
    delete_phone: `DELETE FROM ${t.phones} WHERE ${f('IMEI')} = %I`,
    insert_phone: `INSERT INTO ${t.phones} (${list(['IMEI', 'IMSI', 'ID', 'NetCode', 'NetName', 'Send', 'Receive', 'InsertIntoDB', 'TimeOut', 'Client', 'Battery', 'Signal'])}) VALUES (%I, %S, %P, %O, %M, %1, %2, ${now}, ${sqlNowPlus(d, phoneTimeout)}, %N, -1, -1)`,
    save_inbox_sms_select: `SELECT ${list(['ID', 'Status', 'SendingDateTime', 'DeliveryDateTime', 'SMSCNumber', 'SequencePosition'])} FROM ${t.sentitems} WHERE ${f('DeliveryDateTime')} IS NULL AND ${f('SenderID')} = %P AND ${f('TPMR')} = %t AND ${f('DestinationNumber')} = %R`,
    save_inbox_sms_update_delivered: `UPDATE ${t.sentitems} SET ${f('DeliveryDateTime')} = %C, ${f('Status')} = %1, ${f('StatusError')} = %e WHERE ${f('ID')} = %2 AND ${f('TPMR')} = %t`,
    save_inbox_sms_update: `UPDATE ${t.sentitems} SET ${f('Status')} = %1, ${f('StatusError')} = %e WHERE ${f('ID')} = %2 AND ${f('TPMR')} = %t`,
    save_inbox_sms_insert: v18
      ? `INSERT INTO ${t.inbox} (${list(['ReceivingDateTime', 'InsertIntoDB', 'Text', 'SenderNumber', 'Coding', 'SMSCNumber', 'UDH', 'Class', 'TextDecoded', 'RecipientID', 'Status', 'MessageID', 'SequencePosition', 'PartCount', 'Processed'])}) VALUES (%d, ${now}, %E, %R, %c, %F, %u, %x, %T, %P, %e, %1, %2, %3, %4)`
      : `INSERT INTO ${t.inbox} (${list(['ReceivingDateTime', 'Text', 'SenderNumber', 'Coding', 'SMSCNumber', 'UDH', 'Class', 'TextDecoded', 'RecipientID', 'Status'])}) VALUES (%d, %E, %R, %c, %F, %u, %x, %T, %P, %e)`,
    save_inbox_sms_update_metadata: `UPDATE ${t.inbox} SET ${f('MessageID')} = %1, ${f('SequencePosition')} = %2, ${f('PartCount')} = %3, ${f('Processed')} = %5 WHERE ${f('ID')} = %4`,
    restore_inbox_groups: `SELECT ${list(['ID', 'MessageID', 'SequencePosition', 'PartCount', 'SenderNumber', 'UDH'])} FROM ${t.inbox} WHERE ${f('RecipientID')} = %P AND ${f('PartCount')} > 1 AND ${f('InsertIntoDB')} >= %1`,
    update_received: `UPDATE ${t.phones} SET ${f('Received')} = ${f('Received')} + 1 WHERE ${f('IMEI')} = %I`,
    refresh_send_status: `UPDATE ${t.outbox} SET ${f('SendingTimeOut')} = ${sqlNowPlus(d, locktime)} WHERE ${f('ID')} = %1 AND (${f('SendingTimeOut')} <= ${now} OR ${f('SendingTimeOut')} IS NULL)`,
    extend_send_status: `UPDATE ${t.outbox} SET ${f('SendingTimeOut')} = ${sqlNowPlus(d, locktime)} WHERE ${f('ID')} = %1`,
    update_retries: `UPDATE ${t.outbox} SET ${f('SendingTimeOut')} = ${retryPlus}, ${f('Retries')} = %2 WHERE ${f('ID')} = %1`,
    find_outbox_sms_id: `SELECT ${list(['ID', 'InsertIntoDB', 'SendingDateTime', 'SenderID'])} FROM ${t.outbox} WHERE ${nx}${f('SendingDateTime')} <= ${now} AND ${f('SendingTimeOut')} <= ${now} AND ${f('SendBefore')} >= ${curtime} AND ${f('SendAfter')} <= ${curtime}${v18 ? ` AND (${f('SendDays')} & %2) <> 0` : ''} AND ( ${nx}${f('SenderID')} IS NULL OR ${nx}${f('SenderID')} = '' OR ${nx}${f('SenderID')} = %P ) ORDER BY ${f('Priority')} DESC, ${f('InsertIntoDB')} ASC, ${f('ID')} ASC LIMIT %1`,
    find_outbox_body: `SELECT ${list(['Text', 'Coding', 'UDH', 'Class', 'TextDecoded', 'ID', 'DestinationNumber', 'MultiPart', 'RelativeValidity', 'DeliveryReport', 'CreatorID', 'Retries', 'Status', 'StatusCode'])} FROM ${t.outbox} WHERE ${f('ID')}=%1`,
    find_outbox_multipart: `SELECT ${list(['Text', 'Coding', 'UDH', 'Class', 'TextDecoded', 'ID', 'SequencePosition', 'Status', 'StatusCode'])} FROM ${t.outbox_multipart} WHERE ${f('ID')}=%1 AND ${f('SequencePosition')}=%2`,
    find_sent_item: `SELECT ${list(['Text', 'Coding', 'UDH', 'Class', 'TextDecoded', 'DestinationNumber', 'InsertIntoDB', 'RelativeValidity', 'CreatorID', 'Status', 'TPMR'])} FROM ${t.sentitems} WHERE ${f('ID')}=%1 AND ${f('SequencePosition')}=%2`,
    delete_outbox: `DELETE FROM ${t.outbox} WHERE ${f('ID')}=%1`,
    delete_outbox_multipart: `DELETE FROM ${t.outbox_multipart} WHERE ${f('ID')}=%1`,
    create_outbox: `INSERT INTO ${t.outbox} (${list(['CreatorID', 'SenderID', 'DeliveryReport', 'MultiPart', 'InsertIntoDB', 'Text', 'DestinationNumber', 'RelativeValidity', 'Coding', 'UDH', 'Class', 'TextDecoded'])}) VALUES (%1, %P, %2, %3, ${now}, %E, %R, %V, %c, %u, %x, %T)`,
    create_outbox_multipart: `INSERT INTO ${t.outbox_multipart} (${list(['SequencePosition', 'Text', 'Coding', 'UDH', 'Class', 'TextDecoded', 'ID'])}) VALUES (%4, %E, %c, %u, %x, %T, %5)`,
    update_outbox: `UPDATE ${t.outbox} SET ${f('Status')}=%3 WHERE ${f('ID')}=%1`,
    update_outbox_multipart: `UPDATE ${t.outbox_multipart} SET ${f('Status')}=%3 WHERE ${f('ID')}=%1 AND ${f('SequencePosition')}=%2`,
    update_outbox_statuscode: `UPDATE ${t.outbox} SET ${f('StatusCode')}=%3 WHERE ${f('ID')}=%1`,
    update_outbox_multipart_statuscode: `UPDATE ${t.outbox_multipart} SET ${f('StatusCode')}=%3 WHERE ${f('ID')}=%1 AND ${f('SequencePosition')}=%4`,
    add_sent_info: `INSERT INTO ${t.sentitems} (${list(['CreatorID', 'ID', 'SequencePosition', 'Status', 'SendingDateTime', 'SMSCNumber', 'TPMR', 'SenderID', 'Text', 'DestinationNumber', 'Coding', 'UDH', 'Class', 'TextDecoded', 'InsertIntoDB', 'RelativeValidity', 'StatusCode'])}) VALUES (%A, %1, %2, %3, ${now}, %F, %4, %P, %E, %R, %c, %u, %x, %T, %5, %V, %6)`,
    update_sent: `UPDATE ${t.phones} SET ${f('Sent')}= ${f('Sent')} + 1 WHERE ${f('IMEI')} = %I`,
    refresh_phone_status: `UPDATE ${t.phones} SET ${f('TimeOut')}= ${sqlNowPlus(d, phoneTimeout)}, ${f('Battery')} = %1, ${f('Signal')} = %2, ${f('NetCode')} = %O, ${f('NetName')} = %M WHERE ${f('IMEI')} = %I`,
    read_version: `SELECT ${f('Version')} FROM ${t.gammu}`,
  };
  for (const [name, text] of Object.entries(o.overrides ?? {}))
    if (text !== undefined) q[name as SqlQueryName] = text;
  return q;
}

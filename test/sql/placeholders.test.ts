import { describe, expect, it } from 'vitest';
import { expandQuery, QueryTemplateError, type PhoneVars } from '../../src/lib/services/sql/placeholders.js';
import { defaultQueries } from '../../src/lib/services/sql/queries.js';
import { parseHost } from '../../src/lib/services/sql/connection.js';
import { DEFAULT_TABLES } from './db.js';

const phone: PhoneVars = {
  imei: "35'; DROP TABLE x; --",
  imsi: '230',
  phoneId: 'p1',
  client: 'c',
  netCode: '230 01',
  netName: 'T-Mobile',
  creatorId: 'me',
};

describe("Gammu's placeholders become bound parameters", () => {
  it('binds phone values, never pasting them into the text', () => {
    const b = expandQuery('DELETE FROM phones WHERE IMEI = %I AND ID = %P', 'mysql', { phone });
    expect(b).toEqual({ text: 'DELETE FROM phones WHERE IMEI = ? AND ID = ?', values: [phone.imei, 'p1'] });
    const p = expandQuery('DELETE FROM phones WHERE "IMEI" = %I AND "ID" = %P', 'pgsql', { phone });
    expect(p.text).toBe('DELETE FROM phones WHERE "IMEI" = $1 AND "ID" = $2');
  });

  it('numbers %1..%n, keeps %% as %, and names the query in errors', () => {
    const b = expandQuery("SELECT %2, %1, '100%%' FROM t LIMIT %1", 'pgsql', { phone, params: [5, 'x'] });
    expect(b).toEqual({ text: "SELECT $1, $2, '100%' FROM t LIMIT $3", values: ['x', 5, 5] });
    expect(() => expandQuery('SELECT %3', 'mysql', { phone, params: [1] }, 'update_retries')).toThrow(
      /update_retries: %3 is not available/,
    );
    expect(() => expandQuery('SELECT %T', 'mysql', { phone }, 'delete_phone')).toThrow(QueryTemplateError);
    expect(() => expandQuery('SELECT %Q', 'mysql', { phone })).toThrow(/unexpected placeholder %Q/);
  });

  it('default queries follow [tables] renames, field quoting per dialect, and [sql] overrides', () => {
    const tables = { ...DEFAULT_TABLES, outbox: 'my_outbox' };
    const my = defaultQueries({ dialect: 'mysql', version: 18, tables, loopSleep: 1, statusFrequency: 60 });
    expect(my.find_outbox_sms_id).toContain('FROM my_outbox WHERE `SendingDateTime` <= NOW()');
    expect(my.find_outbox_sms_id).toContain('(`SendDays` & %2) <> 0');
    expect(my.refresh_send_status).toContain('(NOW() + INTERVAL 60 SECOND)');
    const pg = defaultQueries({
      dialect: 'pgsql',
      version: 17,
      tables,
      loopSleep: 10,
      statusFrequency: 60,
      overrides: { delete_phone: 'DELETE FROM phones WHERE "IMEI" = %I AND 1=1' },
    });
    expect(pg.find_outbox_sms_id).not.toContain('SendDays');
    expect(pg.find_outbox_sms_id).toContain('"SendBefore" >= localtime');
    expect(pg.refresh_send_status).toContain("interval '80 seconds'");
    expect(pg.save_inbox_sms_insert).not.toContain('MessageID');
    expect(pg.delete_phone).toBe('DELETE FROM phones WHERE "IMEI" = %I AND 1=1');
  });

  it("reads Gammu's Host forms", () => {
    expect(parseHost('db.example', 'mysql')).toEqual({ host: 'db.example' });
    expect(parseHost('127.0.0.1:3307', 'mysql')).toEqual({ host: '127.0.0.1', port: 3307 });
    expect(parseHost('localhost:/run/mysqld/mysqld.sock', 'mysql')).toEqual({
      host: 'localhost',
      socket: '/run/mysqld/mysqld.sock',
    });
    expect(parseHost('/var/run/postgresql', 'pgsql')).toEqual({ socket: '/var/run/postgresql' });
    expect(parseHost('[::1]:5433', 'pgsql')).toEqual({ host: '::1', port: 5433 });
  });
});

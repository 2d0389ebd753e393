import { afterEach, describe, expect, it } from 'vitest';
import { createTempDb, serverAvailable, DEFAULT_TABLES, type TempDb } from './db.js';
import { SqlService } from '../../src/lib/services/sql/service.js';
import { SqlConnection, type SqlDialect } from '../../src/lib/services/sql/connection.js';
import { textMessage } from '../services/contract.js';

// insertOutboxMany (PostgreSQL: one multi-row INSERT per table) writes exactly the rows that
// insertOutbox writes message by message, and each message gets its own ID back.

describe.each(['mysql', 'pgsql'] as const)('insertOutboxMany on %s', (dialect: SqlDialect) => {
  let db: TempDb | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  const msgs = [
    textMessage('+420100000001', 'first'),
    textMessage('+420100000002', 'x'.repeat(200), true), // two parts: outbox_multipart
    textMessage('+420100000003', 'pinned'),
  ];
  const cols = ['CreatorID', 'SenderID', 'DestinationNumber', 'MultiPart', 'TextDecoded', 'UDH', 'Coding'];

  it('writes the rows insertOutbox writes, each ID to its message; a CreatorID twice goes one by one', async () => {
    if (!(await serverAvailable(dialect))) return;
    db = await createTempDb(dialect, 18);
    const s = new SqlService({
      connection: db.options,
      tables: DEFAULT_TABLES,
      phoneId: 'p1',
      loopSleep: 1,
      statusFrequency: 60,
      deliveryReportDelay: 600,
      deliveryReport: 'no',
    });
    const c = new SqlConnection(db.options);
    const f = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
    const dump = async (creators: string) => ({
      outbox: (
        await c.query(
          `SELECT ${cols.map(f).join(', ')} FROM outbox WHERE ${f('CreatorID')} LIKE '${creators}%' ORDER BY ${f('DestinationNumber')}, ${f('ID')}`,
        )
      ).rows.map((r) => r.map((v) => String(v ?? '').replace(creators, ''))),
      parts: (
        await c.query(
          `SELECT o.${f('DestinationNumber')}, m.${f('SequencePosition')}, m.${f('TextDecoded')}, m.${f('UDH')} FROM outbox_multipart m JOIN outbox o ON o.${f('ID')} = m.${f('ID')} WHERE o.${f('CreatorID')} LIKE '${creators}%' ORDER BY 1, 2`,
        )
      ).rows.map((r) => r.map((v) => String(v))),
    });
    try {
      await s.init();
      const items = (prefix: string, same = false) =>
        msgs.map((msg, i) => ({
          msg,
          creatorId: same ? `${prefix}x` : `${prefix}${i}`,
          senderId: i === 2 ? 'run1' : '',
        }));
      const one = await s.transaction(async () => {
        const ids: string[] = [];
        for (const i of items('one ')) ids.push(await s.insertOutbox(i.msg, i.creatorId, i.senderId));
        return ids;
      });
      const many = await s.transaction(() => s.insertOutboxMany(items('many ')));
      const twice = await s.transaction(() => s.insertOutboxMany(items('twice ', true)));
      expect(await dump('many ')).toEqual(await dump('one '));
      expect((await dump('twice ')).parts).toEqual((await dump('one ')).parts);
      for (const [prefix, ids] of [
        ['one ', one],
        ['many ', many],
        ['twice ', twice],
      ] as const) {
        expect(new Set(ids).size).toBe(3);
        const numbers = await Promise.all(
          ids.map(
            async (id) =>
              (
                await c.query(
                  `SELECT ${f('DestinationNumber')}, ${f('CreatorID')} FROM outbox WHERE ${f('ID')} = ${dialect === 'mysql' ? '?' : '$1'}`,
                  [Number(id)],
                )
              ).rows[0],
          ),
        );
        expect(numbers.map((r) => String(r?.[0]))).toEqual(msgs.map((m) => m.number));
        expect(numbers.every((r) => String(r?.[1]).startsWith(prefix))).toBe(true);
      }
    } finally {
      await c.close();
      await s.free();
    }
  });
});

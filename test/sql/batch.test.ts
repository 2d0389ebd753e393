import { afterEach, describe, expect, it } from 'vitest';
import { SqlService } from '../../src/lib/services/sql/service.js';
import { BATCH_ROWS } from '../../src/lib/services/sql/batch.js';
import { createTempDb, serverAvailable, DEFAULT_TABLES, type TempDb } from './db.js';
import { textMessage } from '../services/contract.js';

// The batched outlet path's bounds (batch.ts): a claim takes BATCH_ROWS rows at most whatever is
// asked, and a receipt that comes before its part's grouped sentitems row still finds it.
for (const dialect of ['sqlite', 'mysql'] as const) {
  describe(`SQL batch bounds (${dialect})`, async () => {
    const up = await serverAvailable(dialect);
    const open: { db: TempDb; services: SqlService[] }[] = [];
    afterEach(async () => {
      for (const o of open.splice(0)) {
        for (const s of o.services) await s.free().catch(() => undefined);
        await o.db.drop();
      }
    });
    const service = async (db: TempDb, phoneId: string, list: SqlService[]): Promise<SqlService> => {
      const s = new SqlService({
        connection: db.options,
        tables: DEFAULT_TABLES,
        phoneId,
        loopSleep: 1,
        statusFrequency: 60,
        deliveryReportDelay: 600,
        deliveryReport: 'log',
      });
      await s.init();
      await s.initAfterConnect({ phoneId, imei: `3500000000000${list.length}`, imsi: '' });
      list.push(s);
      return s;
    };

    it.skipIf(!up)('a claim takes at most BATCH_ROWS rows, however many are asked for', async () => {
      const db = await createTempDb(dialect, 18);
      const services: SqlService[] = [];
      open.push({ db, services });
      const q = await service(db, '', services);
      await q.transaction(async () => {
        for (let i = 0; i < BATCH_ROWS + 20; i++)
          await q.insertOutbox(textMessage(`+4206${String(i).padStart(8, '0')}`, `m ${i}`), 'test', '');
      });
      const a = await service(db, 'A', services);
      const first = await a.findOutboxBatch(100_000);
      expect(first.length).toBe(BATCH_ROWS);
      const second = await a.findOutboxBatch(100_000);
      expect(second.length).toBe(20);
      expect(new Set([...first, ...second].map((j) => j.id)).size).toBe(BATCH_ROWS + 20);
    });

    it.skipIf(!up)('a receipt before its part is committed waits for the grouped sentitems row', async () => {
      const db = await createTempDb(dialect, 18);
      const services: SqlService[] = [];
      open.push({ db, services });
      const q = await service(db, '', services);
      await q.createOutbox(textMessage('+420600000001', 'early receipt'), 'test');
      const a = await service(db, 'A', services);
      const [job] = await a.findOutboxBatch(10);
      const receipt = a.saveOutletReport(job!.id, 1, 'DeliveryOK', new Date());
      const recorded = a.addSentInfoGrouped(job!, 0, 77, '77');
      expect(await receipt).toBe(true);
      await recorded;
      const row = (
        await a.conn.query(
          dialect === 'mysql'
            ? 'SELECT `Status`, `TPMR` FROM sentitems'
            : 'SELECT "Status", "TPMR" FROM sentitems',
        )
      ).rows;
      expect(row.map((r) => [String(r[0]), Number(r[1])])).toEqual([['DeliveryOK', 77]]);
      expect(await a.moveSentBatch([job!])).toEqual([]);
      expect(Number((await a.conn.query('SELECT COUNT(*) FROM outbox')).rows[0]?.[0])).toBe(0);
    });
  });
}

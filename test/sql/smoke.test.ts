import { describe, expect, it } from 'vitest';
import { createTempDb, serverAvailable, DEFAULT_TABLES } from './db.js';
import { SqlService } from '../../src/lib/services/sql/service.js';
import { buildMessage } from '../../src/lib/inject/message.js';

describe.each(['mysql', 'pgsql'] as const)('smoke %s', (dialect) => {
  it('inject, find, send, move', async () => {
    if (!(await serverAvailable(dialect))) return;
    const db = await createTempDb(dialect, 18);
    const svc = new SqlService({
      connection: db.options,
      tables: DEFAULT_TABLES,
      phoneId: 'p1',
      loopSleep: 1,
      statusFrequency: 60,
      deliveryReportDelay: 600,
      deliveryReport: 'no',
      log: (l, m) => console.log(l, m),
    });
    try {
      await svc.init();
      await svc.initAfterConnect({ phoneId: 'p1', imei: '1234', imsi: '999' });
      const built = buildMessage(
        {
          type: 'text',
          number: '+420123',
          text: 'x'.repeat(200),
          coding: 'gsm7',
          maxLength: 400,
          ref16bit: false,
          flash: false,
          report: true,
          replyPath: false,
          replaceMessage: 0,
        },
        { now: new Date(), ref: 7 },
      );
      const id = await svc.createOutbox(built, 'smsgate test');
      const job = await svc.findOutbox();
      expect(job?.id).toBe(id);
      expect(job?.message.parts.length).toBe(2);
      await svc.addSentInfo(job!, 0, 5);
      await svc.addSentInfo(job!, 1, 6);
      await svc.moveSms(job!, 'sent');
      expect(await svc.findOutbox()).toBeUndefined();
    } finally {
      await svc.free();
      await db.drop();
    }
  });
});

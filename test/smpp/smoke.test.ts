import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bind, call, outboxMessages, startTestSmppd, type TestSmppd } from './harness.js';

let t: TestSmppd;
beforeAll(async () => {
  t = await startTestSmppd([{ systemId: 'alpha', password: 'secret1' }]);
});
afterAll(async () => {
  await t.stop();
  t.spool.cleanup();
});

describe('smoke', () => {
  it('binds and submits', async () => {
    const { session, resp } = await bind(t.port, 'alpha', 'secret1');
    expect(resp.command_status).toBe(0);
    const r = await call(session, 'submit_sm', {
      destination_addr: '+420123456789',
      short_message: Buffer.from('Hello'),
      data_coding: 0,
    });
    expect(r.command_status).toBe(0);
    expect(r.message_id).toMatch(/^[0-9a-f]{16}$/);
    expect(outboxMessages(t.spool)).toMatchObject([{ text: 'Hello', parts: 1 }]);
    session.close();
    console.log(t.logs.join('\n'));
  });
});

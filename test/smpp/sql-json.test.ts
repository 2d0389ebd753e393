import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTempDb, sendWholeOutbox, serverAvailable, type TempDb } from '../sql/db.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';
import { makeSpool } from '../helpers/spool.js';
import { startTestSmppd, type TestSmppd } from './harness.js';

// The JSON API with [smsd] Service = sql: POST stores in Gammu's outbox of a real MariaDB or
// PostgreSQL through the same pipeline as submit_sm and sendsms, the Idempotency-Key holds there
// too (the retry finds the row); GET reads smppd_message and sentitems; a webhook is refused (receipt
// webhooks are not built for SQL yet).

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

describe.each(['mysql', 'pgsql'] as const)('JSON API on the SQL outbox (%s)', (dialect) => {
  it('POST stores once per key; GET reads smppd_message and sentitems (owner only); webhook refused', async () => {
    if (!(await serverAvailable(dialect))) return;
    const db: TempDb = await createTempDb(dialect, 18);
    const spool = makeSpool();
    fs.writeFileSync(
      spool.config,
      fs.readFileSync(spool.config, 'utf8').replace('service = files\n', db.configLines),
    );
    const admin = new SqlConnection(db.options);
    cleanup.push(async () => {
      await admin.close();
      await db.drop();
      spool.cleanup();
    });
    const t: TestSmppd = await startTestSmppd(
      [
        { systemId: 'shop', password: 'pw123', extra: 'webhook_secret = sql-secret-0123456789\n' },
        { systemId: 'other', password: 'pw456' },
      ],
      'HttpPort = 0\nHttpListen = 127.0.0.1\n',
      spool,
    );
    cleanup.unshift(() => t.stop());
    const base = `http://127.0.0.1:${t.smppd.httpPort}`;
    const headers = {
      Authorization: `Basic ${Buffer.from('shop:pw123').toString('base64')}`,
      'Content-Type': 'application/json',
    };
    const q = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
    const rows = async (): Promise<unknown[][]> =>
      (
        await admin.query(
          `SELECT ${q('CreatorID')}, ${q('DestinationNumber')} FROM outbox ORDER BY ${q('ID')}`,
        )
      ).rows;
    const send = (body: unknown, key?: string): Promise<Response> =>
      fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: { ...headers, ...(key ? { 'Idempotency-Key': key } : {}) },
        body: JSON.stringify(body),
      });

    const results = await Promise.all(
      Array.from({ length: 5 }, () => send({ to: '+420111222333', text: 'over SQL' }, 'sql-1')),
    );
    const bodies = await Promise.all(results.map((r) => r.json()));
    for (const r of results) expect(r.status).toBe(202);
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    const { id } = bodies[0] as { id: string };
    expect(await rows()).toEqual([[`smppd ${id}`, '+420111222333']]);

    const hook = await send({ to: '+420111222333', text: 'x', webhook: 'http://127.0.0.1:9/x' });
    expect(hook.status).toBe(400);
    expect(await rows()).toHaveLength(1);
    expect(((await hook.json()) as { error: { message: string } }).error.message).toContain('SQL outbox');
    const view = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
      const g = await fetch(`${base}/v1/messages/${id}`, { headers });
      return { status: g.status, body: (await g.json()) as Record<string, unknown> };
    };
    expect(await view()).toMatchObject({
      status: 200,
      body: { id, to: '+420111222333', state: 'queued', parts: 1, receipts: [] },
    });
    // What smsd run does: the message sent (sentitems) and its report DeliveryOK, out of the outbox.
    await sendWholeOutbox(admin, dialect, `'DeliveryOK'`, 7);
    const done = await view();
    expect(done).toMatchObject({
      status: 200,
      body: {
        id,
        state: 'delivered',
        receipts: [{ part: 1, state: 'delivered', status: 0, description: 'DeliveryOK' }],
      },
    });
    // Another account's view of it: as absent as an unknown ID.
    const other = await fetch(`${base}/v1/messages/${id}`, {
      headers: { Authorization: `Basic ${Buffer.from('other:pw456').toString('base64')}` },
    });
    expect(other.status).toBe(404);
    expect((await fetch(`${base}/v1/messages/0123456789abcdef`, { headers })).status).toBe(404);
    expect(await rows()).toHaveLength(0);
  });
});

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTempDb, serverAvailable, DEFAULT_TABLES, SERVERS, type TempDb } from './db.js';
import { SqlService } from '../../src/lib/services/sql/service.js';
import type { SqlDialect } from '../../src/lib/services/sql/connection.js';
import { textMessage } from '../services/contract.js';
import { decodeDeliver, encodeDeliver } from '../../src/lib/sms/index.js';

/**
 * A database that goes away and comes back, without touching the shared servers: the service talks
 * to it through a TCP relay on 127.0.0.1 that the test cuts (every connection reset, port closed)
 * and restores on the same port.
 */
class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: number) {}

  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async cut(): Promise<void> {
    const closed = new Promise((r) => this.server?.close(r));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describe.each(['mysql', 'pgsql'] as const)('a database outage on %s', (dialect: SqlDialect) => {
  let db: TempDb | undefined;
  let svc: SqlService | undefined;
  let relay: Relay | undefined;
  afterEach(async () => {
    await svc?.free();
    await relay?.cut().catch(() => undefined);
    await db?.drop();
    svc = relay = db = undefined;
  });

  it('is ridden out: nothing to send while it lasts, then the queue and the inbox work again', async () => {
    if (!(await serverAvailable(dialect))) return;
    db = await createTempDb(dialect, 18);
    relay = new Relay(dialect === 'mysql' ? 3306 : 5432);
    await relay.open();
    const logs: string[] = [];
    svc = new SqlService({
      connection: {
        ...SERVERS[dialect],
        host: `127.0.0.1:${relay.port}`,
        database: db.name,
        retries: 4,
        retryDelayMs: () => 100,
      },
      tables: DEFAULT_TABLES,
      phoneId: 'p1',
      loopSleep: 1,
      statusFrequency: 60,
      deliveryReportDelay: 600,
      deliveryReport: 'no',
      log: (_l, m) => logs.push(m),
    });
    await svc.init();
    await svc.initAfterConnect({ phoneId: 'p1', imei: '1', imsi: '2' });
    await svc.createOutbox(textMessage('+420100000001', 'queued before'), 'test');

    await relay.cut();
    expect(await svc.findOutbox()).toBeUndefined();
    expect(logs.join('\n')).toMatch(/reconnecting in 100 ms/);
    expect(logs.join('\n')).toMatch(/outbox not readable, will try again/);

    // Back within the retry budget: a received message is stored, not lost.
    const back = new Promise((r) => setTimeout(r, 150)).then(() => relay?.open());
    const pdu = decodeDeliver(
      encodeDeliver({ originator: '+420777', coding: 'gsm7', text: 'during', scts: new Date() }).hex,
    );
    const ids = await svc.saveInbox({ parts: [pdu], complete: true, text: 'during' });
    await back;
    expect(ids).toHaveLength(1);
    expect((await svc.findOutbox())?.message.parts[0]?.text).toBe('queued before');
  });
});

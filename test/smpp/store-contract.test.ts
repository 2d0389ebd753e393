import path from 'node:path';
import fs from 'node:fs';
import { describe } from 'vitest';
import { messageStoreContract, type StoreHarness } from './store-contract.js';
import { makeSpool } from '../helpers/spool.js';
import { createTempDb, DEFAULT_TABLES, serverAvailable } from '../sql/db.js';
import { OutboxStore } from '../../src/lib/smpp/store/store.js';
import { MessageIndex } from '../../src/lib/smpp/store/messages.js';
import { SmppdDb } from '../../src/lib/smpp/sql/db.js';
import { SqlMessageStore } from '../../src/lib/smpp/sql/store.js';
import { SqlMessageLookup } from '../../src/lib/smpp/sql/messages.js';
import type { SqlDialect } from '../../src/lib/services/sql/connection.js';

// The two smppd stores, one contract (store-contract.ts): the spool and Gammu's SQL outbox.

async function files(): Promise<StoreHarness> {
  const spool = makeSpool();
  const reports = path.join(spool.dir, 'reports');
  fs.mkdirSync(reports);
  const store = new OutboxStore(spool.outbox, [spool.sent, spool.error], { retryMs: 20 });
  const lookup = new MessageIndex({ ...spool, reports });
  lookup.unmaterialized = store;
  return {
    store,
    lookup,
    async close() {
      await store.close(5_000);
      spool.cleanup();
    },
  };
}

async function sql(dialect: SqlDialect): Promise<StoreHarness | undefined> {
  if (!(await serverAvailable(dialect))) return undefined;
  const db = await createTempDb(dialect, 18);
  const smppdDb = await SmppdDb.open(
    {
      connection: db.options,
      tables: DEFAULT_TABLES,
      phoneId: 'ignored',
      loopSleep: 1,
      statusFrequency: 60,
      deliveryReportDelay: 600,
      deliveryReport: 'no',
    },
    'node1',
  );
  const store = new SqlMessageStore(smppdDb);
  return {
    store,
    lookup: new SqlMessageLookup(smppdDb),
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

describe('smppd store contract: files (the spool)', () => messageStoreContract(files));
describe.each(['mysql', 'pgsql', 'sqlite'] as const)('smppd store contract: SQL on %s', (dialect) =>
  messageStoreContract(() => sql(dialect)),
);

import fs from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';
import { batchContract, serviceContract, type ContractHarness } from './contract.js';
import { makeSpool } from '../helpers/spool.js';
import { FilesService } from '../../src/lib/services/files.js';
import { SqlService } from '../../src/lib/services/sql/service.js';
import { renderOutboxFiles, INJECT_NAME_TRIES } from '../../src/lib/spool/outbox-files.js';
import { createSpoolFile } from '../../src/lib/spool/atomic.js';
import { isOutboxCandidate } from '../../src/lib/spool/names.js';
import { createTempDb, serverAvailable, DEFAULT_TABLES } from '../sql/db.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';

async function filesHarness(): Promise<ContractHarness> {
  const spool = makeSpool();
  let imei = 0;
  return {
    async newService(phoneId) {
      const s = new FilesService({
        inboxDir: spool.inbox,
        outboxDir: spool.outbox,
        sentDir: spool.sent,
        errorDir: spool.error,
        inboxFormat: 'standard',
        transmitFormat: '7bit',
      });
      await s.init();
      await s.initAfterConnect({ phoneId, imei: String(++imei), imsi: '' });
      return s;
    },
    async queue(msg) {
      for (const f of renderOutboxFiles(msg, 'detail', new Date()))
        createSpoolFile(spool.outbox, f.data, f.nameFor, INJECT_NAME_TRIES);
    },
    async queued() {
      return fs.readdirSync(spool.outbox).filter(isOutboxCandidate).length;
    },
    async inboxTexts() {
      // Gammu's inbox files; smsd run also keeps hidden records beside them (inbox/.smsgate/).
      return fs
        .readdirSync(spool.inbox)
        .filter((n) => n.startsWith('IN'))
        .sort()
        .map((n) => fs.readFileSync(path.join(spool.inbox, n), 'utf8'));
    },
    async expireClaims() {
      // free() released the claim already; nothing is left to expire.
    },
    async close() {
      spool.cleanup();
    },
  };
}

function sqlHarness(dialect: 'mysql' | 'pgsql' | 'sqlite', version: 17 | 18) {
  return async (): Promise<ContractHarness | undefined> => {
    if (!(await serverAvailable(dialect))) return undefined;
    const db = await createTempDb(dialect, version);
    const admin = new SqlConnection(db.options);
    const q = (n: string): string => (dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
    let imei = 0;
    let queuer: SqlService | undefined;
    const make = async (phoneId: string): Promise<SqlService> => {
      const s = new SqlService({
        connection: db.options,
        tables: DEFAULT_TABLES,
        phoneId,
        loopSleep: 1,
        statusFrequency: 60,
        deliveryReportDelay: 600,
        deliveryReport: 'no',
      });
      await s.init();
      await s.initAfterConnect({ phoneId, imei: `35000000000000${++imei}`, imsi: '230010000000001' });
      return s;
    };
    return {
      newService: make,
      async queue(msg) {
        queuer ??= await make('');
        await queuer.createOutbox(msg, 'contract test');
      },
      async queued() {
        return Number((await admin.query(`SELECT COUNT(*) FROM outbox`)).rows[0]?.[0]);
      },
      async inboxTexts() {
        return (await admin.query(`SELECT ${q('TextDecoded')} FROM inbox ORDER BY ${q('ID')}`)).rows.map(
          (r) => String(r[0]),
        );
      },
      async expireClaims() {
        const past = {
          mysql: 'NOW() - INTERVAL 1 HOUR',
          pgsql: `LOCALTIMESTAMP(0) - interval '1 hour'`,
          sqlite: `datetime('now', '-1 hours', 'localtime')`,
        }[dialect];
        await admin.query(`UPDATE outbox SET ${q('SendingTimeOut')} = ${past}`);
      },
      async close() {
        await queuer?.free();
        await admin.close();
        await db.drop();
      },
    };
  };
}

describe('service contract: files', () => serviceContract(filesHarness));
describe('batch contract: files', () => batchContract(filesHarness));
describe('service contract: MariaDB, schema 18', () => serviceContract(sqlHarness('mysql', 18)));
describe('batch contract: MariaDB, schema 18', () => batchContract(sqlHarness('mysql', 18)));
describe('service contract: PostgreSQL, schema 18', () => serviceContract(sqlHarness('pgsql', 18)));
describe('batch contract: PostgreSQL, schema 18', () => batchContract(sqlHarness('pgsql', 18)));
describe('service contract: MariaDB, schema 17', () => serviceContract(sqlHarness('mysql', 17)));
describe('batch contract: MariaDB, schema 17', () => batchContract(sqlHarness('mysql', 17)));
describe('service contract: PostgreSQL, schema 17', () => serviceContract(sqlHarness('pgsql', 17)));
describe('batch contract: PostgreSQL, schema 17', () => batchContract(sqlHarness('pgsql', 17)));
describe('service contract: SQLite, schema 18', () => serviceContract(sqlHarness('sqlite', 18)));
describe('batch contract: SQLite, schema 18', () => batchContract(sqlHarness('sqlite', 18)));
describe('service contract: SQLite, schema 17', () => serviceContract(sqlHarness('sqlite', 17)));
describe('batch contract: SQLite, schema 17', () => batchContract(sqlHarness('sqlite', 17)));

/**
 * The SQL service (Gammu's smsd/services/sql.c) on MySQL/MariaDB, PostgreSQL or SQLite, schema 17 or 18.
 *
 * Several daemons share one database: a message is taken under a lease (refresh_send_status, an
 * UPDATE that only succeeds while SendingTimeOut has passed, so 0 rows means another daemon has it),
 * the lease is renewed after every part sent, and what was sent is in `sentitems` at once, so a
 * daemon that dies mid-message is resumed by another without sending a part twice.
 */
import os from 'node:os';
import type { SqlQueryName, SqlTableName, DeliveryReportMode } from '../../config/smsd-config.js';
import type { StatusReportPdu } from '../../sms/status-report.js';
import type { SubmitOptions } from '../../sms/submit.js';
import type {
  DeliveryReportResult,
  InboxMessage,
  MoveOutcome,
  OutboxJob,
  PhoneIdentityInfo,
  PhoneStatusInfo,
  SmsdService,
} from '../types.js';
import type { OutboxMessage } from '../../spool/outbox-files.js';
import {
  SqlConnection,
  SqlError,
  isConnectionLost,
  type ConnectOptions,
  type SqlValue,
} from './connection.js';
import { expandQuery, type PartVars, type PhoneVars } from './placeholders.js';
import { defaultQueries, type QueryName, type SchemaVersion } from './queries.js';
import { insertOutboxMany, type OutboxItem } from './outbox-batch.js';
import { checkSchemaVersion, checkTables, readSchemaVersion } from './schema.js';
import {
  BATCHED_QUERIES,
  claimBatch,
  commitBatch,
  GroupCommit,
  type BatchContext,
  type Prefetched,
  type SentRow,
} from './batch.js';
import {
  bool,
  canonicalNumber,
  deliverVars,
  formatSqlTime,
  num,
  rowToPart,
  splitLongPart,
  str,
  submitVars,
  entryVars,
  toDate,
  type OutboxPartRow,
} from './rows.js';

export interface SqlServiceOptions {
  connection: ConnectOptions;
  /** A configuration problem found while building these options (an unsupported Driver). */
  configError?: string;
  tables: Record<SqlTableName, string>;
  overrides?: Partial<Record<SqlQueryName, string>>;
  phoneId: string;
  /** Seconds. */
  loopSleep: number;
  statusFrequency: number;
  deliveryReportDelay: number;
  deliveryReport: DeliveryReportMode;
  skipSmscNumber?: string;
  /** Configured SMSC (recorded in sentitems). */
  smsc?: string;
  send?: boolean;
  receive?: boolean;
  /** `%N`: the client string in the phones table. */
  client?: string;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Gammu's GSM_MAX_MULTI_SMS: parts read from outbox_multipart at most. */
const MAX_PARTS = 50;
/** Outbox poll interval (SQL has no change notification that works for MySQL and PostgreSQL alike). */
const POLL_MS = 1_000;
/** A receipt waits this long at most for its part's sentitems row; this many receipts at once. */
const EARLY_RECEIPT_MS = 10_000;
const MAX_PART_WAITERS = 1_000;
/** How often findOutbox retries after losing a race for a lease before giving up for this round. */
const MAX_LEASE_RACES = 20;

interface JobContext {
  creatorId: string;
  insertIntoDb: string;
  /** Parts read from several rows (update_outbox_multipart applies). */
  multiRow: boolean;
  vars: PartVars[];
  deliveryReport: 'yes' | 'no' | 'default';
  /** Parts waiting in a group commit (addSentInfoGrouped). */
  recording?: number;
}

/** SendDays bit of a date (Mon=1 ... Sun=64), in the daemon's local time zone. */
export function sendDayBit(d: Date): number {
  const day = d.getDay();
  return day === 0 ? 64 : 1 << (day - 1);
}

export class SqlService implements SmsdService {
  readonly name = 'sql';
  readonly conn: SqlConnection;
  private queries: Record<QueryName, string> | undefined;
  private version: SchemaVersion = 17;
  private readonly phone: PhoneVars;
  private readonly jobs = new Map<string, JobContext>();
  private readonly log: NonNullable<SqlServiceOptions['log']>;
  private poller: NodeJS.Timeout | undefined;
  /**
   * One connection carries every call, and a transaction's statements must not interleave with
   * another call's (an outlet has many messages in flight): calls that write take turns here.
   */
  private lane: Promise<unknown> = Promise.resolve();
  /** Batched claims and moves (batch.ts): Gammu's default queries, and a server with SKIP LOCKED. */
  private batched = true;
  /** Sent whole, deleted with their last part's sentitems row: moveSentBatch has nothing left to do. */
  private readonly deleted = new Set<string>();
  /** Receipts waiting for their part's sentitems row (the group commit is on its way). */
  private readonly partWaiters = new Map<string, () => void>();
  private readonly groups = new GroupCommit((rows, sentIds) => this.commitGroup(rows, sentIds));

  constructor(private readonly o: SqlServiceOptions) {
    this.log = o.log ?? (() => undefined);
    this.conn = new SqlConnection({ ...o.connection, log: o.connection.log ?? this.log });
    this.phone = {
      imei: '',
      imsi: '',
      phoneId: o.phoneId,
      client: o.client ?? `smsgate, ${os.type()}, Node.js ${process.version}`,
      netCode: '',
      netName: '',
      creatorId: '',
    };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lane.then(fn, fn);
    this.lane = run.catch(() => undefined);
    return run;
  }

  private get batch(): BatchContext {
    if (!this.queries) throw new Error('SQL service used before init()');
    return {
      conn: this.conn,
      tables: this.o.tables,
      queries: this.queries,
      phone: this.phone,
      loopSleep: this.o.loopSleep,
    };
  }

  get schemaVersion(): SchemaVersion {
    return this.version;
  }

  private q(
    name: QueryName,
    params: readonly SqlValue[] = [],
    part?: PartVars,
    creatorId = '',
    phoneId = this.phone.phoneId,
  ) {
    if (!this.queries) throw new Error('SQL service used before init()');
    return expandQuery(
      this.queries[name],
      this.conn.dialect,
      { phone: { ...this.phone, creatorId, phoneId }, part, params },
      name,
    );
  }

  private async run(name: QueryName, params: readonly SqlValue[] = [], part?: PartVars, creatorId = '') {
    const b = this.q(name, params, part, creatorId);
    return this.conn.query(b.text, b.values);
  }

  async init(): Promise<void> {
    if (this.o.configError) throw new Error(this.o.configError);
    await this.conn.connect();
    await checkTables(this.conn, this.o.tables);
    const found = await readSchemaVersion(this.conn, this.o.tables);
    this.log('info', `Database structures version: ${found}, SMSD current version: 18`);
    try {
      this.version = checkSchemaVersion(found, this.o.tables.gammu);
    } catch (err) {
      await this.conn.close();
      throw err;
    }
    this.queries = defaultQueries({
      dialect: this.conn.dialect,
      version: this.version,
      tables: this.o.tables,
      loopSleep: this.o.loopSleep,
      statusFrequency: this.o.statusFrequency,
      overrides: this.o.overrides,
    });
    this.batched = !BATCHED_QUERIES.some((n) => this.o.overrides?.[n] !== undefined);
    this.log('info', `Connected to Database: ${this.conn.target}, schema version ${this.version}`);
  }

  /**
   * Web front ends and scripts insert into the outbox directly, so there is no event to wait for:
   * a light poll (the indexed find query, LIMIT 1) wakes the daemon within a second instead of at
   * the next CommTimeout scan. It never reconnects by itself and stays out of transactions.
   */
  onOutboxChange(listener: () => void): void {
    let polling = false;
    this.poller = setInterval(() => {
      if (polling || !this.queries) return;
      polling = true;
      const b = this.q('find_outbox_sms_id', [1, sendDayBit(new Date())]);
      this.conn
        .tryQuery(b.text, b.values)
        .then((r) => {
          if (r && r.rows.length > 0) listener();
        })
        .finally(() => {
          polling = false;
        });
    }, POLL_MS);
    this.poller.unref();
  }

  async free(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    this.jobs.clear();
    this.deleted.clear();
    for (const wake of [...this.partWaiters.values()]) wake();
    await this.conn.close();
  }

  async initAfterConnect(phone: PhoneIdentityInfo): Promise<void> {
    this.phone.imei = phone.imei;
    this.phone.imsi = phone.imsi;
    // A fresh phones row at each start: Gammu resets the counters this way.
    await this.run('delete_phone');
    await this.run('insert_phone', [
      this.o.send === false ? 'no' : 'yes',
      this.o.receive === false ? 'no' : 'yes',
    ]);
  }

  async refreshPhoneStatus(s: PhoneStatusInfo): Promise<void> {
    this.phone.netCode = s.networkCode ?? this.phone.netCode;
    this.phone.netName = s.networkName ?? this.phone.netName;
    try {
      await this.run('refresh_phone_status', [s.batteryPercent, s.signalPercent]);
    } catch (err) {
      if (!isConnectionLost(err) && !(err instanceof SqlError && isConnectionLost(err.cause))) throw err;
      this.log('warn', `phone status not stored: ${(err as Error).message}`);
    }
  }

  async saveInbox(message: InboxMessage): Promise<string[]> {
    return this.exclusive(() => this.saveInboxNow(message));
  }

  private async saveInboxNow(message: InboxMessage): Promise<string[]> {
    const parts = message.parts;
    if (parts.length === 0) return [];
    const v18 = this.version >= 18;
    return this.conn.transaction(async () => {
      const ids: number[] = [];
      for (const [i, p] of parts.entries()) {
        // v18 keeps the whole text in the first part; 1.42 (v17) stores each part's own text.
        const text = v18 ? (i === 0 ? message.text : '') : (p.text ?? '');
        const seq = p.concat?.seq ?? i + 1;
        const count = p.concat?.total ?? parts.length;
        const b = this.q('save_inbox_sms_insert', v18 ? [0, seq, count, 'true'] : [], deliverVars(p, text));
        ids.push(await this.conn.insert(b.text, b.values));
        await this.run('update_received', [], deliverVars(p, text));
      }
      if (v18) {
        // Staged with Processed = true, published once every part is in: readers never see half a message.
        for (const [i, p] of parts.entries()) {
          const seq = p.concat?.seq ?? i + 1;
          const count = p.concat?.total ?? parts.length;
          await this.run('save_inbox_sms_update_metadata', [
            ids[0] as number,
            seq,
            count,
            ids[i] as number,
            'false',
          ]);
        }
      }
      return ids.map(String);
    });
  }

  /**
   * Gammu's CreateOutboxSMS (what gammu-smsd-inject does): part 1 into outbox, parts 2.. into
   * outbox_multipart under its ID, in one transaction. Returns the outbox ID.
   */
  async createOutbox(msg: OutboxMessage, creatorId: string): Promise<string> {
    return this.conn.transaction(() => this.insertOutbox(msg, creatorId));
  }

  /** Runs `fn` in one transaction (a batch of insertOutbox calls commits together). */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.conn.transaction(fn);
  }

  /**
   * createOutbox without its own transaction; returns the outbox ID. `senderId` (the outbox row's
   * SenderID, `%P` of create_outbox) pins the message to the daemon with that PhoneID; '' lets any
   * daemon take it. Default: our own PhoneID, as gammu-smsd-inject writes it.
   */
  async insertOutbox(msg: OutboxMessage, creatorId: string, senderId?: string): Promise<string> {
    const multipart = msg.entries.length > 1 ? 'TRUE' : 'FALSE';
    // Gammu writes the default relative validity (0xFF, "maximum") when none was asked for.
    const validity = msg.validity ?? 255;
    let id = 0;
    for (const [i, e] of msg.entries.entries()) {
      const report = e.pdu === 'Status_Report' ? 'yes' : 'default';
      const vars = entryVars(e, msg.number, validity);
      const b = this.q(
        i === 0 ? 'create_outbox' : 'create_outbox_multipart',
        [creatorId, report, multipart, i + 1, id],
        vars,
        '',
        senderId,
      );
      if (i === 0) id = await this.conn.insert(b.text, b.values);
      else await this.conn.query(b.text, b.values);
    }
    return String(id);
  }

  /** insertOutbox for many messages, in few statements where it can (outbox-batch.ts); IDs in order. */
  insertOutboxMany(items: readonly OutboxItem[]): Promise<string[]> {
    return insertOutboxMany(this.conn, items, {
      bind: (name, params, part, creatorId, phoneId) => this.q(name, params, part, creatorId, phoneId),
      single: (i) => this.insertOutbox(i.msg, i.creatorId, i.senderId),
      defaults:
        this.o.overrides?.create_outbox === undefined &&
        this.o.overrides?.create_outbox_multipart === undefined,
    });
  }

  async findOutbox(): Promise<OutboxJob | undefined> {
    try {
      return await this.exclusive(() => this.takeNext());
    } catch (err) {
      // The database stayed away through BackendRetries: nothing to send for now. Not thrown, or the
      // daemon would count it as a modem fault and reset a healthy modem; the next scan tries again.
      if (!isConnectionLost(err) && !(err instanceof SqlError && isConnectionLost(err.cause))) throw err;
      this.log('error', `outbox not readable, will try again: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async takeNext(): Promise<OutboxJob | undefined> {
    for (let race = 0; race < MAX_LEASE_RACES; race++) {
      const found = await this.run('find_outbox_sms_id', [1, sendDayBit(new Date())]);
      const row = found.rows[0];
      if (!row) return undefined;
      const id = str(row[0]);
      const insertIntoDb = toDate(row[1]);
      const lease = await this.run('refresh_send_status', [id]);
      if (lease.affectedRows === 0) continue; // another daemon took it between our SELECT and UPDATE
      const job = await this.readJob(
        id,
        insertIntoDb ? formatSqlTime(insertIntoDb) : formatSqlTime(new Date()),
      );
      if (job && insertIntoDb) job.queuedAt = insertIntoDb;
      if (job) return job;
    }
    return undefined;
  }

  /**
   * Claims up to `max` messages: one transaction for the batch (batch.ts), or the per-message
   * queries when [sql] overrides one of them.
   */
  async findOutboxBatch(max: number): Promise<OutboxJob[]> {
    return this.exclusive(async () => {
      const jobs: OutboxJob[] = [];
      try {
        if (this.batched) {
          for (const { id, pre } of await claimBatch(this.batch, max, sendDayBit(new Date()))) {
            const queued = toDate(pre.body[14]);
            const job = await this.readJob(id, formatSqlTime(queued ?? new Date()), pre);
            if (job && queued) job.queuedAt = queued;
            if (job) jobs.push(job);
          }
          return jobs;
        }
      } catch (err) {
        // MySQL before 8.0 and MariaDB before 10.6 have no SKIP LOCKED (a syntax error, 1064).
        if ((err as { errno?: unknown }).errno !== 1064) throw err;
        this.batched = false;
        this.log('warn', `no SKIP LOCKED on this server, messages are taken one at a time: ${String(err)}`);
      }
      while (jobs.length < max) {
        const job = await this.takeNext();
        if (!job) break;
        jobs.push(job);
      }
      return jobs;
    });
  }

  /**
   * addSentInfo for an outlet: the part waits to be recorded with every other part sent meanwhile
   * (one multi-row INSERT), and resolves once that is committed.
   */
  async addSentInfoGrouped(job: OutboxJob, part: number, mr: number, networkId?: string): Promise<void> {
    const ctx = this.jobs.get(job.id);
    const p = job.message.parts[part];
    const vars = ctx?.vars[part];
    if (!this.batched || !ctx || !p || !vars) return this.addSentInfo(job, part, mr, networkId);
    const row: SentRow = {
      id: job.id,
      part,
      status: this.wantsReport(p) ? 'SendingOK' : 'SendingOKNoReport',
      mr,
      insertIntoDb: ctx.insertIntoDb,
      creatorId: ctx.creatorId,
      vars,
      multiRow: ctx.multiRow,
    };
    ctx.recording = (ctx.recording ?? 0) + 1;
    // Its last part: the message is sent whole, deleted from the outbox in the same transaction.
    if (job.sentParts.size + ctx.recording === job.message.parts.length) row.completes = true;
    try {
      await this.groups.part(row);
    } finally {
      ctx.recording--;
    }
    job.sentParts.set(part, mr);
    if (row.completes) this.deleted.add(job.id);
    this.partWaiters.get(`${job.id}:${part + 1}`)?.();
  }

  private async commitGroup(rows: SentRow[], moved: string[]): Promise<void> {
    const sentIds = [...moved, ...rows.filter((r) => r.completes).map((r) => r.id)];
    try {
      await this.exclusive(() => commitBatch(this.batch, rows, sentIds));
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // A retry after a lost connection met rows its first try stored: one at a time, as addSentInfo.
      for (const r of rows) {
        const ctx = this.jobs.get(r.id);
        if (ctx) await this.exclusive(() => this.recordSent(r.id, ctx, r.part, r.status, r.mr, -1));
      }
      await this.exclusive(() => commitBatch(this.batch, [], sentIds));
    }
  }

  /** Deletes many sent messages, with the next group of sent parts (one transaction). */
  async moveSentBatch(jobs: readonly OutboxJob[]): Promise<{ job: OutboxJob; error: Error }[]> {
    if (!this.batched) {
      const failed: { job: OutboxJob; error: Error }[] = [];
      for (const job of jobs)
        await this.moveSms(job, 'sent').catch((error: Error) => failed.push({ job, error }));
      return failed;
    }
    const failed: { job: OutboxJob; error: Error }[] = [];
    await Promise.all(
      jobs.map((job) =>
        (this.deleted.delete(job.id) ? Promise.resolve() : this.groups.sent(job.id)).then(
          () => this.jobs.delete(job.id),
          (error: Error) => failed.push({ job, error }),
        ),
      ),
    );
    return failed;
  }

  private async readJob(id: string, insertIntoDb: string, pre?: Prefetched): Promise<OutboxJob | undefined> {
    const body = pre ? pre.body : (await this.run('find_outbox_body', [id])).rows[0];
    if (!body) return undefined; // deleted meanwhile
    const number = str(body[6]);
    const rows: OutboxPartRow[] = [
      {
        text: body[0] === null ? null : str(body[0]),
        coding: str(body[1]),
        udh: str(body[2]),
        messageClass: num(body[3]),
        textDecoded: body[4] === null ? null : str(body[4]),
        status: str(body[12]),
      },
    ];
    const multi = bool(body[7]);
    if (multi) {
      for (let seq = 2; seq <= MAX_PARTS; seq++) {
        const r = pre ? pre.multipart.get(seq) : (await this.run('find_outbox_multipart', [id, seq])).rows[0];
        if (!r) break;
        rows.push({
          text: r[0] === null ? null : str(r[0]),
          coding: str(r[1]),
          udh: str(r[2]),
          messageClass: num(r[3]),
          textDecoded: r[4] === null ? null : str(r[4]),
          status: str(r[7]),
        });
      }
    }
    const validity = num(body[8]);
    const report = str(body[9]).toLowerCase();
    const ctx: JobContext = {
      creatorId: str(body[10]),
      insertIntoDb,
      multiRow: rows.length > 1,
      vars: [],
      deliveryReport: report === 'yes' ? 'yes' : report === 'no' ? 'no' : 'default',
    };
    const job: OutboxJob = {
      id,
      message: { id, number, parts: [], ussd: rows[0]?.messageClass === 127 },
      sentParts: new Map(),
      attempts: num(body[11], 0),
    };
    this.jobs.set(id, ctx);
    if (job.message.ussd) return job;
    let failure: string | undefined;
    if (number === '') failure = 'Message without recipient!';
    for (const row of rows) {
      if (failure) break;
      const r = rowToPart(row, number);
      if (!r.ok) failure = r.reason;
      else job.message.parts.push(r.part);
    }
    if (failure) {
      // Gammu: a message that cannot be read is logged as Error in sentitems and deleted.
      this.log('error', `cannot send outbox message ${id}: ${failure}`);
      ctx.vars = rows.map((r) => ({
        ...submitVars({ number, coding: 'gsm7', text: r.textDecoded ?? '' }),
        coding: r.coding,
      }));
      await this.moveSmsNow(job, 'error', failure, 'Error');
      return undefined;
    }
    const only = job.message.parts[0];
    if (!multi && only && job.message.parts.length === 1)
      job.message.parts = splitLongPart(only, Number(id) & 0xff);
    for (const p of job.message.parts) {
      if (validity >= 0 && validity <= 255) p.validity = validity;
      if (ctx.deliveryReport === 'yes') p.statusReport = true;
      else if (ctx.deliveryReport === 'no') p.statusReport = false;
      if (this.o.smsc) p.smsc = this.o.smsc;
    }
    ctx.vars = job.message.parts.map((p) => submitVars(p, { smsc: this.o.smsc ?? '' }));
    try {
      await this.resumeState(job, rows, ctx, pre);
    } catch (err) {
      // Left leased and queued (as Gammu 1.44 does); the next daemon to take it logs it again.
      this.log('error', (err as Error).message);
      this.jobs.delete(id);
      return undefined;
    }
    return job;
  }

  /** Parts already sent (by us before a crash, or by Gammu 1.44) are skipped: outbox Status or an identical sentitems row. */
  private async resumeState(
    job: OutboxJob,
    rows: OutboxPartRow[],
    ctx: JobContext,
    pre?: Prefetched,
  ): Promise<void> {
    for (const [i, v] of ctx.vars.entries()) {
      if (ctx.multiRow && rows[i]?.status.startsWith('SendingOK')) job.sentParts.set(i, -1);
      const r = pre ? pre.sent.get(i + 1) : (await this.run('find_sent_item', [job.id, i + 1])).rows[0];
      if (!r) continue;
      const same = str(r[5]) === v.number && str(r[4]) === v.text && str(r[2]) === v.udhHex;
      const status = str(r[9]);
      if (same && (status.startsWith('SendingOK') || status.startsWith('Delivery'))) {
        job.sentParts.set(i, num(r[10]));
      } else if (!same) {
        throw new Error(
          `outbox message ${job.id} part ${i + 1} conflicts with an existing, different sentitems row with the same ID; left in the outbox`,
        );
      }
    }
  }

  /** The daemon's own decision (daemon.ts sendOne): the row asks for it, or DeliveryReport is not `no`. */
  private wantsReport(part: SubmitOptions): boolean {
    return part.statusReport ?? this.o.deliveryReport !== 'no';
  }

  async addSentInfo(job: OutboxJob, part: number, mr: number, _networkId?: string): Promise<void> {
    return this.exclusive(() => this.addSentInfoNow(job, part, mr));
  }

  private async addSentInfoNow(job: OutboxJob, part: number, mr: number): Promise<void> {
    job.sentParts.set(part, mr);
    const ctx = this.jobs.get(job.id);
    const p = job.message.parts[part];
    if (!ctx || !p) return;
    const status = this.wantsReport(p) ? 'SendingOK' : 'SendingOKNoReport';
    await this.recordSent(job.id, ctx, part, status, mr, -1);
    await this.run('update_sent', [], ctx.vars[part]);
    if (ctx.multiRow) {
      if (part === 0) await this.run('update_outbox', [job.id, 1, status]);
      else await this.run('update_outbox_multipart', [job.id, part + 1, status]);
    }
    // Sending a long message must not outlive the lease: renew it after every part.
    await this.run('extend_send_status', [job.id]);
  }

  private async recordSent(
    id: string,
    ctx: JobContext,
    part: number,
    status: string,
    mr: number,
    statusCode: number,
  ): Promise<void> {
    try {
      await this.run(
        'add_sent_info',
        [id, part + 1, status, mr, ctx.insertIntoDb, statusCode],
        ctx.vars[part],
        ctx.creatorId,
      );
    } catch (err) {
      // The server stored the row but the connection died before it answered; the retry after
      // the reconnection then meets our own row. Parts already in sentitems from an earlier run
      // were skipped before sending (resumeState), so a duplicate here can only be that.
      if (!isDuplicateKey(err)) throw err;
      this.log('warn', `sentitems already has ${id} part ${part + 1} (stored before a lost connection)`);
    }
  }

  async updateRetries(
    job: OutboxJob,
    _reason: string,
    maxRetries: number,
    retryTimeoutMs: number,
  ): Promise<'retry' | 'give-up'> {
    job.attempts++;
    if (job.attempts > maxRetries) return 'give-up';
    const seconds = Math.max(0, Math.round(retryTimeoutMs / 1000));
    await this.exclusive(() => this.run('update_retries', [job.id, job.attempts, seconds]));
    this.jobs.delete(job.id);
    return 'retry';
  }

  async moveSms(job: OutboxJob, outcome: MoveOutcome, reason?: string): Promise<void> {
    return this.exclusive(() => this.moveSmsNow(job, outcome, reason));
  }

  private async moveSmsNow(
    job: OutboxJob,
    outcome: MoveOutcome,
    reason?: string,
    errorStatus = 'SendingError',
  ): Promise<void> {
    const ctx = this.jobs.get(job.id);
    const code = /CMS ERROR: (\d+)/.exec(reason ?? '')?.[1];
    await this.conn.transaction(async () => {
      if (outcome === 'error' && ctx) {
        for (let i = 0; i < ctx.vars.length; i++)
          if (!job.sentParts.has(i))
            await this.recordSent(job.id, ctx, i, errorStatus, -1, code ? Number(code) : -1);
      }
      await this.run('delete_outbox', [job.id]);
      await this.run('delete_outbox_multipart', [job.id]);
    });
    // Only once it is done: a failed move is retried by the daemon with the same job.
    this.jobs.delete(job.id);
  }

  /** An outlet's matched receipt: the sentitems row of that part, as Gammu updates it for a status report. */
  async saveOutletReport(
    id: string,
    part: number,
    status: 'DeliveryOK' | 'DeliveryFailed' | 'DeliveryPending' | 'DeliveryUnknown',
    at: Date,
  ): Promise<boolean> {
    const my = this.conn.dialect === 'mysql';
    // MySQL and SQLite bind `?` in text order, PostgreSQL `$n` by number.
    const pg = this.conn.dialect === 'pgsql';
    const q = (c: string) => (my ? `\`${c}\`` : `"${c}"`);
    const p = (n: number) => (pg ? `$${n}` : '?');
    const t = my ? `\`${this.o.tables.sentitems}\`` : `"${this.o.tables.sentitems}"`;
    const delivered = status === 'DeliveryOK';
    const sql = `UPDATE ${t} SET ${q('Status')} = ${p(1)}${delivered ? `, ${q('DeliveryDateTime')} = ${p(4)}` : ''} WHERE ${q('ID')} = ${p(2)} AND ${q('SequencePosition')} = ${p(3)}`;
    const values = !pg
      ? [status, ...(delivered ? [formatSqlTime(at)] : []), Number(id), part]
      : [status, Number(id), part, ...(delivered ? [formatSqlTime(at)] : [])];
    const update = async (): Promise<boolean> =>
      (await this.exclusive(() => this.conn.query(sql, values))).affectedRows > 0;
    if (await update()) return true;
    if (!this.batched || this.partWaiters.size >= MAX_PART_WAITERS) return false;
    // A receipt can come before its part's sentitems row is committed (the group commit): once.
    const key = `${id}:${part}`;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.partWaiters.get(key) === done) this.partWaiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, EARLY_RECEIPT_MS);
      this.partWaiters.get(key)?.();
      this.partWaiters.set(key, done);
    });
    return update();
  }

  async refreshSendStatus(job: OutboxJob): Promise<void> {
    await this.exclusive(() => this.run('extend_send_status', [job.id]));
  }

  /**
   * A status report updates its sentitems row (Gammu's rules): same TPMR, number and PhoneID, not
   * yet delivered, status SendingOK or DeliveryPending, the same SMSC (unless the row's SMSC is
   * SkipSMSCNumber or unknown, as when the phone's own SMSC was used), sent within DeliveryReportDelay.
   */
  async saveDeliveryReport(report: StatusReportPdu): Promise<DeliveryReportResult> {
    return this.exclusive(() => this.saveDeliveryReportNow(report));
  }

  private async saveDeliveryReportNow(report: StatusReportPdu): Promise<DeliveryReportResult> {
    const smsc = report.smsc?.number ?? '';
    const vars = submitVars(
      { number: canonicalNumber(report.recipient.number), coding: 'gsm7', text: '' },
      {
        smsc,
        mr: report.mr,
        deliveryStatus: report.status,
        smscTime: formatSqlTime(report.discharge.date),
        dateTime: formatSqlTime(report.scts.date),
      },
    );
    const rows = (await this.run('save_inbox_sms_select', [], vars)).rows;
    let why = `Failed to find SMS for TPMR=${report.mr}, Number=${vars.number}`;
    for (const r of rows) {
      const rowSmsc = str(r[4]);
      const state = str(r[1]);
      if (smsc !== '' && rowSmsc !== '' && rowSmsc !== smsc && rowSmsc !== (this.o.skipSmscNumber ?? '')) {
        why = `Failed to match SMSC, you might want to use SkipSMSCNumber (sent: ${rowSmsc}, received: ${smsc})`;
        continue;
      }
      if (state !== 'SendingOK' && state !== 'DeliveryPending') continue;
      const sent = toDate(r[2]);
      const diff = sent ? Math.abs(report.scts.date.getTime() - sent.getTime()) / 1000 : Infinity;
      if (!(diff < this.o.deliveryReportDelay)) {
        why = `Delivery report would match, but time delta is too big (${Math.round(diff)}), consider increasing DeliveryReportDelay`;
        continue;
      }
      const status = {
        delivered: 'DeliveryOK',
        failed: 'DeliveryFailed',
        pending: 'DeliveryPending',
        unknown: 'DeliveryUnknown',
      }[report.statusInfo.category];
      const id = str(r[0]);
      await this.run(
        status === 'DeliveryOK' ? 'save_inbox_sms_update_delivered' : 'save_inbox_sms_update',
        [status, id],
        vars,
      );
      return { matched: true, id, part: r.length > 5 ? num(r[5]) : -1, status };
    }
    return { matched: false, reason: why };
  }
}

/** MySQL ER_DUP_ENTRY (1062), PostgreSQL unique_violation (23505), SQLite's primary key or unique constraint. */
function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown };
  return (
    e.code === 'ER_DUP_ENTRY' ||
    e.errno === 1062 ||
    e.code === '23505' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

import { afterEach, expect, it } from 'vitest';
import type { OutboxJob, SmsdService } from '../../src/lib/services/types.js';
import type { OutboxMessage } from '../../src/lib/spool/outbox-files.js';
import { buildMessage } from '../../src/lib/inject/message.js';
import { decodeDeliver, encodeDeliver } from '../../src/lib/sms/index.js';
import type { DeliverPdu } from '../../src/lib/sms/deliver.js';
import { buildConcatUdh } from '../../src/lib/sms/udh.js';

/** One backend's store (a spool, a database) and how to reach it from a test. */
export interface ContractHarness {
  /** A service on the store, initialised and connected (as a daemon with `phoneId` would use it). */
  newService(phoneId: string): Promise<SmsdService>;
  /** Queues a message the way `smsd inject` does on this backend. */
  queue(msg: OutboxMessage): Promise<void>;
  /** How many messages are still queued. */
  queued(): Promise<number>;
  /** Decoded texts of what the inbox holds, in storing order. */
  inboxTexts(): Promise<string[]>;
  /** Makes claims of services that are gone take-over-able at once (a lease or stale lock expiring). */
  expireClaims(): Promise<void>;
  close(): Promise<void>;
}

export function textMessage(number: string, text: string, long = false): OutboxMessage {
  return buildMessage(
    {
      type: 'text',
      number,
      text,
      coding: 'gsm7',
      maxLength: long ? 1000 : undefined,
      ref16bit: false,
      flash: false,
      report: false,
      replyPath: false,
      replaceMessage: 0,
    },
    { now: new Date(), ref: 0x42 },
  );
}

function deliver(text: string, concat?: { seq: number; total: number }): DeliverPdu {
  const pdu = encodeDeliver({
    originator: '+420777000111',
    smsc: '+420603052000',
    coding: 'gsm7',
    text,
    scts: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    udh: concat
      ? buildConcatUdh({ ref: 9, total: concat.total, seq: concat.seq, ref16bit: false })
      : undefined,
  });
  return decodeDeliver(pdu.hex);
}

/**
 * The storage contract every SmsdService passes (files, MySQL/MariaDB, PostgreSQL): received
 * messages are stored with one ID per part, a queued message is handed to one daemon at a time,
 * sent parts survive a crash, and retries end in the error outcome after MaxRetries.
 */
export function serviceContract(make: () => Promise<ContractHarness | undefined>): void {
  let h: ContractHarness | undefined;
  const services: SmsdService[] = [];
  const svc = async (phoneId: string): Promise<SmsdService> => {
    const s = await (h as ContractHarness).newService(phoneId);
    services.push(s);
    return s;
  };
  const setup = async (): Promise<boolean> => {
    h = await make();
    return h !== undefined;
  };
  afterEach(async () => {
    for (const s of services.splice(0)) await s.free().catch(() => undefined);
    await h?.close();
    h = undefined;
  });

  it('stores a received message, one ID per part, with its text', async () => {
    if (!(await setup())) return;
    const a = await svc('A');
    const single = await a.saveInbox({
      parts: [deliver('Hello inbox')],
      complete: true,
      text: 'Hello inbox',
    });
    expect(single).toHaveLength(1);
    const two = await a.saveInbox({
      parts: [deliver('first half ', { seq: 1, total: 2 }), deliver('second half', { seq: 2, total: 2 })],
      complete: true,
      text: 'first half second half',
    });
    expect(two).toHaveLength(2);
    expect(new Set([...single, ...two]).size).toBe(3);
    const texts = (await h!.inboxTexts()).join('|');
    expect(texts).toContain('Hello inbox');
    expect(texts).toContain('first half ');
  });

  it('hands a queued message to one daemon only; sent and moved, it is gone', async () => {
    if (!(await setup())) return;
    const a = await svc('A');
    const b = await svc('B');
    await h!.queue(textMessage('+420100000001', 'only once'));
    const job = await a.findOutbox();
    expect(job?.message.number).toBe('+420100000001');
    expect(job?.message.parts.map((p) => p.text)).toEqual(['only once']);
    expect(await b.findOutbox()).toBeUndefined();
    await a.addSentInfo(job!, 0, 42);
    await a.moveSms(job!, 'sent');
    expect(await h!.queued()).toBe(0);
    expect(await b.findOutbox()).toBeUndefined();
    expect(await a.findOutbox()).toBeUndefined();
  });

  it('gives each of two queued messages to a different daemon', async () => {
    if (!(await setup())) return;
    const a = await svc('A');
    const b = await svc('B');
    await h!.queue(textMessage('+420100000002', 'one'));
    await h!.queue(textMessage('+420100000003', 'two'));
    const [ja, jb] = await Promise.all([a.findOutbox(), b.findOutbox()]);
    expect(ja).toBeDefined();
    expect(jb).toBeDefined();
    expect(ja?.id).not.toBe(jb?.id);
  });

  it('resumes a multipart message after a crash with the unsent parts only', async () => {
    if (!(await setup())) return;
    const a = await svc('A');
    await h!.queue(textMessage('+420100000004', 'long text, part after part. '.repeat(8), true));
    const job = await a.findOutbox();
    expect(job?.message.parts.length).toBe(2);
    expect(job?.message.parts[0]?.udh).toBeDefined();
    await a.addSentInfo(job!, 0, 7);
    await a.free(); // the daemon dies before part 2
    await h!.expireClaims();
    const b = await svc('B');
    const resumed = await b.findOutbox();
    expect(resumed?.id).toBe(job?.id);
    expect([...(resumed?.sentParts.keys() ?? [])]).toEqual([0]);
    await b.addSentInfo(resumed!, 1, 8);
    await b.moveSms(resumed!, 'sent');
    expect(await h!.queued()).toBe(0);
  });

  it('retries a failed message, then gives up after MaxRetries', async () => {
    if (!(await setup())) return;
    const a = await svc('A');
    await h!.queue(textMessage('+420100000005', 'flaky'));
    const first = await a.findOutbox();
    expect(first?.attempts).toBe(0);
    expect(await a.updateRetries(first!, '+CMS ERROR: 500', 1, 0)).toBe('retry');
    const second = await a.findOutbox();
    expect(second?.id).toBe(first?.id);
    expect(second?.attempts).toBe(1);
    expect(await a.updateRetries(second!, '+CMS ERROR: 500', 1, 0)).toBe('give-up');
    await a.moveSms(second!, 'error', '+CMS ERROR: 500');
    expect(await h!.queued()).toBe(0);
    expect(await a.findOutbox()).toBeUndefined();
  });
}

/**
 * The batch operations an outlet uses (findOutboxBatch, addSentInfoGrouped or addSentInfo,
 * moveSentBatch): every service that has them passes the same rules as the one-at-a-time calls.
 */
export function batchContract(make: () => Promise<ContractHarness | undefined>): void {
  let h: ContractHarness | undefined;
  const services: SmsdService[] = [];
  const svc = async (
    phoneId: string,
  ): Promise<Required<Pick<SmsdService, 'findOutboxBatch' | 'moveSentBatch'>> & SmsdService> => {
    const s = await (h as ContractHarness).newService(phoneId);
    services.push(s);
    if (!s.findOutboxBatch || !s.moveSentBatch) throw new Error(`${s.name}: no batch operations`);
    return s as Required<Pick<SmsdService, 'findOutboxBatch' | 'moveSentBatch'>> & SmsdService;
  };
  const setup = async (): Promise<boolean> => {
    h = await make();
    return h !== undefined;
  };
  afterEach(async () => {
    for (const s of services.splice(0)) await s.free().catch(() => undefined);
    await h?.close();
    h = undefined;
  });
  const record = (s: SmsdService, job: OutboxJob, part: number): Promise<void> =>
    s.addSentInfoGrouped
      ? s.addSentInfoGrouped(job, part, 100 + part, `net-${job.id}-${part}`)
      : s.addSentInfo(job, part, 100 + part, `net-${job.id}-${part}`);

  it('claims batches of at most the size asked, each message by one daemon only', async () => {
    if (!(await setup())) return;
    const a = await svc('A');
    const b = await svc('B');
    for (let i = 0; i < 7; i++) await h!.queue(textMessage(`+42010000010${i}`, `batch ${i}`));
    await h!.queue(textMessage('+420100000120', 'long batch text, part after part. '.repeat(8), true));
    const [ja, jb] = await Promise.all([a.findOutboxBatch(3), b.findOutboxBatch(3)]);
    expect(ja.length).toBe(3);
    expect(jb.length).toBe(3);
    const rest = await a.findOutboxBatch(10);
    expect(rest.length).toBe(2);
    const all = [...ja, ...jb, ...rest];
    expect(new Set(all.map((j) => j.id)).size).toBe(8);
    expect(all.map((j) => j.message.number).sort()).toEqual(
      [...Array.from({ length: 7 }, (_, i) => `+42010000010${i}`), '+420100000120'].sort(),
    );
    expect(all.find((j) => j.message.number === '+420100000120')?.message.parts.length).toBe(2);
    expect(await b.findOutboxBatch(10)).toEqual([]);
    expect(await a.findOutboxBatch(10)).toEqual([]);
  });

  it('records sent parts in groups, moves a batch, and nothing is handed out again', async () => {
    if (!(await setup())) return;
    const a = await svc('A');
    const b = await svc('B');
    for (let i = 0; i < 5; i++) await h!.queue(textMessage(`+42010000020${i}`, `moved ${i}`));
    const jobs = await a.findOutboxBatch(10);
    expect(jobs.length).toBe(5);
    await Promise.all(jobs.map((j) => record(a, j, 0)));
    for (const j of jobs) expect([...j.sentParts.keys()]).toEqual([0]);
    expect(await a.moveSentBatch(jobs)).toEqual([]);
    expect(await h!.queued()).toBe(0);
    await h!.expireClaims();
    expect(await b.findOutboxBatch(10)).toEqual([]);
    expect(await a.findOutboxBatch(10)).toEqual([]);
  });

  it('resumes a batch-claimed multipart message after a crash with the unsent parts only', async () => {
    if (!(await setup())) return;
    const a = await svc('A');
    await h!.queue(textMessage('+420100000300', 'long text, part after part. '.repeat(8), true));
    await h!.queue(textMessage('+420100000301', 'short one'));
    const jobs = await a.findOutboxBatch(10);
    const long = jobs.find((j) => j.message.parts.length === 2);
    expect(long).toBeDefined();
    await record(a, long!, 0);
    await a.free(); // the daemon dies before part 2 and before the short one
    await h!.expireClaims();
    const b = await svc('B');
    const resumed = await b.findOutboxBatch(10);
    expect(resumed.map((j) => j.message.number).sort()).toEqual(['+420100000300', '+420100000301']);
    const again = resumed.find((j) => j.id === long!.id);
    expect([...(again?.sentParts.keys() ?? [])]).toEqual([0]);
    await record(b, again!, 1);
    for (const j of resumed.filter((j) => j !== again)) await record(b, j, 0);
    expect(await b.moveSentBatch(resumed)).toEqual([]);
    expect(await h!.queued()).toBe(0);
  });
}

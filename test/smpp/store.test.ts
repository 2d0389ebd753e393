import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import smpp from 'smpp';
import { makeSpool, type TempSpool } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';
import { OutboxStore, type OutboxStoreOptions } from '../../src/lib/smpp/store/store.js';
import { MessageIndex } from '../../src/lib/smpp/store/messages.js';
import { checkSubmit, newMessageId } from '../../src/lib/smpp/protocol/mt.js';
import { decodePdu } from '../../src/lib/smpp/protocol/pdu.js';
import { MESSAGE_STATE } from '../../src/lib/smpp/protocol/deliver.js';
import { JOURNAL_DIR, readSegment, recoverJournals } from '../../src/lib/spool/journal.js';

// The store acknowledges a message once its journal record is durable; its outbox file follows.
// Here the materializer is held up on purpose (its staging folder made a file) to look at a message
// in between: found by query_sm and cancel_sm, counted against the backlog, and never lost.

let spool: TempSpool;
let store: OutboxStore | undefined;
let logs: string[];
const staging = (): string => path.join(spool.outbox, '.smppd-staging');

beforeEach(() => {
  spool = makeSpool();
  fs.mkdirSync(path.join(spool.dir, 'reports'));
  logs = [];
});
afterEach(async () => {
  unblock();
  await store?.close(2_000);
  store = undefined;
  spool.cleanup();
});

function open(options: OutboxStoreOptions = {}): { store: OutboxStore; index: MessageIndex } {
  store = new OutboxStore(spool.outbox, [spool.sent, spool.error], {
    retryMs: 20,
    log: (level, m) => logs.push(`${level} ${m}`),
    ...options,
  });
  const index = new MessageIndex({ ...spool, reports: path.join(spool.dir, 'reports') });
  index.unmaterialized = store;
  return { store, index };
}

/** Files cannot be created until unblock(). */
function block(): void {
  fs.rmSync(staging(), { recursive: true, force: true });
  fs.writeFileSync(staging(), 'not a folder');
}

function unblock(): void {
  if (fs.statSync(staging(), { throwIfNoEntry: false })?.isFile()) {
    fs.rmSync(staging());
    fs.mkdirSync(staging());
  }
}

/** Submits a message for `sid`; resolves with its ID and file name once acknowledged. */
function submit(s: OutboxStore, text: string, sid = 'alpha'): Promise<{ id: string; name: string }> {
  const pdu = decodePdu(
    new smpp.PDU('submit_sm', {
      destination_addr: '+420123456789',
      data_coding: 0,
      short_message: Buffer.from(text),
    }).toBuffer(),
  );
  const check = checkSubmit(pdu);
  if (!check.ok) throw new Error(check.reason);
  const id = newMessageId();
  const now = new Date();
  return new Promise((resolve, reject) =>
    s.add(
      check.request,
      { sid, id, rd: 0, src: { ton: 0, npi: 0, addr: '' }, at: now.toISOString() },
      now,
      (err, name) => (err ? reject(err) : resolve({ id, name })),
    ),
  );
}

const inOutbox = (name: string): boolean => fs.existsSync(path.join(spool.outbox, name));

describe('acknowledged before its file exists', () => {
  it('is found by query_sm (ENROUTE, only for its submitter) and cancel_sm waits for its file', async () => {
    const { store: s, index } = open();
    block();
    const m = await submit(s, 'cancel me');
    await waitFor(
      () => logs.some((l) => l.includes('cannot create a message file')),
      5_000,
      'failure logged',
    );
    expect(inOutbox(m.name)).toBe(false);
    expect(index.query(m.id, 'ALPHA')).toEqual({ state: MESSAGE_STATE.ENROUTE, error: 0 });
    expect(index.query(m.id, 'other')).toBeUndefined();
    expect(await index.cancel(m.id, 'other', () => undefined)).toBe(false);
    let cancelled: boolean | undefined;
    const cancelling = index.cancel(m.id, 'alpha', () => undefined).then((ok) => (cancelled = ok));
    await new Promise((r) => setTimeout(r, 100));
    expect(cancelled).toBeUndefined(); // still waiting for the file
    unblock();
    await cancelling;
    expect(cancelled).toBe(true);
    expect(fs.existsSync(path.join(spool.error, m.name))).toBe(true);
    expect(inOutbox(m.name)).toBe(false);
    expect(logs.some((l) => l.includes('creating message files works again'))).toBe(true);
    // Recovery (as after a kill -9 of this writer) does not bring the cancelled message back.
    recoverJournals(spool.outbox, [spool.sent, spool.error]);
    expect(inOutbox(m.name)).toBe(false);
  });

  it('counts against the backlog: full after maxBacklog, room again once the files exist', async () => {
    const { store: s } = open({ maxBacklog: 4 });
    let rooms = 0;
    s.onRoom = () => rooms++;
    block();
    const acked = await Promise.all([1, 2, 3].map((i) => submit(s, `m${i}`)));
    expect(s.full).toBe(false);
    acked.push(await submit(s, 'm4'));
    expect(s.full).toBe(true);
    expect(s.backlogSize).toBe(4);
    unblock();
    await s.settled();
    expect(rooms).toBe(1);
    expect(s.full).toBe(false);
    for (const m of acked) expect(inOutbox(m.name)).toBe(true);
  });

  it('moves to the next serial when its name is taken meanwhile; the new name is journaled and announced', async () => {
    const renamed: [string, string][] = [];
    const { store: s } = open({ renamed: (id, name) => renamed.push([id, name]) });
    block();
    const m = await submit(s, 'mine');
    fs.writeFileSync(path.join(spool.outbox, m.name), 'someone else');
    unblock();
    await s.settled();
    const other = m.name.replace(/^(OUT[A-Z]\d{8}_\d{6}_)00_/, '$101_');
    expect(renamed).toEqual([[m.id, other]]);
    expect(fs.readFileSync(path.join(spool.outbox, m.name), 'utf8')).toBe('someone else');
    expect(fs.readFileSync(path.join(spool.outbox, other), 'utf8')).toContain('mine');
    expect(logs.some((l) => l.startsWith('warn') && l.includes(`${m.name} existed already`))).toBe(true);
    const dir = path.join(spool.outbox, JOURNAL_DIR);
    const names = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.wal'))
      .flatMap((f) => readSegment(fs.readFileSync(path.join(dir, f))).records.map((r) => r.name));
    expect(names).toEqual([m.name, other]);
    expect(fs.readdirSync(spool.outbox).filter((n) => n.startsWith('OUT'))).toHaveLength(2);
  });

  it('gets its file from a new thread when the materializer dies', async () => {
    const { store: s } = open();
    block();
    const acked = await Promise.all([1, 2, 3].map((i) => submit(s, `m${i}`)));
    const inner = s as unknown as { materializer: { worker: { terminate(): Promise<number> } } };
    await inner.materializer.worker.terminate();
    await waitFor(() => logs.some((l) => l.includes('restarting it')), 5_000, 'restart logged');
    unblock();
    await s.settled();
    for (const m of acked) expect(inOutbox(m.name)).toBe(true);
    expect(fs.readdirSync(spool.outbox).filter((n) => n.startsWith('OUT'))).toHaveLength(3);
  });

  it('stays in its journal segment when the store closes before its file exists; the next start restores it', async () => {
    const { store: s } = open();
    block();
    const acked = await Promise.all([1, 2].map((i) => submit(s, `m${i}`)));
    await s.close(100);
    store = undefined;
    expect(logs.some((l) => l.includes('2 acknowledged messages still without their outbox file'))).toBe(
      true,
    );
    unblock();
    expect(recoverJournals(spool.outbox, [spool.sent, spool.error]).restored.sort()).toEqual(
      acked.map((m) => m.name).sort(),
    );
  });
});

import { afterEach, expect, it } from 'vitest';
import type { MessageLookup, MessageStore } from '../../src/lib/smpp/store/message-store.js';
import type { SmppMeta } from '../../src/lib/smpp/store/store.js';
import { checkSubmit, newMessageId, type SubmitRequest } from '../../src/lib/smpp/protocol/mt.js';
import { decodePdu, encodePdu } from '../../src/lib/smpp/protocol/pdu.js';
import { MESSAGE_STATE } from '../../src/lib/smpp/protocol/deliver.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';

/** One smppd store (the spool, a database) with its lookup, as smppd serve opens them. */
export interface StoreHarness {
  store: MessageStore;
  lookup: MessageLookup;
  close(): Promise<void>;
}

export function submitRequest(destination: string, text: string): SubmitRequest {
  const check = checkSubmit(
    decodePdu(
      encodePdu('submit_sm', {
        sequence_number: 1,
        destination_addr: destination,
        short_message: Buffer.from(encodeGsm7(text)),
        registered_delivery: 1,
      }),
    ),
  );
  if (!check.ok) throw new Error(check.reason);
  return check.request;
}

const meta = (sid: string, id: string): SmppMeta => ({
  sid,
  id,
  rd: 1,
  src: { ton: 0, npi: 0, addr: '' },
  at: new Date().toISOString(),
});

/**
 * The contract both smppd stores pass (files, MySQL/MariaDB, PostgreSQL; smpp/store/message-store.ts):
 * a submit is answered once durable, with a name; query_sm finds it for its own system_id only;
 * cancel_sm takes it back once, for its owner only, and query_sm then says DELETED; a burst is
 * answered message by message; drain and close end cleanly. `open` gives undefined to skip.
 */
export function messageStoreContract(open: () => Promise<StoreHarness | undefined>): void {
  let h: StoreHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const add = (s: MessageStore, sid: string, id: string, text = 'hello'): Promise<string> =>
    new Promise((resolve, reject) =>
      s.add(submitRequest('+420600000001', text), meta(sid, id), new Date(), (err, name) =>
        err ? reject(err) : resolve(name),
      ),
    );

  it('answers a submit once it is durable, and query_sm finds it for its system_id only', async () => {
    h = await open();
    if (!h) return;
    expect(h.store.recover()).toEqual([]);
    const id = newMessageId();
    const name = await add(h.store, 'shop', id);
    expect(name).toEqual(expect.any(String));
    expect(name).toContain(id);
    h.lookup.remember(id, name);
    expect(await h.lookup.query(id, 'shop')).toMatchObject({ state: MESSAGE_STATE.ENROUTE });
    expect(await h.lookup.query(id, 'SHOP')).toMatchObject({ state: MESSAGE_STATE.ENROUTE });
    expect(await h.lookup.query(id, 'bank')).toBeUndefined();
    expect(await h.lookup.query(newMessageId(), 'shop')).toBeUndefined();
  });

  it('cancel_sm takes a queued message back once, for its owner only; query_sm then says DELETED', async () => {
    h = await open();
    if (!h) return;
    const id = newMessageId();
    const name = await add(h.store, 'shop', id);
    h.lookup.remember(id, name);
    await h.store.settled();
    const cancelled: string[] = [];
    expect(await h.lookup.cancel(id, 'bank', (n) => cancelled.push(n))).toBe(false);
    expect(cancelled).toEqual([]);
    expect(await h.lookup.query(id, 'shop')).toMatchObject({ state: MESSAGE_STATE.ENROUTE });
    expect(await h.lookup.cancel(id, 'shop', (n) => cancelled.push(n))).toBe(true);
    expect(cancelled).toEqual([name]);
    expect(await h.lookup.query(id, 'shop')).toMatchObject({ state: MESSAGE_STATE.DELETED });
    expect(await h.lookup.cancel(id, 'shop', (n) => cancelled.push(n))).toBe(false);
    expect(cancelled).toEqual([name]);
  });

  it('answers each of a burst of submits with its own name; drain and close end cleanly', async () => {
    h = await open();
    if (!h) return;
    const ids = Array.from({ length: 200 }, () => newMessageId());
    const names = await Promise.all(ids.map((id, i) => add(h!.store, i % 2 ? 'shop' : 'bank', id, `m${i}`)));
    expect(new Set(names).size).toBe(ids.length);
    names.forEach((n, i) => expect(n).toContain(ids[i]));
    expect(h.store.full).toBe(false);
    await h.store.drain();
    await h.store.settled();
    for (const [i, id] of ids.entries()) {
      h.lookup.remember(id, names[i] as string);
      expect(await h.lookup.query(id, i % 2 ? 'shop' : 'bank'), id).toMatchObject({
        state: MESSAGE_STATE.ENROUTE,
      });
    }
  });
}

import { num, str } from '../../services/sql/rows.js';
import { MESSAGE_STATE } from '../protocol/deliver.js';
import { SMPPD_TABLES, type SmppdDb } from '../sql/db.js';
import { outcomeOf, SENT_COLUMNS, sentRow, type SentRow } from '../sql/outcome.js';
import type { SqlMessageMeta } from '../sql/store.js';
import type { ApiReceipt, MessageView } from './json-status.js';

/**
 * `GET /v1/messages/{id}` on the SQL outbox: smppd_message (owner, parts, meta, the closed state)
 * and the message's `sentitems` rows (one per part sent, with its status report), read like
 * query_sm reads them (sql/messages.ts). Another account's message is absent.
 */

const ID_RE = /^[0-9A-Za-z]{1,64}$/;

/** A sentitems Status with a status report behind it → the receipt's state. */
const REPORTED: Record<string, ApiReceipt['state']> = {
  DeliveryOK: 'delivered',
  DeliveryFailed: 'failed',
  DeliveryPending: 'pending',
  DeliveryUnknown: 'unknown',
};

export function sqlMessageView(db: SmppdDb, id: string, systemId: string): Promise<MessageView | undefined> {
  if (!ID_RE.test(id)) return Promise.resolve(undefined);
  const f = (n: string): string => db.f(n);
  return db.exclusive(async () => {
    const r = await db.query(
      `SELECT ${['system_id', 'state', 'final_state', 'final_error', 'outbox_id', 'parts', 'meta'].map(f).join(', ')} FROM ${SMPPD_TABLES.message} WHERE ${f('message_id')} = ?`,
      [id],
    );
    const x = r.rows[0];
    if (!x || str(x[0]).toLowerCase() !== systemId.toLowerCase()) return undefined;
    let meta: SqlMessageMeta;
    try {
      meta = JSON.parse(str(x[6])) as SqlMessageMeta;
    } catch {
      return undefined; // not a row smppd wrote
    }
    const parts = num(x[5], 1);
    const sent = await db.query(
      `SELECT ${SENT_COLUMNS.map(f).join(', ')} FROM ${db.tables.sentitems} WHERE ${f('ID')} = ? ORDER BY ${f('SequencePosition')}`,
      [num(x[4])],
    );
    const rows: SentRow[] = sent.rows.map((row) => sentRow(row).row);
    const receipts: ApiReceipt[] = rows
      .filter((p) => REPORTED[p.status] !== undefined)
      .map((p) => ({
        part: p.part,
        state: REPORTED[p.status] ?? 'unknown',
        status: Math.max(0, p.statusError),
        description: p.status,
        at: (p.delivered ?? p.updated ?? new Date()).toISOString(),
      }));
    const closed = num(x[1]) !== 0 && num(x[2]) !== MESSAGE_STATE.ENROUTE;
    const o = outcomeOf(rows, parts);
    const final = closed ? num(x[2]) : o.final ? o.state : undefined;
    const state: MessageView['state'] =
      final === MESSAGE_STATE.DELIVERED
        ? 'delivered'
        : final === MESSAGE_STATE.DELETED
          ? 'cancelled'
          : final !== undefined
            ? 'failed'
            : rows.length > 0
              ? 'sent'
              : 'queued';
    const error = closed ? num(x[3]) : o.final ? o.error : 0;
    return {
      id,
      to: meta.dst,
      from: meta.src.ton === 1 ? `+${meta.src.addr}` : meta.src.addr,
      state,
      parts,
      submitted_at: meta.at,
      ...(state === 'failed' ? { error } : {}),
      receipts,
    };
  });
}

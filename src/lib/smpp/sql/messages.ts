import { sqlNow } from '../../services/sql/queries.js';
import { formatSqlTime, num, str, toDate } from '../../services/sql/rows.js';
import { MESSAGE_STATE } from '../protocol/deliver.js';
import type { MessageLookup } from '../store/message-store.js';
import type { MessageStatus } from '../store/messages.js';
import { SMPPD_TABLES, type SmppdDb } from './db.js';
import { forUpdate } from './dialect.js';
import { outcomeOf, SENT_COLUMNS, sentRow } from './outcome.js';
import { setPriority, sqlMessageName, sqlMeta } from './store.js';
import type { Replacement } from '../protocol/replace.js';
import type { SmppMeta } from '../store/store.js';

/**
 * query_sm, cancel_sm and replace_sm of SQL-stored messages, by smppd_message (any node answers
 * for any message of the ESME's account). Cancelling takes the outbox rows the way a daemon takes
 * them (only while SendingTimeOut has passed, i.e. no daemon holds the lease) and only while no part
 * of it is in sentitems; the smppd_message row is closed as DELETED in the same transaction.
 * Replacing takes the rows the same way and queues the new message in their place (a new outbox
 * ID, the same message ID, SenderID and Priority), all in one transaction.
 */

class NotCancellable extends Error {}

const ID_RE = /^[0-9A-Za-z]{1,64}$/;

export class SqlMessageLookup implements MessageLookup {
  constructor(private readonly db: SmppdDb) {}

  remember(): void {
    // The smppd_message row is the index.
  }

  private async row(id: string, systemId: string, lock = false) {
    const { db } = this;
    const f = (n: string): string => db.f(n);
    const r = await db.query(
      `SELECT ${['system_id', 'state', 'final_state', 'final_error', 'done_at', 'outbox_id', 'parts'].map(f).join(', ')} FROM ${SMPPD_TABLES.message} WHERE ${f('message_id')} = ?${lock ? forUpdate(db.dialect) : ''}`,
      [id],
    );
    const x = r.rows[0];
    if (!x || str(x[0]).toLowerCase() !== systemId.toLowerCase()) return undefined;
    return {
      open: num(x[1]) === 0,
      finalState: num(x[2]),
      finalError: num(x[3]),
      doneAt: toDate(x[4]),
      outboxId: num(x[5]),
      parts: num(x[6], 1),
    };
  }

  query(id: string, systemId: string): Promise<MessageStatus | undefined> {
    if (!ID_RE.test(id)) return Promise.resolve(undefined);
    return this.db.exclusive(async () => {
      const m = await this.row(id, systemId);
      if (!m) return undefined;
      // Closed without a final state (sent, no receipt wanted) is read like an open one.
      if (!m.open && m.finalState !== MESSAGE_STATE.ENROUTE)
        return { state: m.finalState, error: m.finalError, ...(m.doneAt ? { finalDate: m.doneAt } : {}) };
      // The receipt poller may not have seen it yet: read sentitems now.
      const { db } = this;
      const r = await db.query(
        `SELECT ${SENT_COLUMNS.map((c) => db.f(c)).join(', ')} FROM ${db.tables.sentitems} WHERE ${db.f('ID')} = ?`,
        [m.outboxId],
      );
      const o = outcomeOf(
        r.rows.map((x) => sentRow(x).row),
        m.parts,
      );
      if (o.final && o.reported) return { state: o.state, error: o.error, finalDate: o.done };
      return { state: MESSAGE_STATE.ENROUTE, error: 0 };
    });
  }

  cancel(id: string, systemId: string, beforeCancel: (name: string) => void): Promise<boolean> {
    if (!ID_RE.test(id)) return Promise.resolve(false);
    const { db } = this;
    const f = (n: string): string => db.f(n);
    const now = sqlNow(db.dialect);
    return db.exclusive(async () => {
      try {
        return await db.svc.transaction(async () => {
          const m = await this.row(id, systemId, true);
          if (!m?.open) return false;
          const taken = await db.query(
            `DELETE FROM ${db.tables.outbox} WHERE ${f('ID')} = ? AND (${f('SendingTimeOut')} IS NULL OR ${f('SendingTimeOut')} <= ${now})`,
            [m.outboxId],
          );
          if (taken.affectedRows === 0) return false; // a daemon holds it, or it has left the outbox
          const sent = await db.query(`SELECT COUNT(*) FROM ${db.tables.sentitems} WHERE ${f('ID')} = ?`, [
            m.outboxId,
          ]);
          // Some parts already went out (a daemon that gave its lease up between parts): too late.
          if (num(sent.rows[0]?.[0], 0) > 0) throw new NotCancellable();
          await db.query(`DELETE FROM ${db.tables.outbox_multipart} WHERE ${f('ID')} = ?`, [m.outboxId]);
          await db.query(
            `UPDATE ${SMPPD_TABLES.message} SET ${f('state')} = 1, ${f('final_state')} = ?, ${f('final_error')} = 0, ${f('done_at')} = ? WHERE ${f('message_id')} = ?`,
            [MESSAGE_STATE.DELETED, formatSqlTime(new Date()), id],
          );
          beforeCancel(sqlMessageName(id));
          return true;
        });
      } catch (err) {
        if (err instanceof NotCancellable) return false;
        throw err;
      }
    });
  }

  replace(id: string, systemId: string, r: Replacement): Promise<boolean> {
    if (!ID_RE.test(id)) return Promise.resolve(false);
    const { db } = this;
    const f = (n: string): string => db.f(n);
    const free = `(${f('SendingTimeOut')} IS NULL OR ${f('SendingTimeOut')} <= ${sqlNow(db.dialect)})`;
    return db.exclusive(async () => {
      try {
        return await db.svc.transaction(async () => {
          const m = await this.row(id, systemId, true);
          if (!m?.open) return false;
          const old = await db.query(
            `SELECT ${['DestinationNumber', 'Coding', 'Priority', 'SenderID'].map(f).join(', ')} FROM ${db.tables.outbox} WHERE ${f('ID')} = ? AND ${free}${forUpdate(db.dialect)}`,
            [m.outboxId],
          );
          const o = old.rows[0];
          if (!o) return false; // a daemon holds it, or it has left the outbox
          const taken = await db.query(`DELETE FROM ${db.tables.outbox} WHERE ${f('ID')} = ? AND ${free}`, [
            m.outboxId,
          ]);
          if (taken.affectedRows === 0) return false;
          const sent = await db.query(`SELECT COUNT(*) FROM ${db.tables.sentitems} WHERE ${f('ID')} = ?`, [
            m.outboxId,
          ]);
          if (num(sent.rows[0]?.[0], 0) > 0) throw new NotCancellable();
          await db.query(`DELETE FROM ${db.tables.outbox_multipart} WHERE ${f('ID')} = ?`, [m.outboxId]);
          const metaRow = await db.query(
            `SELECT ${f('meta')} FROM ${SMPPD_TABLES.message} WHERE ${f('message_id')} = ?`,
            [id],
          );
          const meta = JSON.parse(str(metaRow.rows[0]?.[0])) as SmppMeta;
          const next = r.request(meta, str(o[0]), str(o[1]));
          if (!next) throw new NotCancellable();
          const { request } = next;
          const outboxId = await db.svc.insertOutbox(
            {
              number: request.destination,
              entries: request.entries,
              ...(request.validity !== undefined ? { validity: request.validity } : {}),
            },
            `smppd ${meta.id}`,
            o[3] == null ? '' : str(o[3]),
          );
          const priority = num(o[2], 0);
          if (priority !== 0) await setPriority(db, priority, [outboxId]);
          await db.query(
            `UPDATE ${SMPPD_TABLES.message} SET ${f('outbox_id')} = ?, ${f('parts')} = ?, ${f('meta')} = ? WHERE ${f('message_id')} = ?`,
            [outboxId, request.entries.length, JSON.stringify(sqlMeta(request, next.meta)), id],
          );
          return true;
        });
      } catch (err) {
        if (err instanceof NotCancellable) return false;
        throw err;
      }
    });
  }
}

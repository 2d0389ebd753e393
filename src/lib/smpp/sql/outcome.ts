import { toDate, num, str } from '../../services/sql/rows.js';
import { MESSAGE_STATE } from '../protocol/deliver.js';

/**
 * Where a message stands by its `sentitems` rows (one per part, written by the daemon that sent
 * it, updated by the status report): the receipt rules of the spool path, read from SQL.
 */

export interface SentRow {
  part: number;
  status: string;
  /** TP-Status of the report (`StatusError`), -1 when none. */
  statusError: number;
  /** The SMSC's discharge time of a DeliveryOK report. */
  delivered: Date | undefined;
  /** When the row last changed. */
  updated: Date | undefined;
}

export type Outcome =
  /** Still on its way; `sent` once every part has left the modem. */
  | { final: false; sent: boolean }
  /** `reported`: false when the parts went out without a status report (nothing more will come). */
  | { final: true; state: number; error: number; done: Date; reported: boolean; rejected?: boolean };

/** Any of these on a part: the message failed for good (UNDELIV). */
const FAILED = new Set(['DeliveryFailed', 'SendingError', 'Error']);
/** Every part in these: nothing more will happen to it. */
const SETTLED = new Set(['DeliveryOK', 'SendingOKNoReport']);

/** sentitems columns read, in this order. */
export const SENT_COLUMNS = [
  'ID',
  'SequencePosition',
  'Status',
  'StatusError',
  'DeliveryDateTime',
  'UpdatedInDB',
] as const;

/** A row selected with SENT_COLUMNS; returns the outbox ID and the row. */
export function sentRow(r: readonly unknown[]): { id: number; row: SentRow } {
  return {
    id: num(r[0]),
    row: {
      part: num(r[1]),
      status: str(r[2]),
      statusError: num(r[3]),
      delivered: toDate(r[4]),
      updated: toDate(r[5]),
    },
  };
}

export function outcomeOf(rows: readonly SentRow[], parts: number, now = new Date()): Outcome {
  const failed = rows.find((r) => FAILED.has(r.status));
  if (failed)
    return {
      final: true,
      state: MESSAGE_STATE.UNDELIVERABLE,
      // The report's TP-Status; a part the modem could not send has no GSM error to give.
      error: failed.status === 'DeliveryFailed' && failed.statusError >= 0 ? failed.statusError : 0,
      done: failed.updated ?? now,
      reported: true,
      // The modem could not send it (Kannel's dlr-mask 16), as opposed to the network's report.
      ...(failed.status === 'DeliveryFailed' ? {} : { rejected: true }),
    };
  const all = new Set(rows.map((r) => r.part)).size >= parts;
  if (!all) return { final: false, sent: false };
  if (rows.every((r) => r.status === 'DeliveryOK')) {
    const last = Math.max(...rows.map((r) => (r.delivered ?? r.updated ?? now).getTime()));
    return { final: true, state: MESSAGE_STATE.DELIVERED, error: 0, done: new Date(last), reported: true };
  }
  if (rows.every((r) => SETTLED.has(r.status)))
    return { final: true, state: MESSAGE_STATE.ENROUTE, error: 0, done: now, reported: false };
  return { final: false, sent: true };
}

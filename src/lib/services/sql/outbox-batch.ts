/**
 * Many outbox messages in one transaction with few round trips: on PostgreSQL with Gammu's default
 * create_outbox / create_outbox_multipart, one multi-row INSERT per table (per chunk) instead of
 * one INSERT per part. The same rows as insertOutbox writes, only gathered: each message's first
 * part is bound with Gammu's own query, its tuples are renumbered and joined, and `RETURNING ID,
 * CreatorID` gives each message its ID (matched by CreatorID, which must be unique in the batch:
 * PostgreSQL does not promise RETURNING's order). Elsewhere (MySQL, SQLite, an overridden query, a
 * CreatorID twice) the messages go one by one.
 */
import type { SqlValue } from './connection.js';
import type { SqlConnection } from './connection.js';
import type { BoundQuery, PartVars } from './placeholders.js';
import type { QueryName } from './queries.js';
import { quoteField } from './queries.js';
import { entryVars } from './rows.js';
import type { OutboxMessage } from '../../spool/outbox-files.js';

export interface OutboxItem {
  msg: OutboxMessage;
  creatorId: string;
  /** SenderID (`%P`); '' lets any daemon take the message. */
  senderId: string;
}

export interface OutboxBinder {
  bind(
    name: QueryName,
    params: readonly SqlValue[],
    part: PartVars,
    creatorId: string,
    phoneId: string,
  ): BoundQuery;
  /** insertOutbox: the message alone (the fallback). */
  single(item: OutboxItem): Promise<string>;
  /** Both create queries are Gammu's defaults (an override's text may not be joinable). */
  defaults: boolean;
}

/** Rows per INSERT: PostgreSQL takes at most 65,535 values per statement (a part binds 11). */
const ROWS_PER_INSERT = 500;

/** `INSERT ... VALUES (...)` split into its head and its one tuple; undefined if not that shape. */
function split(text: string): { head: string; tuple: string } | undefined {
  const at = text.indexOf(' VALUES (');
  if (at < 0 || !text.endsWith(')')) return undefined;
  return { head: text.slice(0, at + ' VALUES '.length), tuple: text.slice(at + ' VALUES '.length) };
}

/** Joins single-row INSERTs with `$n` markers into multi-row ones, `rows` tuples each. */
function joinRows(bound: readonly BoundQuery[], suffix: string): BoundQuery[] | undefined {
  const out: BoundQuery[] = [];
  for (let i = 0; i < bound.length; i += ROWS_PER_INSERT) {
    let head: string | undefined;
    const tuples: string[] = [];
    const values: SqlValue[] = [];
    for (const b of bound.slice(i, i + ROWS_PER_INSERT)) {
      const s = split(b.text);
      if (!s || (head !== undefined && s.head !== head)) return undefined;
      head = s.head;
      const offset = values.length;
      tuples.push(s.tuple.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`));
      values.push(...b.values);
    }
    out.push({ text: `${head}${tuples.join(', ')}${suffix}`, values });
  }
  return out;
}

/** Inserts every message (in the caller's transaction); their outbox IDs in order. */
export async function insertOutboxMany(
  conn: SqlConnection,
  items: readonly OutboxItem[],
  b: OutboxBinder,
): Promise<string[]> {
  const one = async (): Promise<string[]> => {
    const ids: string[] = [];
    for (const item of items) ids.push(await b.single(item));
    return ids;
  };
  const creators = new Set(items.map((i) => i.creatorId));
  if (conn.dialect !== 'pgsql' || !b.defaults || creators.size !== items.length || items.length < 2)
    return one();
  const f = (n: string): string => quoteField('pgsql', n);
  const vars = items.map((i) => i.msg.entries.map((e) => entryVars(e, i.msg.number, i.msg.validity ?? 255)));
  const firsts = items.map((item, k) => {
    const { msg, creatorId, senderId } = item;
    const report = msg.entries[0]?.pdu === 'Status_Report' ? 'yes' : 'default';
    const multipart = msg.entries.length > 1 ? 'TRUE' : 'FALSE';
    return b.bind(
      'create_outbox',
      [creatorId, report, multipart, 1, 0],
      vars[k]?.[0] as PartVars,
      '',
      senderId,
    );
  });
  const statements = joinRows(firsts, ` RETURNING ${f('ID')}, ${f('CreatorID')}`);
  if (!statements) return one();
  const idOf = new Map<string, string>();
  for (const s of statements)
    for (const [id, creator] of (await conn.query(s.text, s.values)).rows)
      idOf.set(String(creator), String(id));
  const ids = items.map((i) => idOf.get(i.creatorId));
  if (ids.some((id) => id === undefined))
    throw new Error('outbox rows inserted but not all their IDs came back (a trigger changing CreatorID?)');
  const rest: BoundQuery[] = [];
  items.forEach(({ msg, creatorId, senderId }, k) => {
    const multipart = msg.entries.length > 1 ? 'TRUE' : 'FALSE';
    msg.entries.forEach((e, i) => {
      if (i === 0) return;
      const report = e.pdu === 'Status_Report' ? 'yes' : 'default';
      rest.push(
        b.bind(
          'create_outbox_multipart',
          [creatorId, report, multipart, i + 1, Number(ids[k])],
          vars[k]?.[i] as PartVars,
          '',
          senderId,
        ),
      );
    });
  });
  const more = joinRows(rest, '');
  if (rest.length > 0 && !more) throw new Error('create_outbox_multipart is not a one-row INSERT');
  for (const s of more ?? []) await conn.query(s.text, s.values);
  return ids as string[];
}

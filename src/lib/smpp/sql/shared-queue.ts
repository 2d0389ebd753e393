import type { DeliveryQueue, QueueEntry } from '../store/queue.js';
import { SMPPD_TABLES, SmppdDb } from './db.js';
import { forUpdate, insertIgnore, upsert } from './dialect.js';

/**
 * Several smppd nodes on one database (`Service = sql`): receipts and MO reach an ESME through
 * whichever node it is bound to, and a node that dies leaves its work to the others.
 *
 * Each node keeps delivering from its own queue on disk (fast, durable, in order), and this bridge
 * moves entries between those queues through the table `smppd_queue` every period:
 * - hand-off: entries for an ESME with no receiver bound here go to the table, and so does the
 *   backlog beyond what this node's receivers take soon (KEEP entries), so a node that dies strands
 *   at most that much (it hands it over when it comes back);
 * - pick-up: a node with a receiver bound takes rows in order (`FOR UPDATE SKIP LOCKED`: two nodes
 *   never take one row), queues them on its disk, then deletes them in the same transaction.
 * Picked entries are queued under `shared:<key>`, so an entry this node handed off earlier is not
 * mistaken for one it delivered. A crash between a hand-off's insert and the local removal
 * re-inserts nothing (the key is unique); one between a pick-up's local add and its commit leaves
 * the rows, which the same node then drops as queued (another node would deliver them twice).
 *
 * Heartbeats in `smppd_node` let the living nodes take over the open messages (smppd_message) of a
 * node silent for DEAD_MS, so their receipts are still produced.
 */

const KEEP = 200;
const BATCH = 200;
const DEAD_MS = 15_000;

export interface SharedQueueOptions {
  db: SmppdDb;
  queue: DeliveryQueue;
  /** system_ids (lower case) with a receiver bound on this node. */
  receivers: () => ReadonlySet<string>;
  /** Entries arrived for an ESME: deliver them. */
  queued: (sid: string) => void;
  /** A node silent this long counts as dead (default 15 s; [smppd] NodeTimeout). */
  deadMs?: number;
}

export class SharedQueue {
  private lastTakeover = 0;
  private readonly deadMs: number;

  constructor(private readonly o: SharedQueueOptions) {
    this.deadMs = o.deadMs ?? DEAD_MS;
  }

  /** One period: heartbeat, takeover now and then, hand-off, pick-up. True when there is more. */
  async tick(): Promise<boolean> {
    await this.heartbeat();
    if (Date.now() - this.lastTakeover > this.deadMs / 3) {
      this.lastTakeover = Date.now();
      await this.takeOver();
    }
    const handed = await this.handOff();
    const picked = await this.pickUp();
    return handed || picked;
  }

  private async heartbeat(): Promise<void> {
    const { db } = this.o;
    const now = Date.now();
    await db.query(upsert(db.dialect, 'smppd_node', ['node', 'updated_ms'], ['node'], ['updated_ms']), [
      db.node,
      now,
    ]);
  }

  /** The open messages of nodes silent for DEAD_MS become ours (their receipts come from here). */
  private async takeOver(): Promise<void> {
    const { db } = this.o;
    const dead = await db.query(`SELECT node FROM smppd_node WHERE updated_ms < ? AND node <> ?`, [
      Date.now() - this.deadMs,
      db.node,
    ]);
    for (const [node] of dead.rows) {
      await db.conn.transaction(async () => {
        await db.query(
          `UPDATE ${SMPPD_TABLES.message} SET ${db.f('node')} = ? WHERE ${db.f('node')} = ? AND ${db.f('state')} = 0`,
          [db.node, String(node)],
        );
        await db.query(`DELETE FROM smppd_node WHERE node = ? AND updated_ms < ?`, [
          String(node),
          Date.now() - this.deadMs,
        ]);
      });
    }
  }

  private async handOff(): Promise<boolean> {
    const { db, queue } = this.o;
    const here = this.o.receivers();
    let more = false;
    for (const sid of queue.systemIds()) {
      const keep = here.has(sid) ? KEEP : 0;
      const count = queue.count(sid);
      if (count <= keep) continue;
      // The oldest stay here (they go out first); the next BATCH beyond KEEP move to the table.
      // Only that many names are paged in: a backlog of 100,000 stays on disk.
      const names = [...queue.page(sid, keep + BATCH)].sort();
      const moving = names.slice(keep, keep + BATCH);
      if (moving.length === 0) continue;
      const entries = moving.map((name) => ({ name, entry: queue.read(sid, name) }));
      const values: (string | number)[] = [];
      for (const { entry } of entries)
        values.push(sid, entry.key, entry.kind, JSON.stringify(entry.pdus), Date.now());
      const rows = entries.map(() => '(?, ?, ?, ?, ?)').join(', ');
      await db.query(
        insertIgnore(db.dialect, 'smppd_queue', 'system_id, qkey, kind, pdus, created_ms', rows),
        values,
      );
      for (const { name } of entries) queue.remove(sid, name);
      queue.flushRemovals();
      more ||= count - keep > BATCH;
    }
    return more;
  }

  private async pickUp(): Promise<boolean> {
    const { db, queue } = this.o;
    let more = false;
    for (const sid of this.o.receivers()) {
      if (queue.count(sid) >= KEEP) continue; // enough here for now
      const got = await db.conn.transaction(async () => {
        const r = await db.query(
          `SELECT id, qkey, kind, pdus FROM smppd_queue WHERE system_id = ? ORDER BY id LIMIT ${BATCH}${forUpdate(db.dialect, true)}`,
          [sid],
        );
        if (r.rows.length === 0) return 0;
        for (const [, key, kind, pdus] of r.rows)
          queue.add(sid, {
            key: `shared:${String(key)}`,
            kind: String(kind) as QueueEntry['kind'],
            pdus: JSON.parse(String(pdus)) as string[],
          });
        await db.query(
          `DELETE FROM smppd_queue WHERE id IN (${SmppdDb.marks(r.rows.length)})`,
          r.rows.map((x) => Number(x[0])),
        );
        return r.rows.length;
      });
      if (got > 0) this.o.queued(sid);
      more ||= got === BATCH;
    }
    return more;
  }
}

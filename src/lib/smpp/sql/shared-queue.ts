import type { DeliveryQueue, QueueEntry } from '../store/queue.js';
import { SMPPD_TABLES, SmppdDb } from './db.js';
import { forUpdate, upsert } from './dialect.js';

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
 *
 * The up to KEEP entries a node holds for its own receivers are reserved in the table too: a row
 * with `owner` = this node (key = the local entry's key), written each period for what is queued
 * here and deleted once the entry has left the local queue (answered or handed off). Nobody picks
 * an owned row; when its owner is silent for DEAD_MS, the takeover clears `owner` and the entries
 * go to the receivers of the living nodes. What a killed node had sent but not yet seen answered,
 * or answered within its last period, goes out twice: the receiver on the other node cannot be
 * told it was delivered already.
 */

const KEEP = 200;
const BATCH = 200;
/** Own reservations read per period at most (KEEP per ESME with a receiver here). */
const OWN_READ = 5_000;
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
  /** Queue file name → its entry's key, for the names reserved (read once each). */
  private readonly keys = new Map<string, string>();

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
    await this.reserve();
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
        // Its reserved entries become anyone's (oldest IDs: picked first).
        await db.query(`UPDATE smppd_queue SET owner = '' WHERE owner = ?`, [String(node)]);
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
      // An entry reserved here already has its row: it becomes anyone's.
      await db.query(
        db.dialect === 'mysql'
          ? `INSERT INTO smppd_queue (system_id, qkey, kind, pdus, created_ms) VALUES ${rows} ON DUPLICATE KEY UPDATE owner = IF(owner = ?, '', owner)`
          : `INSERT INTO smppd_queue (system_id, qkey, kind, pdus, created_ms) VALUES ${rows} ON CONFLICT (qkey) DO UPDATE SET owner = '' WHERE smppd_queue.owner = ?`,
        [...values, db.node],
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
          `SELECT id, qkey, kind, pdus FROM smppd_queue WHERE system_id = ? AND owner = '' ORDER BY id LIMIT ${BATCH}${forUpdate(db.dialect, true)}`,
          [sid],
        );
        if (r.rows.length === 0) return 0;
        const taken: (string | number)[][] = [];
        for (const [, key, kind, pdus] of r.rows) {
          // Taken here under its own key: this node's reservation, released while it lived (taken
          // for dead), or an event it produced itself too. Delivered or queued here: not again.
          if (queue.has(String(key))) continue;
          const entry = {
            key: `shared:${String(key)}`,
            kind: String(kind) as QueueEntry['kind'],
            pdus: JSON.parse(String(pdus)) as string[],
          };
          // Not added: queued here before a crash undid this commit (its reservation has its own row).
          if (queue.add(sid, entry))
            taken.push([sid, entry.key, entry.kind, JSON.stringify(entry.pdus), Date.now()]);
        }
        await db.query(
          `DELETE FROM smppd_queue WHERE id IN (${SmppdDb.marks(r.rows.length)})`,
          r.rows.map((x) => Number(x[0])),
        );
        // Taken rows stay as this node's reservation, under the key they have here.
        await this.insertOwned(taken);
        return r.rows.length;
      });
      if (got > 0) this.o.queued(sid);
      more ||= got === BATCH;
    }
    return more;
  }

  /**
   * Reserves the oldest KEEP entries of each ESME with a receiver here (rows owned by this node)
   * and drops the reservations of entries no longer queued here (answered, or handed off above).
   */
  private async reserve(): Promise<void> {
    const { db, queue } = this.o;
    const kept = new Map<string, { sid: string; name: string }>();
    const names = new Set<string>();
    for (const sid of this.o.receivers()) {
      for (const name of [...queue.page(sid, KEEP)].sort().slice(0, KEEP)) {
        names.add(name);
        let key = this.keys.get(name);
        if (key === undefined) {
          try {
            key = queue.read(sid, name).key;
          } catch {
            continue; // answered meanwhile
          }
          this.keys.set(name, key);
        }
        kept.set(key, { sid, name });
      }
    }
    for (const name of this.keys.keys()) if (!names.has(name)) this.keys.delete(name);
    const own = await db.query(`SELECT qkey FROM smppd_queue WHERE owner = ? LIMIT ${OWN_READ}`, [db.node]);
    const reserved = new Set(own.rows.map((r) => String(r[0])));
    const stale = [...reserved].filter((k) => !kept.has(k));
    for (let i = 0; i < stale.length; i += BATCH) {
      const chunk = stale.slice(i, i + BATCH);
      await db.query(`DELETE FROM smppd_queue WHERE owner = ? AND qkey IN (${SmppdDb.marks(chunk.length)})`, [
        db.node,
        ...chunk,
      ]);
    }
    const missing = [...kept].filter(([key]) => !reserved.has(key));
    const rows: (string | number)[][] = [];
    for (const [key, { sid, name }] of missing) {
      try {
        const entry = queue.read(sid, name);
        rows.push([sid, key, entry.kind, JSON.stringify(entry.pdus), Date.now()]);
      } catch {
        // answered meanwhile
      }
    }
    await this.insertOwned(rows);
  }

  /**
   * Rows reserved for this node (system_id, qkey, kind, pdus, created_ms each). A row of anyone's
   * with the key (a pick-up undone by a crash) becomes ours; another node's stays its own.
   */
  private async insertOwned(rows: readonly (string | number)[][]): Promise<void> {
    const { db } = this.o;
    for (let i = 0; i < rows.length; i += BATCH) {
      const chunk = rows.slice(i, i + BATCH);
      const marks = chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
      await db.query(
        db.dialect === 'mysql'
          ? `INSERT INTO smppd_queue (system_id, qkey, kind, pdus, created_ms, owner) VALUES ${marks} ON DUPLICATE KEY UPDATE owner = IF(owner = '', VALUES(owner), owner)`
          : `INSERT INTO smppd_queue (system_id, qkey, kind, pdus, created_ms, owner) VALUES ${marks} ON CONFLICT (qkey) DO UPDATE SET owner = EXCLUDED.owner WHERE smppd_queue.owner = ''`,
        chunk.flatMap((r) => [...r, db.node]),
      );
    }
  }
}

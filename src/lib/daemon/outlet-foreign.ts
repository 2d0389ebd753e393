import fs from 'node:fs';
import path from 'node:path';

const RECENT_FINALS = 10_000;
/** How often reports/ is listed for journals of daemons started since. */
const LIST_EVERY_MS = 5_000;

/** Adds to a bounded map, forgetting the oldest entry beyond RECENT_FINALS (10,000). */
export function remember<V>(m: Map<string, V>, key: string, value: V): void {
  m.delete(key);
  m.set(key, value);
  if (m.size > RECENT_FINALS) m.delete(m.keys().next().value as string);
}

/**
 * The other outlet daemons' receipt indexes, read from their journals in the shared reports/
 * folder (`.outlet-<name>.jsonl`). Several daemons on one outbox do not choose which of them gets a
 * receipt: bearerbox spreads DLRs over the boxes of one BoxId (and sends a gone box's to another),
 * an SMSC may deliver on any bind of the account. A receipt for another daemon's part is matched
 * here; its final is journalled by the daemon that matched it with `origin` naming the sender, so
 * the sender drops the part from its own index when it next reads the journals.
 *
 * Each journal is read from where the last read stopped (from the start again after its owner
 * compacted it at a restart). Bounded as the owners' own indexes are: a part leaves on its final.
 */
export class ForeignIndex {
  /** key → the part packed as the owner's index packs it, and the owner's name. */
  private readonly parts = new Map<string, { packed: string; origin: string }>();
  private readonly offsets = new Map<string, { ino: number; offset: number }>();

  constructor(
    private readonly dir: string,
    private readonly self: string,
    /** Keys a sent record is filed under (the owner's `submitKeys`). */
    private readonly keysOf: (line: { messageId: string }) => string[],
    private readonly pack: (r: never) => string,
    /** A final another daemon recorded for one of our own parts. */
    private readonly dropOwn: (key: string) => void,
    private readonly since: () => number,
    /** Another daemon moved a message we have parts of (it took our claim over). */
    private readonly settledOwn: (id: string) => void = () => undefined,
  ) {}

  /**
   * Parts the others sent of messages they have not moved yet (outbox id → part → record): when a
   * daemon dies holding a claim, the one that takes the message over finds here what the network
   * already accepted and does not send it again. Bounded by the others' claims: a message leaves
   * when any daemon journals `settled` for it.
   */
  private readonly jobs = new Map<
    string,
    Map<number, { packed: string; origin: string; noReport: boolean }>
  >();

  /** Parts of `id` another daemon recorded as accepted by the network (1-based part). */
  recorded(
    id: string,
  ): ReadonlyMap<number, { packed: string; origin: string; noReport: boolean }> | undefined {
    return this.jobs.get(id);
  }

  settled(id: string): void {
    this.jobs.delete(id);
  }

  /**
   * Parts of the others sent before `cutoff` stop waiting for a receipt here (their owner closes
   * them); their resume records before `jobCutoff` are forgotten (as the owner's own, see
   * OutletReports.expire: a daemon that never journals `settled` must not grow this map).
   */
  expire(cutoff: number, jobCutoff = -Infinity): void {
    const at = (packed: string) => Number(packed.slice(0, packed.indexOf('\t')));
    for (const [k, p] of this.parts) {
      if (at(p.packed) > cutoff) break;
      this.parts.delete(k);
    }
    for (const [id, parts] of this.jobs) {
      const first = parts.values().next().value;
      if (first && at(first.packed) > jobCutoff) break;
      this.jobs.delete(id);
    }
  }

  get jobCount(): number {
    return this.jobs.size;
  }

  get size(): number {
    return this.parts.size;
  }

  /** Parts the others finalised lately (bounded, see OutletReports' recent finals). */
  private readonly recent = new Map<string, { packed: string; origin: string }>();

  get(key: string): { packed: string; origin: string } | undefined {
    return this.parts.get(key) ?? this.recent.get(key);
  }

  delete(key: string): void {
    const p = this.parts.get(key);
    if (!p) return;
    this.parts.delete(key);
    remember(this.recent, key, p);
  }

  private journals: { file: string; origin: string }[] = [];
  private listedAt = -Infinity;

  /**
   * Reads what the other daemons appended since the last call (errors: skipped, read next time).
   * reports/ holds a file per part: it is listed for new journals at most every `listEveryMs`,
   * the known journals are only stat'ed.
   */
  refresh(listEveryMs = LIST_EVERY_MS, now = Date.now()): void {
    if (now - this.listedAt >= listEveryMs) {
      this.listedAt = now;
      try {
        this.journals = [];
        for (const name of fs.readdirSync(this.dir)) {
          const m = /^\.outlet-(.+)\.jsonl$/.exec(name);
          if (m && m[1] !== this.self)
            this.journals.push({ file: path.join(this.dir, name), origin: m[1] as string });
        }
      } catch {
        // reports/ not readable now: the known journals still are, or next time
      }
    }
    for (const j of this.journals) {
      try {
        this.read(j.file, j.origin);
      } catch {
        // vanished or being replaced by its owner's compaction: read again next time
      }
    }
  }

  /** Everything read from `origin`'s journal (before reading its compacted copy again). */
  private forget(origin: string): void {
    for (const [k, p] of this.parts) if (p.origin === origin) this.parts.delete(k);
    for (const [id, parts] of this.jobs) {
      for (const [n, p] of parts) if (p.origin === origin) parts.delete(n);
      if (parts.size === 0) this.jobs.delete(id);
    }
  }

  private read(file: string, origin: string): void {
    const st = fs.statSync(file);
    let pos = this.offsets.get(file);
    if (!pos || pos.ino !== st.ino || st.size < pos.offset) {
      // New, or compacted by its owner: read from the start, forgetting what its old copy said.
      if (pos) this.forget(origin);
      pos = { ino: st.ino, offset: 0 };
    }
    this.offsets.set(file, pos);
    if (st.size === pos.offset) return;
    const fd = fs.openSync(file, 'r');
    let text: string;
    try {
      const buf = Buffer.alloc(st.size - pos.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, pos.offset);
      text = buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
    // Only whole lines: the owner may be half-way through an append.
    const end = text.lastIndexOf('\n');
    if (end < 0) return;
    pos.offset += Buffer.byteLength(text.slice(0, end + 1));
    const since = this.since();
    for (const line of text.slice(0, end).split('\n')) {
      // Report bodies are most of a busy journal and of no use here: skipped unparsed.
      if (!line || line.startsWith('{"file"')) continue;
      let r: {
        final?: string;
        origin?: string;
        messageId?: string;
        sentAt?: string;
        noReport?: true;
        settled?: string;
        id?: string;
        part?: number;
      };
      try {
        r = JSON.parse(line) as typeof r;
      } catch {
        continue;
      }
      if (r.settled !== undefined) {
        this.jobs.delete(r.settled);
        this.settledOwn(r.settled);
        continue;
      }
      if (r.final !== undefined) {
        if (r.origin === this.self) this.dropOwn(r.final);
        else this.delete(r.final);
        continue;
      }
      if (r.messageId === undefined) continue;
      const packed = this.pack(r as never);
      if (r.id !== undefined && r.part !== undefined) {
        let parts = this.jobs.get(r.id);
        if (!parts) this.jobs.set(r.id, (parts = new Map()));
        parts.set(r.part, { packed, origin, noReport: !!r.noReport });
      }
      if (r.noReport || Date.parse(r.sentAt ?? '') < since) continue;
      for (const k of this.keysOf(r as { messageId: string })) this.parts.set(k, { packed, origin });
    }
  }
}

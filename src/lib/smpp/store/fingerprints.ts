/**
 * A set of 80-bit key hashes (20 hex digits, as `keyHash` makes them) with a few flag bits each.
 *
 * Open addressing with linear probing over typed arrays: 11 bytes a slot, 3/8 to 3/4 full, so
 * 15 to 30 bytes an entry instead of the ~100 of a string in a Set. All 80 bits are kept, so a
 * lookup is exactly as precise as the hashes in done.log and in the queue's file names: no
 * collision risk is added on top of theirs. Nothing is ever deleted one by one (the owner builds
 * a smaller set with `rebuilt`), which keeps probing free of tombstones.
 */

const USED = 0x80;
const MIN_CAPACITY = 1024;

export class FingerprintSet {
  private hi: Uint32Array;
  private mid: Uint32Array;
  private lo: Uint16Array;
  /** USED plus the owner's flags (the low 7 bits). */
  private flags: Uint8Array;
  private mask: number;
  private used = 0;

  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * 0.75 < expected) capacity *= 2;
    this.hi = new Uint32Array(capacity);
    this.mid = new Uint32Array(capacity);
    this.lo = new Uint16Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.used;
  }

  /** Bytes held by the table (for the figures). */
  get bytes(): number {
    return this.flags.length * 11;
  }

  /** The owner's flags of `hash`, 0 when absent (so an entry needs a flag to count as present). */
  flagsOf(hash: string): number {
    const slot = this.find(hash);
    return slot < 0 ? 0 : (this.flags[slot] ?? 0) & ~USED;
  }

  /** Sets `set` and clears `clear` on `hash`, adding it when absent and `set` is not 0. */
  update(hash: string, set: number, clear = 0): void {
    let slot = this.find(hash);
    if (slot < 0) {
      if (set === 0) return;
      if ((this.used + 1) * 4 > this.flags.length * 3) this.grow();
      slot = this.insertAt(hash);
    }
    this.flags[slot] = USED | ((((this.flags[slot] ?? 0) & ~USED) | set) & ~clear & 0x7f);
  }

  /** A new set of the entries for which `map(flags)` is not 0, with those flags. */
  rebuilt(map: (flags: number) => number): FingerprintSet {
    let kept = 0;
    for (let i = 0; i < this.flags.length; i++) {
      const f = this.flags[i] ?? 0;
      if (f & USED && map(f & ~USED) !== 0) kept++;
    }
    const next = new FingerprintSet(kept);
    for (let i = 0; i < this.flags.length; i++) {
      const f = this.flags[i] ?? 0;
      if (!(f & USED)) continue;
      const g = map(f & ~USED);
      if (g !== 0) next.put(this.hi[i] ?? 0, this.mid[i] ?? 0, this.lo[i] ?? 0, g);
    }
    return next;
  }

  private find(hash: string): number {
    const hi = parseInt(hash.slice(0, 8), 16) >>> 0;
    const mid = parseInt(hash.slice(8, 16), 16) >>> 0;
    const lo = parseInt(hash.slice(16, 20), 16);
    for (let i = hi & this.mask; ; i = (i + 1) & this.mask) {
      const f = this.flags[i] ?? 0;
      if (!(f & USED)) return -1;
      if (this.hi[i] === hi && this.mid[i] === mid && this.lo[i] === lo) return i;
    }
  }

  private insertAt(hash: string): number {
    return this.put(
      parseInt(hash.slice(0, 8), 16) >>> 0,
      parseInt(hash.slice(8, 16), 16) >>> 0,
      parseInt(hash.slice(16, 20), 16),
      0,
    );
  }

  /** Stores a hash known to be absent; returns its slot. */
  private put(hi: number, mid: number, lo: number, flags: number): number {
    let i = hi & this.mask;
    while ((this.flags[i] ?? 0) & USED) i = (i + 1) & this.mask;
    this.hi[i] = hi;
    this.mid[i] = mid;
    this.lo[i] = lo;
    this.flags[i] = USED | flags;
    this.used++;
    return i;
  }

  private grow(): void {
    const { hi, mid, lo, flags } = this;
    const capacity = flags.length * 2;
    this.hi = new Uint32Array(capacity);
    this.mid = new Uint32Array(capacity);
    this.lo = new Uint16Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.mask = capacity - 1;
    this.used = 0;
    for (let i = 0; i < flags.length; i++) {
      const f = flags[i] ?? 0;
      if (f & USED) this.put(hi[i] ?? 0, mid[i] ?? 0, lo[i] ?? 0, f & ~USED);
    }
  }
}

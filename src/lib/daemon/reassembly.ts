import type { DeliverPdu } from '../sms/deliver.js';

/** A received part still on the SIM, with where it is stored. */
export interface StoredPart {
  memory: string;
  index: number;
  pdu: DeliverPdu;
}

export interface Assembled {
  key: string;
  parts: StoredPart[];
  /** Ordered PDUs, missing parts left out. */
  ordered: DeliverPdu[];
  complete: boolean;
  total: number;
}

/**
 * Groups the parts found on the SIM into messages: by sender, concatenation reference (8 or 16 bit)
 * and part count. Parts may arrive out of order and across polls; they stay on the SIM until their
 * message is complete (or given up after MultipartTimeout), so nothing needs to be kept here but the
 * time each incomplete message was first seen.
 */
export class Reassembler {
  private readonly firstSeen = new Map<string, number>();

  group(parts: readonly StoredPart[]): Assembled[] {
    const groups = new Map<string, StoredPart[]>();
    for (const p of parts) {
      const c = p.pdu.concat;
      const key = c
        ? `${p.pdu.originator.number}|${c.ref16bit ? 16 : 8}|${c.ref}|${c.total}`
        : `single|${p.memory}|${p.index}`;
      const list = groups.get(key) ?? [];
      list.push(p);
      groups.set(key, list);
    }
    const out: Assembled[] = [];
    for (const [key, list] of groups) {
      const total = list[0]?.pdu.concat?.total ?? 1;
      const bySeq = new Map<number, StoredPart>();
      for (const p of list) {
        const seq = p.pdu.concat?.seq ?? 1;
        if (!bySeq.has(seq)) bySeq.set(seq, p); // a duplicate part (network resend) is ignored
      }
      const seqs = [...bySeq.keys()].sort((a, b) => a - b);
      out.push({
        key,
        parts: list,
        ordered: seqs.map((s) => (bySeq.get(s) as StoredPart).pdu),
        complete: bySeq.size === total,
        total,
      });
    }
    return out;
  }

  /** Decides what to do with an incomplete message: wait, or give up and store what is there. */
  incompleteDue(key: string, now: number, timeoutMs: number): boolean {
    const first = this.firstSeen.get(key);
    if (first === undefined) {
      this.firstSeen.set(key, now);
      return false;
    }
    return now - first >= timeoutMs;
  }

  forget(key: string): void {
    this.firstSeen.delete(key);
  }

  /** Drops tracking of messages no longer on the SIM. */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.firstSeen.keys()) if (!keys.has(k)) this.firstSeen.delete(k);
  }
}

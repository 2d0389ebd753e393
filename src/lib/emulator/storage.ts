/** Message storages a modem exposes through AT+CPMS. */
export type MemoryName = 'SM' | 'ME';
export const MEMORY_NAMES: readonly MemoryName[] = ['SM', 'ME'];

/** 27.005 <stat> in PDU mode: 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT. */
export type MessageStat = 0 | 1 | 2 | 3;

export type StoredKind = 'deliver' | 'status-report';

export interface StoredMessage {
  memory: MemoryName;
  /** 1-based, as AT+CMGR/+CMGD use it. */
  index: number;
  stat: MessageStat;
  kind: StoredKind;
  /** Uppercase hex, SMSC field included, as +CMGL/+CMGR print it. */
  pdu: string;
  /** TPDU octets, the <length> of +CMGL/+CMGR. */
  tpduLength: number;
  /** When it was stored (ISO 8601). */
  storedAt: string;
}

/** One message memory: fixed number of 1-based slots, the lowest free slot is used first like SIMs do. */
export class SmsMemory {
  private readonly slots = new Map<number, StoredMessage>();

  constructor(
    readonly name: MemoryName,
    public size: number,
  ) {}

  get used(): number {
    return this.slots.size;
  }

  get full(): boolean {
    return this.slots.size >= this.size;
  }

  /** Stores in the lowest free slot; undefined when full. */
  store(msg: Omit<StoredMessage, 'memory' | 'index'>): StoredMessage | undefined {
    for (let i = 1; i <= this.size; i++) {
      if (!this.slots.has(i)) {
        const stored: StoredMessage = { ...msg, memory: this.name, index: i };
        this.slots.set(i, stored);
        return stored;
      }
    }
    return undefined;
  }

  get(index: number): StoredMessage | undefined {
    return this.slots.get(index);
  }

  delete(index: number): boolean {
    return this.slots.delete(index);
  }

  /** All messages in index order. */
  list(): StoredMessage[] {
    return [...this.slots.values()].sort((a, b) => a.index - b.index);
  }

  clear(): void {
    this.slots.clear();
  }
}

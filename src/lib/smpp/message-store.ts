import type { LatencyHistogram } from '../daemon/histogram.js';
import type { MessageStatus } from './messages.js';
import type { SubmitRequest } from './mt.js';
import type { SmppMeta } from './store.js';

/**
 * What the SMPP server needs from wherever accepted messages go: the spool (OutboxStore,
 * MessageIndex, SpoolEvents) or Gammu's SQL outbox (SqlMessageStore, SqlMessageLookup, SqlEvents).
 * One routing decision in the server, two stores behind it.
 */

export interface MessageStore {
  /** Stores the message; resolves with its name (file name, `sql:<id>`) once it is durable. */
  add(req: SubmitRequest, meta: SmppMeta, now: Date): Promise<string>;
  /** Settles what a crash left half done; returns what was restored. */
  recover(): string[];
  /** Waits for every message in progress to be durable (shutdown). */
  close(): Promise<void>;
}

/** query_sm and cancel_sm. */
export interface MessageLookup {
  /** The name add() resolved with, so a lookup of a fresh message is cheap. */
  remember(id: string, name: string): void;
  /** Where the message stands, if it exists and `systemId` submitted it. */
  query(id: string, systemId: string): MessageStatus | undefined | Promise<MessageStatus | undefined>;
  /**
   * Takes the message back while no modem has it; `beforeCancel(name)` runs before it counts as
   * cancelled (the server marks its receipt as handled).
   */
  cancel(id: string, systemId: string, beforeCancel: (name: string) => void): Promise<boolean>;
}

/** Turns what the modems did (receipts, MO) into queued deliver_sm. */
export interface EventSource {
  start(): void;
  close(): void | Promise<void>;
  /** submit_sm accepted → delivered to the handset, for /metrics. */
  readonly deliveryLatency: LatencyHistogram;
}

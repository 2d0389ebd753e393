import type { LatencyHistogram } from '../../common/histogram.js';
import type { SubmitRequest } from '../protocol/mt.js';
import type { Replacement } from '../protocol/replace.js';

/**
 * What the SMPP server needs from wherever accepted messages go: the spool (OutboxStore,
 * MessageIndex, SpoolEvents) or Gammu's SQL outbox (SqlMessageStore, SqlMessageLookup, SqlEvents).
 * One routing decision in the server, two stores behind it.
 */

/** What smppd keeps with each message (the spool: a `; smsgate: Smpp = {...}` line; SQL: smppd_message.meta). */
export interface SmppMeta {
  /** system_id of the submitting ESME, as configured. */
  sid: string;
  id: string;
  /** registered_delivery bits 0-1. */
  rd: number;
  /** Intermediate notification requested (registered_delivery bit 4). */
  inter?: boolean;
  src: { ton: number; npi: number; addr: string };
  at: string;
  /** The PhoneID a route pinned it to (also written as the file's PhoneID, which `smsd run` honours). */
  phone?: string;
  /** What the account was charged (refunded if it fails for good). */
  cost?: number;
  /** Kannel's dlr-url and dlr-mask of a message taken over HTTP, plus what its escapes need. */
  dlr?: { url: string; mask: number; from: string; user: string };
  /** The JSON API's webhook: receipts are POSTed there, signed with the account's webhook secret. */
  hook?: { url: string };
  /** Not sent before this time (ISO; Kannel's deferred). */
  after?: string;
}

/** Where a message stands, for query_sm. */
export interface MessageStatus {
  state: number;
  /** When it reached a final state. */
  finalDate?: Date;
  /** GSM error (TP-Status) of a failure. */
  error: number;
}

/** Called once the message is durable (err undefined) with its name (file name, `sql:<id>`). */
export type AddCallback = (err: Error | undefined, name: string) => void;

/** add() of a store that charges (chargesCredit): the account's credit does not cover meta.cost. */
export class NoCreditError extends Error {
  constructor() {
    super('insufficient credit');
    this.name = 'NoCreditError';
  }
}

export interface MessageStore {
  /** Stores the message; `done` once it is durable (a callback: no promise per message on the hot path). */
  add(req: SubmitRequest, meta: SmppMeta, now: Date, done: AddCallback): void;
  /**
   * add() charges meta.cost to the account's prepaid credit in the transaction that stores the
   * message (SQL outbox and KSMPPD credit in one database): NoCreditError when it does not cover
   * it; the pipeline then neither reserves nor confirms nor releases.
   */
  readonly chargesCredit?: boolean;
  /** Too much taken but not yet written out: the server stops reading until `onRoom`. */
  readonly full: boolean;
  onRoom: (() => void) | undefined;
  /** Settles what a crash left half done; returns what was restored. */
  recover(): string[];
  /** Every message taken so far is durable and answered (shutdown, before the unbinds). */
  drain(): Promise<void>;
  /** Every message acknowledged so far is where `smsd run` reads it (files follow the ack). */
  settled(): Promise<void>;
  /** Waits for every message in progress and releases what the store holds (shutdown). */
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
  /** replace_sm: the new content from the old while no modem has the message. */
  replace?(id: string, systemId: string, r: Replacement): Promise<boolean>;
}

/** Turns what the modems did (receipts, MO) into queued deliver_sm. */
export interface EventSource {
  start(): void;
  close(): void | Promise<void>;
  /** submit_sm accepted → delivered to the handset, for /metrics. */
  readonly deliveryLatency: LatencyHistogram;
}

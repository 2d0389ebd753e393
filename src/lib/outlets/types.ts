/**
 * An outlet is a network "phone" other than a GSM modem: an upstream SMSC over SMPP, or Kannel's
 * bearerbox over the box protocol. `smsd run` picks one by `[gammu] Connection` and drives it
 * with the same spool contract as a modem: claim, submit each part, record the network's id
 * durably, move to sent/ or error/; MO and delivery reports come back through the handlers.
 *
 * Lower floor of the outlets area: nothing here imports the daemon.
 */

import type { OutletStatus } from '../spool/status.js';
import type { SmsdConfig } from '../config/smsd-config.js';

/** One part of an outbox message, ready for the wire (UDH already built by the caller). */
export interface OutletPart {
  /** Stable key (outbox id + part index): logs, metrics and the outlet's own correlation. */
  key: string;
  /** Destination as in the outbox: `+` and digits for international, digits, or a short code. */
  destination: string;
  /** Sender id, when the message names one (alphanumeric or a number). */
  sender?: string;
  /** gsm: `text` in the GSM 03.38 alphabet; ucs2: `text` as UTF-16; binary: `data` bytes. */
  coding: 'gsm' | 'ucs2' | 'binary';
  text?: string;
  data?: Uint8Array;
  /** User data header including its length byte (concatenation, ports), if any. */
  udh?: Uint8Array;
  /** The message asked for a delivery report. */
  report: boolean;
  /** Relative validity in minutes, when the message sets one. */
  validityMinutes?: number;
  /** 0 (normal) to 3 (highest). */
  priority?: number;
  /** Class 0 (flash) message. */
  flash?: boolean;
  /** 1-based part number and total, for SAR TLVs where configured. */
  partNumber: number;
  partCount: number;
  /** Concatenation reference of the whole message (same for every part). */
  reference: number;
}

/**
 * What the network said about one submitted part.
 * - accepted: the network took it; `messageId` is what its receipts will name (normalised by
 *   the outlet, see `normaliseMessageId`). Must be recorded durably before the part counts.
 * - temporary: throttled, queue full, link lost before an answer: retry later, not a failure
 *   of the message (no MaxRetries count). `unanswered` is true when the part may have reached
 *   the network (sent, no answer before the link dropped): a resend may duplicate it, count it.
 * - permanent: the network refused it; `reason` is the protocol's name (e.g. ESME_RINVDSTADR).
 */
export type SubmitOutcome =
  | { kind: 'accepted'; messageId: string }
  | { kind: 'temporary'; reason: string; retryAfterMs?: number; unanswered?: boolean }
  | { kind: 'permanent'; reason: string };

/** A message from a handset (one part; the daemon reassembles by UDH or SAR fields). */
export interface OutletMo {
  from: string;
  to: string;
  coding: 'gsm' | 'ucs2' | 'binary';
  /** Text for gsm/ucs2, as a JS string. */
  text?: string;
  data?: Uint8Array;
  udh?: Uint8Array;
  /** SAR fields (SMPP TLVs) when the SMSC sends them instead of a UDH. */
  sar?: { reference: number; total: number; sequence: number };
  receivedAt: Date;
  /** Where it came from (SMSC id, bearerbox box id), for logs and the inbox's phone id. */
  via?: string;
}

export type ReportState =
  'delivered' | 'expired' | 'deleted' | 'undeliverable' | 'accepted' | 'unknown' | 'rejected' | 'enroute';

/** A delivery report naming a part by the id the network gave it at submit. */
export interface OutletReport {
  messageId: string;
  state: ReportState;
  /** When the handset got it (done date), else when the report came. */
  at: Date;
  /** Network error code as the SMSC gave it (receipt `err:`, network_error_code). */
  errorCode?: string;
  /** The receipt text as received, for logs. */
  raw?: string;
}

/** Bind/link state and counters: part of the daemon's status record (spool/status.ts). */
export type { OutletStatus };

/**
 * Handlers the daemon gives the outlet. Each returns once the item is durable; only then does the
 * outlet acknowledge it to the network (deliver_sm_resp, Kannel ack). A rejection makes the
 * outlet answer with a temporary error so the network redelivers later (with back-off).
 */
export interface OutletHandlers {
  mo(message: OutletMo): Promise<void>;
  report(report: OutletReport): Promise<void>;
  /** Link state changed (for logs and the status file). */
  state?(status: OutletStatus): void;
}

/** `ReceiptTimeout` (48 h) and `ReceiptLimit` (parts) defaults of [upstream] and [kannel]. */
export const RECEIPT_DEFAULTS = { timeoutSeconds: 48 * 3600, limit: 200_000 } as const;

/** How long the runner waits for a part's receipt and how many parts may wait (smsdrc(5)). */
export interface ReceiptSettings {
  timeoutMs: number;
  limit: number;
}

/** What a SIGHUP changed in an outlet's settings, and what only a restart can change. */
export interface ReloadResult {
  applied: string[];
  needRestart: string[];
}

export interface Outlet {
  /** ReceiptTimeout and ReceiptLimit of the outlet's section. */
  readonly receipts?: ReceiptSettings;
  /**
   * SIGHUP: takes the settings that can change on a bound link (Window, Throughput, timers...);
   * names the changed ones that need a restart (address, account, bind mode). Throws a config
   * error and changes nothing when the new section is not valid.
   */
  reload?(config: SmsdConfig): ReloadResult;
  /**
   * How the runner matches receipts to sent parts (`MessageIdFormat`, see message-id.ts); an outlet
   * that names parts by its own ids (Kannel's dlr_url) leaves it unset: exact match.
   */
  readonly messageIdFormat?: MessageIdFormat;
  /** Connects (and keeps reconnecting with back-off until `close`). Resolves once first bound. */
  start(handlers: OutletHandlers): Promise<void>;
  /**
   * Submits one part. Up to `status().window` calls may be pending at once (pipelined); more
   * wait inside the outlet. Never throws: every failure is an outcome.
   */
  submit(part: OutletPart): Promise<SubmitOutcome>;
  status(): OutletStatus;
  /** Stops taking submits, waits up to `drainMs` for the window to empty, unbinds, closes. */
  close(drainMs: number): Promise<void>;
}

/**
 * Message ids compare as the network's receipts will name them: SMSCs answer submit_sm_resp in
 * hex and put decimal into receipt text, pad with zeros, change case. `format` is the
 * `MessageIdFormat` setting: same (compare as text, case-insensitive), hex (resp hex, receipt may
 * be decimal), dec (resp decimal, receipt may be hex), auto (try all).
 */
export type MessageIdFormat = 'auto' | 'same' | 'hex' | 'dec';

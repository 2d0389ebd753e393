import type { DeliverPdu } from '../sms/deliver.js';
import type { StatusReportPdu } from '../sms/status-report.js';
import type { OutgoingMessage } from '../spool/outbox-read.js';

/**
 * The storage backends ("services") of the daemon, with Gammu's service operations:
 * init, free, init-after-connect, save inbox, find outbox, move, create outbox, add sent info,
 * refresh send status, refresh phone status. Files (the spool), null, and later SQL implement it
 * and pass the same contract tests.
 */

export interface PhoneIdentityInfo {
  phoneId: string;
  /** OwnNumber of the config: the number this modem's SIM answers to. */
  ownNumber?: string;
  imei: string;
  imsi: string;
  manufacturer?: string;
  model?: string;
}

export interface PhoneStatusInfo {
  batteryPercent: number;
  signalPercent: number;
  networkCode?: string;
  networkName?: string;
}

/** One received message: its parts in order (a gap for each missing part when incomplete). */
export interface InboxMessage {
  parts: DeliverPdu[];
  complete: boolean;
  /** Full text when every part is text. */
  text: string;
}

/** A queued message claimed for sending; `sentParts` survive a restart (resume of a multipart). */
export interface OutboxJob {
  id: string;
  message: OutgoingMessage;
  /** Part index → TP-MR of the parts already sent. */
  sentParts: Map<number, number>;
  attempts: number;
  /** When it was queued (file time, InsertIntoDB), for the queue-latency metric. */
  queuedAt?: Date;
}

export type MoveOutcome = 'sent' | 'error';

export interface SmsdService {
  readonly name: string;
  init(): Promise<void>;
  free(): Promise<void>;
  initAfterConnect(phone: PhoneIdentityInfo): Promise<void>;
  /** Stores a received message durably; returns its IDs (file names or row IDs) for RunOnReceive. */
  saveInbox(message: InboxMessage): Promise<string[]>;
  /** Claims the next message to send (or undefined when there is none ready). */
  findOutbox(): Promise<OutboxJob | undefined>;
  /**
   * Claims up to `max` messages at once (outlets: many messages in flight). Services without it
   * are driven one findOutbox at a time.
   */
  findOutboxBatch?(max: number): Promise<OutboxJob[]>;
  /**
   * Moves many sent messages with one group commit. With it, an outlet keeps the per-part record
   * in its own durable index instead of addSentInfo. Returns the jobs that could not be moved.
   */
  moveSentBatch?(jobs: readonly OutboxJob[]): Promise<{ job: OutboxJob; error: Error }[]>;
  /**
   * addSentInfo group-committed with the other parts recorded meanwhile (SQL: one multi-row INSERT
   * into sentitems). A batch-moving service with it records every part through it, durably, before
   * the message is moved; without it the outlet's own index is the per-part record.
   */
  addSentInfoGrouped?(job: OutboxJob, part: number, mr: number, networkId?: string): Promise<void>;
  /**
   * Records that part `part` left with reference `mr` (durable: a restart does not resend it).
   * An outlet also passes the network's message id (SMPP message_id, Kannel's id); `mr` is then
   * its numeric form when it has one (for Gammu's TPMR column), else -1.
   */
  addSentInfo(job: OutboxJob, part: number, mr: number, networkId?: string): Promise<void>;
  /** Sending failed: either keep the message for a later retry or give up (then move it to error). */
  updateRetries(
    job: OutboxJob,
    reason: string,
    maxRetries: number,
    retryTimeoutMs: number,
  ): Promise<'retry' | 'give-up'>;
  /** Final move (sent or error, with the reason) and release of the claim. */
  moveSms(job: OutboxJob, outcome: MoveOutcome, reason?: string): Promise<void>;
  /** Keeps the claim alive while a long send is in progress. */
  refreshSendStatus(job: OutboxJob): Promise<void>;
  refreshPhoneStatus(status: PhoneStatusInfo): Promise<void>;
  /** Wakes the daemon when new outbox work may be there (file watcher, ...). */
  onOutboxChange?(listener: () => void): void;
  /**
   * Records a status report where the service keeps sent messages (SQL: the matching `sentitems`
   * row, Gammu's save_inbox_sms_select / _update_delivered / _update). Services without it leave
   * reports to the daemon's spool files.
   */
  saveDeliveryReport?(report: StatusReportPdu): Promise<DeliveryReportResult>;
  /**
   * An outlet's receipt, already matched to its sent part by the network's message id: SQL updates
   * that `sentitems` row (Status DeliveryOK/Failed/Pending/Unknown). Services without it leave
   * reports to the daemon's spool files.
   */
  saveOutletReport?(
    id: string,
    part: number,
    status: 'DeliveryOK' | 'DeliveryFailed' | 'DeliveryPending' | 'DeliveryUnknown',
    at: Date,
  ): Promise<boolean>;
}

/** What saveDeliveryReport did: which sent part it updated, or why none matched. */
export type DeliveryReportResult =
  { matched: true; id: string; part: number; status: string } | { matched: false; reason: string };

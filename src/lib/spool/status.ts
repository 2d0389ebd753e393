import fs from 'node:fs';
import path from 'node:path';
import { replaceFileDurable } from './atomic.js';

/** The storage health of a daemon (daemon/storage-health.ts keeps it). */
export interface StorageStatus {
  ok: boolean;
  error?: string;
  since?: string;
  /** Failed storage steps since the daemon started. */
  failures: number;
}

/** Bind/link state and counters for the status file, the monitor and /metrics. */
/** An outlet's link (outlets/types.ts re-exports it). */
export interface OutletStatus {
  connection: 'smpp' | 'smpps' | 'kannel';
  state: 'connecting' | 'bound' | 'unbound' | 'closing' | 'down';
  /** Submits sent and not yet answered, and the most allowed. */
  inFlight: number;
  window: number;
  submitted: number;
  accepted: number;
  temporaryErrors: number;
  permanentErrors: number;
  /** Parts resent after a link dropped before their answer (possible duplicates). */
  resentUnanswered: number;
  moReceived: number;
  reportsReceived: number;
  /** Set while the network asks us to slow down. */
  throttledUntil?: string;
  lastError?: string;
  /** Submits per second over the last seconds, when the outlet measures it. */
  submitRate?: number;
  /** Parts waiting inside the outlet for room in the window (throttled, link down). */
  queued?: number;
  /** Sent parts waiting for their receipt (at most ReceiptLimit). */
  receiptsWaiting?: number;
  /** Parts closed as "no receipt" (ReceiptTimeout or ReceiptLimit) since start. */
  receiptsClosed?: number;
}

export type DaemonState =
  'starting' | 'connecting' | 'connected' | 'suspended' | 'resetting' | 'error' | 'stopped';

/** What each `smsd run` publishes in `<spool>/status/<name>.json` for `smsd monitor`. */
export interface DaemonStatus {
  pid: number;
  phoneId: string;
  device: string;
  state: DaemonState;
  client: string;
  manufacturer?: string;
  model?: string;
  imei?: string;
  imsi?: string;
  /** The number messages to this modem arrive on: OwnNumber, else the SIM's (AT+CNUM). */
  ownNumber?: string;
  operatorName?: string;
  operatorCode?: string;
  signalPercent: number;
  signalDbm?: number;
  batteryPercent: number;
  sent: number;
  received: number;
  failed: number;
  lastError?: string;
  /** Routed (+CMT) messages held in memory until the inbox stores them, when there are any. */
  routedHeld?: number;
  /** The spool (or database) steps of this daemon: ok, or what fails since when (storage-health.ts). */
  storage?: StorageStatus;
  /** With an outlet (Connection = smpp, kannel): its link and counters instead of signal/battery. */
  outlet?: OutletStatus;
  startedAt: string;
  updatedAt: string;
}

export class StatusPublisher {
  readonly file: string;
  constructor(dir: string, name: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${name}.json`);
  }

  publish(status: DaemonStatus): void {
    try {
      replaceFileDurable(
        this.file,
        Buffer.from(JSON.stringify({ ...status, updatedAt: new Date().toISOString() }, null, 2) + '\n'),
      );
    } catch {
      // The status file is informative; a full disk must not stop the daemon.
    }
  }
}

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
  /** The spool (or database) steps of this daemon: ok, or what fails since when (storage-health.ts). */
  storage?: StorageStatus;
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

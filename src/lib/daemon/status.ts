import fs from 'node:fs';
import path from 'node:path';
import { replaceFileDurable } from '../spool/atomic.js';
import type { OutletStatus } from '../outlets/types.js';

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
  operatorName?: string;
  operatorCode?: string;
  signalPercent: number;
  signalDbm?: number;
  batteryPercent: number;
  sent: number;
  received: number;
  failed: number;
  lastError?: string;
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

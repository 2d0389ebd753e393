import os from 'node:os';
import path from 'node:path';
import type { SmsdConfig } from '../config/smsd-config.js';

export interface DaemonPaths {
  /** Delivery reports for users and smppd. */
  reportsDir: string;
  /** Status files for smsd monitor. */
  statusDir: string;
  /** Where undecodable PDUs from the modem are kept (never dropped). */
  badPduDir: string;
}

/**
 * Where the daemon keeps what Gammu's layout has no folder for: `StatePath`, else the outbox's
 * parent folder. Without either (an SQL set-up names no folders; Gammu keeps this in shared
 * memory) a fixed folder under the temporary directory, so `smsd monitor` finds it too.
 */
export function daemonPaths(config: SmsdConfig): DaemonPaths {
  const s = config.smsd;
  const base =
    s.statePath?.path ??
    (s.outboxPath.raw !== '' ? path.dirname(s.outboxPath.path) : path.join(os.tmpdir(), 'smsgate'));
  return {
    reportsDir: path.join(base, 'reports'),
    statusDir: path.join(base, 'status'),
    badPduDir: config.smsd.errorSmsPath.path,
  };
}

/** A daemon's name in status and index files: its PhoneID, else its device's base name. */
export function daemonName(config: SmsdConfig): string {
  const device = config.gammu.device === 'emulator' ? 'modem' : config.gammu.device.replace(/^emulator:/, '');
  return config.smsd.phoneId || path.basename(device).replace(/[^\w.-]/g, '_');
}

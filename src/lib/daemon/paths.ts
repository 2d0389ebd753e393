import type { SmsdConfig } from '../config/smsd-config.js';
import { spoolLayout } from '../spool/layout.js';

export { daemonName } from '../spool/layout.js';

export interface DaemonPaths {
  /** Delivery reports for users and smppd. */
  reportsDir: string;
  /** Status files for smsd monitor. */
  statusDir: string;
  /** Where undecodable PDUs from the modem are kept (never dropped). */
  badPduDir: string;
}

/** The daemon's folders, from the one spool layout (spool/layout.ts). */
export function daemonPaths(config: SmsdConfig): DaemonPaths {
  const l = spoolLayout(config);
  return { reportsDir: l.reports, statusDir: l.status, badPduDir: l.badPdu };
}

import type { SmsdConfig } from '../config/smsd-config.js';
import { spoolLayout } from '../spool/layout.js';
import type { SmppdConfig } from './config.js';

/**
 * Spool folders smppd reads and writes, from the one spool layout (spool/layout.ts): reports/ where
 * `smsd run` writes them, smppd's own state (queues, billing ledgers) in StateDir. Kept apart from
 * serve.ts so commands like `esme credit` find the ledgers without loading the server.
 */
export function smppdPaths(smsd: SmsdConfig, smppd: SmppdConfig) {
  const l = spoolLayout(smsd, smppd.stateDir);
  return {
    outbox: l.outbox,
    sent: l.sent,
    error: l.error,
    inbox: l.inbox,
    reports: l.reports,
    state: l.smppd.state,
    moUrl: l.smppd.moUrl,
    /** `smsd run`'s status files (which modems are up, for sendsms's answer). */
    status: l.status,
  };
}

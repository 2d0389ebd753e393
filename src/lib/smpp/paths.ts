import path from 'node:path';
import type { SmsdConfig } from '../config/smsd-config.js';
import { daemonPaths } from '../daemon/paths.js';
import type { SmppdConfig } from './config.js';

/**
 * Spool folders smppd reads and writes: reports/ where `smsd run` writes them (StatePath, else
 * beside the outbox), smppd's own state (queues, billing ledgers) in smppd/ next to it. Kept apart
 * from serve.ts so commands like `esme credit` find the ledgers without loading the server.
 */
export function smppdPaths(smsd: SmsdConfig, smppd: SmppdConfig) {
  const reports = daemonPaths(smsd).reportsDir;
  return {
    outbox: smsd.smsd.outboxPath.path,
    sent: smsd.smsd.sentSmsPath.path,
    error: smsd.smsd.errorSmsPath.path,
    inbox: smsd.smsd.inboxPath.path,
    reports,
    state: smppd.stateDir ?? path.join(path.dirname(reports), 'smppd'),
  };
}

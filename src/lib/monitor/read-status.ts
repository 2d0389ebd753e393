import fs from 'node:fs';
import path from 'node:path';
import type { SmsdConfig } from '../config/smsd-config.js';
import type { DaemonStatus } from '../spool/status.js';
import { daemonName, spoolLayout } from '../spool/layout.js';
import { isProcessAlive } from '../common/process-alive.js';

export class StatusUnavailable extends Error {}

/**
 * The status the `smsd run` of this config publishes (the same file name it uses: PhoneID, else the
 * device), as gammu-smsd-monitor reads the shared memory of the daemon started with that config.
 */
export function readDaemonStatus(config: SmsdConfig): DaemonStatus {
  const file = path.join(spoolLayout(config).status, `${daemonName(config)}.json`);
  let status: DaemonStatus;
  try {
    status = JSON.parse(fs.readFileSync(file, 'utf8')) as DaemonStatus;
  } catch (err) {
    throw new StatusUnavailable(
      `no status of a running smsd (${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (status.state !== 'stopped' && !isProcessAlive(status.pid))
    throw new StatusUnavailable(`smsd (pid ${status.pid}) is not running (${file})`);
  if (status.state === 'stopped') throw new StatusUnavailable(`smsd has stopped (${file})`);
  return status;
}

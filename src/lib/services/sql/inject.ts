import { packageVersion } from '../../version.js';
import type { SmsdConfig } from '../../config/smsd-config.js';
import type { OutboxMessage } from '../../spool/outbox-files.js';
import { SqlService } from './service.js';
import { sqlServiceOptions } from './settings.js';

/** CreatorID of what `smsd inject` queues (gammu-smsd-inject writes "Gammu <version>"). */
export function creatorId(): string {
  const v = packageVersion();
  return v === 'unknown' ? 'smsgate' : `smsgate ${v}`;
}

/** `smsd inject` into the SQL outbox: Gammu's CreateOutboxSMS. Returns the new outbox ID. */
export async function injectIntoSql(config: SmsdConfig, msg: OutboxMessage): Promise<string> {
  const svc = new SqlService(sqlServiceOptions(config));
  try {
    await svc.init();
    return await svc.createOutbox(msg, creatorId());
  } finally {
    await svc.free().catch(() => undefined);
  }
}

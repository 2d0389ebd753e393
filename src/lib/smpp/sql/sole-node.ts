import type { ConnectOptions } from '../../services/sql/connection.js';
import { holdSqliteLock, sqlitePath } from '../../services/sql/sqlite.js';

/**
 * SQLite serves one smppd: SQLite has one writer per file, so a second node would add no
 * throughput, only contention, and nodes on two hosts (a network file system) could corrupt it.
 * A node on SQLite holds `<database>-smppd.lock` for its life (released by the kernel however the
 * process ends); a second `smppd serve` on the same file is refused at start with a line that
 * says why. Several nodes share MySQL/MariaDB or PostgreSQL instead.
 */
export async function claimSoleNode(o: ConnectOptions): Promise<() => void> {
  if (o.dialect !== 'sqlite') return () => undefined;
  const file = sqlitePath(o);
  const lock = `${file}-smppd.lock`;
  const held = await holdSqliteLock(lock);
  if (!held)
    throw new Error(
      `another smppd serve already uses the SQLite database ${file} (it holds ${lock}); SQLite serves one smppd node: stop the other one, or put several nodes on MySQL/MariaDB or PostgreSQL`,
    );
  return () => held.release();
}

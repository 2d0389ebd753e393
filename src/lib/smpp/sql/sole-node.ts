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

/**
 * A submit waits for its commit, and an ESME for its answer: on SQLite, another process holding
 * the write lock (a `sqlite3` shell, a backup) is waited for this long per step, once, and then
 * the submit is refused (ESME_RSYSERR, nothing stored) instead of hanging for the 30 s × BackendRetries
 * that suit smsd run. SMSGATE_SQLITE_BUSY_MS sets the wait, as for smsd.
 */
export const SMPPD_SQLITE_BUSY_MS = 5_000;

export function smppdConnection(o: ConnectOptions): ConnectOptions {
  if (o.dialect !== 'sqlite') return o;
  return { ...o, busyTimeoutMs: o.busyTimeoutMs ?? SMPPD_SQLITE_BUSY_MS, retries: 1 };
}

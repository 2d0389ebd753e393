/**
 * SQLite for the SQL service, as Gammu's DBI service with `Driver = sqlite3` uses it: the file
 * `DBDir/Database` (libdbi's sqlite3_dbdir + dbname), Gammu's tables, several processes on one file.
 *
 * better-sqlite3 is synchronous. That is acceptable here because every statement we run is short:
 * indexed single-row lookups and writes (tens of microseconds), and a transaction awaits between
 * its statements, so a 256-message batch does not hold the loop for its length. The longest step
 * is a commit's fsync (about 3 ms on this machine's disk): cheaper than a worker hop per statement,
 * and short enough for the modem's serial line and the SMPP sockets, whose bytes the kernel buffers. The one wait that could be long, another process
 * holding the write lock, is never done inside SQLite: its busy_timeout is kept at a few
 * milliseconds and the rest of the wait is an asynchronous back-off, so the event loop (the modem,
 * the SMPP sockets, the monitor) keeps running while we wait for the lock.
 *
 * Durability: WAL with synchronous = FULL, so a commit is on disk (the WAL is fsynced) before we
 * answer; an acknowledged message survives a power cut, not only a crash of the process.
 */
import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { SqlError, type Driver, type SqlResult, type SqlValue } from './driver.js';

/** The only binding we support; pinned so a user's fix command matches what package.json lists. */
export const SQLITE_PACKAGE = 'better-sqlite3@12.11.1';

export interface SqliteOptions {
  /** Gammu's DBDir (may be empty: Database is then a path of its own). */
  dbDir?: string;
  /** Gammu's Database: the file name inside DBDir. */
  database: string;
  /** Create the file when missing (smsd db init only; everything else wants an existing database). */
  create?: boolean;
  /** Total time to wait for another process's write lock before the step counts as failed. */
  busyTimeoutMs?: number;
}

/** SQLite's own wait per attempt: short, so a blocked event loop is never noticeable. */
const SYNC_BUSY_MS = 5;
/** Prepared statements kept per connection (the service uses ~30 distinct texts). */
const STATEMENT_CACHE = 200;

/** libdbi's dbd_sqlite3: DBDir, a slash unless one is there already, then the database name. */
export function sqlitePath(o: Pick<SqliteOptions, 'dbDir' | 'database'>): string {
  const dir = o.dbDir ?? '';
  if (dir === '' || path.isAbsolute(o.database)) return o.database;
  return dir.endsWith('/') ? dir + o.database : `${dir}/${o.database}`;
}

type DatabaseCtor = typeof BetterSqlite3;
let binding: Promise<DatabaseCtor> | undefined;

/** Loads better-sqlite3 on first use: an optional dependency that needs a C++ compiler to build. */
async function loadBinding(): Promise<DatabaseCtor> {
  binding ??= import('better-sqlite3').then(
    (m) => m.default,
    (err: unknown) => {
      binding = undefined;
      const e = err as Error & { code?: string };
      const why =
        e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND'
          ? 'is not installed'
          : `cannot be loaded (${e.message.split('\n')[0]})`;
      throw new SqlError(
        `Driver = sqlite3 needs the optional package better-sqlite3, which ${why}; install it with: npm install ${SQLITE_PACKAGE} (it builds with a C++ compiler, make and python3)`,
        'SQLITE_BINDING',
      );
    },
  );
  return binding;
}

/** SQLite result codes that mean "another process has the lock": wait and try again. */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describe(file: string): string {
  return `SQLite database ${file}`;
}

/** Checks what SQLite would report vaguely (SQLITE_CANTOPEN) and says what is wrong instead. */
function checkFile(file: string, create: boolean): void {
  const dir = path.dirname(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new SqlError(
      `Cannot open ${describe(file)}: directory ${dir} does not exist (DBDir)`,
      'SQLITE_CANTOPEN',
    );
  }
  if (!st.isDirectory())
    throw new SqlError(`Cannot open ${describe(file)}: ${dir} is not a directory (DBDir)`, 'SQLITE_CANTOPEN');
  if (!create && !fs.existsSync(file))
    throw new SqlError(
      `Cannot open ${describe(file)}: the file does not exist (create it with: smsd db init -c CONFIG)`,
      'SQLITE_CANTOPEN',
    );
}

export async function openSqlite(o: SqliteOptions): Promise<Driver> {
  const Database = await loadBinding();
  const file = sqlitePath(o);
  checkFile(file, o.create === true);
  let db: BetterSqlite3.Database;
  try {
    db = new Database(file, { fileMustExist: o.create !== true, timeout: SYNC_BUSY_MS });
  } catch (err) {
    throw new SqlError(
      `Cannot open ${describe(file)}: ${(err as Error).message}`,
      (err as { code?: string }).code,
      {
        cause: err,
      },
    );
  }
  const budget = o.busyTimeoutMs ?? 30_000;
  /** The file we opened: a database deleted or replaced under us is noticed, not written into the void. */
  const inode = fs.statSync(file).ino;
  const statements = new Map<string, BetterSqlite3.Statement>();

  const prepare = (sql: string): BetterSqlite3.Statement => {
    let s = statements.get(sql);
    if (!s) {
      if (statements.size >= STATEMENT_CACHE) statements.clear();
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };

  const stillThere = (): void => {
    let ino: number | undefined;
    try {
      ino = fs.statSync(file).ino;
    } catch {
      ino = undefined;
    }
    if (ino !== inode) {
      d.broken = true;
      throw new SqlError(
        `${describe(file)} ${ino === undefined ? 'vanished' : 'was replaced by another file'} while open`,
        'SQLITE_VANISHED',
      );
    }
  };

  /** Runs a synchronous step; a held lock is waited for asynchronously, with a growing pause, up to the budget. */
  const withBusyWait = async <T>(fn: () => T): Promise<T> => {
    const deadline = Date.now() + budget;
    for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
      try {
        return fn();
      } catch (err) {
        if (!isSqliteBusy(err)) {
          // Named by file: "database or disk is full" alone does not say which disk.
          const e = err as Error & { code?: string };
          if (err instanceof SqlError || !e.code?.startsWith('SQLITE_')) throw err;
          throw new SqlError(`${describe(file)}: ${e.message}`, e.code, { cause: err });
        }
        if (Date.now() >= deadline)
          throw new SqlError(
            `${describe(file)} is locked by another process for more than ${Math.round(budget / 1000)} s`,
            'SQLITE_BUSY',
            { cause: err },
          );
        await sleep(pause);
      }
    }
  };

  const run = (sql: string, params: readonly SqlValue[]): SqlResult & { lastId: number } => {
    if (/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(sql)) {
      if (/^\s*BEGIN/i.test(sql)) stillThere();
      db.exec(sql);
      return { rows: [], affectedRows: 0, lastId: 0 };
    }
    const s = prepare(sql);
    if (s.reader) return { rows: s.raw(true).all(...params) as unknown[][], affectedRows: 0, lastId: 0 };
    const info = s.run(...params);
    return { rows: [], affectedRows: info.changes, lastId: Number(info.lastInsertRowid) };
  };

  const d: Driver = {
    broken: false,
    async query(sql, params) {
      if (!db.inTransaction) stillThere();
      const r = await withBusyWait(() => run(sql, params));
      return { rows: r.rows, affectedRows: r.affectedRows };
    },
    async insert(sql, params) {
      if (!db.inTransaction) stillThere();
      return (await withBusyWait(() => run(sql, params))).lastId;
    },
    async close() {
      statements.clear();
      if (db.open) db.close();
    },
  };

  try {
    // WAL: readers never block the writer nor each other (several daemons, a monitor, a web front end).
    // The mode is stored in the file; asking again on a WAL file is a no-op that needs no lock.
    if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal')
      await withBusyWait(() => db.pragma('journal_mode = WAL'));
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = OFF');
    // A read-only file (or directory) opens fine and fails only at the first write: find out now.
    // Another process holding the write lock answers SQLITE_BUSY instead: the file is there and in
    // use, which is no reason not to start; the first write will wait for it like any other.
    try {
      db.exec('BEGIN IMMEDIATE; ROLLBACK');
    } catch (err) {
      if (!isSqliteBusy(err)) throw err;
    }
  } catch (err) {
    db.close();
    const e = err as Error & { code?: string };
    if (e.code?.startsWith('SQLITE_READONLY') || e.code === 'SQLITE_CANTOPEN')
      throw new SqlError(
        `${describe(file)} is read-only (${e.code}): smsd needs to write it and the WAL files next to it in ${path.dirname(file)}`,
        e.code,
        { cause: err },
      );
    if (err instanceof SqlError) throw err;
    throw new SqlError(`Cannot open ${describe(file)}: ${e.message}`, e.code, { cause: err });
  }
  return d;
}

/**
 * Holds the SQLite file `file` (created when missing) locked for as long as this process keeps it:
 * one holder at a time, on this host, released by the kernel when the process dies (kill -9
 * included), so a lock never goes stale. Undefined when another connection holds it.
 */
export async function holdSqliteLock(file: string): Promise<{ release(): void } | undefined> {
  const Database = await loadBinding();
  let db: BetterSqlite3.Database;
  try {
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new SqlError(
      `Cannot open the lock file ${file}: ${(err as Error).message}`,
      (err as { code?: string }).code,
      {
        cause: err,
      },
    );
  }
  try {
    // EXCLUSIVE locking mode with an open exclusive transaction: no other connection may even read it.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if (isSqliteBusy(err)) return undefined;
    throw new SqlError(`Cannot lock ${file}: ${(err as Error).message}`, (err as { code?: string }).code, {
      cause: err,
    });
  }
  return {
    release() {
      if (!db.open) return;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

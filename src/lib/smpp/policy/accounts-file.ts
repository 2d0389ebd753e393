import fs from 'node:fs';
import path from 'node:path';
import { AccountsError, hashPassword, parseAccounts, type Account } from './accounts.js';
import { parseCidrList } from '../protocol/net.js';
import { statIfExists } from '../../common/absent.js';

/**
 * `esme add/set/remove/list`: edits of the accounts file. Lines are changed in place so comments
 * and keys of others stay; the result is parsed before it is written (a broken file is never
 * written), and written atomically (temp file, fsync, rename) so a running server never reads half
 * a file. Edits hold `<file>.lock` so two at once (scripts) do not lose one another's change. A
 * running server takes the change at `routes rebuild` (or SIGHUP).
 */

async function locked<T>(file: string, edit: () => Promise<T> | T): Promise<T> {
  // Loaded here: with graceful-fs, signal-exit and the rest it costs ~2.5 ms, which `esme list` (no
  // lock) need not pay.
  const { default: lockfile } = await import('proper-lockfile');
  const release = await lockfile.lock(file, {
    realpath: false,
    stale: 10_000,
    // Up to about a minute in turn: scripts editing at once on a busy machine each hold the lock
    // for a read, a parse and an fsync'd write, which can take seconds there.
    retries: { retries: 300, minTimeout: 20, maxTimeout: 200 },
  });
  try {
    return await edit();
  } finally {
    await release();
  }
}

export interface AccountChanges {
  password?: string;
  enabled?: boolean;
  throughput?: number;
  maxBinds?: number;
  allow?: string;
  mo?: boolean;
  prepaid?: boolean;
  defaultRoute?: string;
  defaultCost?: number;
}

const SECTION = /^\s*\[([^\]]*)\]/;

function readText(file: string, mustExist: boolean): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (!mustExist && (err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new AccountsError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** [start, end) line indexes of the section of `systemId` (case-insensitive), or undefined. */
function sectionRange(lines: readonly string[], systemId: string): [number, number] | undefined {
  const sid = systemId.toLowerCase();
  const start = lines.findIndex((l) => SECTION.exec(l)?.[1]?.trim().toLowerCase() === sid);
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && !SECTION.test(lines[end] ?? '')) end++;
  return [start, end];
}

export function checkValues(c: AccountChanges): void {
  if (c.throughput !== undefined && (!Number.isFinite(c.throughput) || c.throughput < 0))
    throw new AccountsError(`throughput must be a number >= 0`);
  if (c.maxBinds !== undefined && (!Number.isInteger(c.maxBinds) || c.maxBinds < 0))
    throw new AccountsError(`max-binds must be an integer >= 0`);
  if (c.defaultCost !== undefined && (!Number.isFinite(c.defaultCost) || c.defaultCost < 0))
    throw new AccountsError(`default-cost must be a number >= 0`);
  if (c.defaultRoute !== undefined && !/^(spool|none|phone:.+)$/i.test(c.defaultRoute))
    throw new AccountsError(`default-route must be spool, none or phone:<PhoneID>`);
  if (c.allow !== undefined) {
    try {
      parseCidrList(c.allow);
    } catch (err) {
      throw new AccountsError(`allow: ${(err as Error).message}`);
    }
  }
}

async function entries(c: AccountChanges): Promise<[string, string][]> {
  const out: [string, string][] = [];
  if (c.password !== undefined) out.push(['password', await hashPassword(c.password)]);
  if (c.enabled !== undefined) out.push(['enabled', c.enabled ? 'yes' : 'no']);
  if (c.maxBinds !== undefined) out.push(['max_binds', String(c.maxBinds)]);
  if (c.allow !== undefined) out.push(['allow', c.allow]);
  if (c.throughput !== undefined) out.push(['throughput', String(c.throughput)]);
  if (c.mo !== undefined) out.push(['mo', c.mo ? 'yes' : 'no']);
  if (c.prepaid !== undefined) out.push(['prepaid', c.prepaid ? 'yes' : 'no']);
  if (c.defaultRoute !== undefined) out.push(['default_route', c.defaultRoute]);
  if (c.defaultCost !== undefined) out.push(['default_cost', String(c.defaultCost)]);
  return out;
}

/** Temp file in the same directory, fsync, rename, fsync of the directory. */
export function writeAtomically(file: string, text: string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  // A new file: 0600, it holds password hashes.
  const mode = (statIfExists(file)?.mode ?? 0o600) & 0o777;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

function save(file: string, lines: string[]): Map<string, Account> {
  const text = `${lines.join('\n').replace(/\n*$/, '')}\n`;
  const { accounts } = parseAccounts(text, file); // throws before anything is written
  writeAtomically(file, text);
  return accounts;
}

export async function addAccount(file: string, systemId: string, c: AccountChanges): Promise<void> {
  // Printable, and nothing the INI reader would take for a section end, a comment or a key.
  if (!/^[^\s[\];#=]{1,15}$/.test(systemId) || /[^\x21-\x7e]/.test(systemId))
    throw new AccountsError(
      `system_id "${systemId}" must have 1 to 15 printable characters, none of [ ] ; # =`,
    );
  if (c.password === undefined) throw new AccountsError('a new account needs --password');
  if (c.password.length > 8)
    throw new AccountsError('SMPP 3.4 passwords have at most 8 characters (bind password field)');
  checkValues(c);
  const added = (await entries(c)).map(([k, v]) => `${k} = ${v}`);
  await locked(file, () => {
    const lines = readText(file, false).replace(/\n*$/, '').split('\n');
    if (sectionRange(lines, systemId)) throw new AccountsError(`system_id ${systemId} exists already`);
    if (lines.length === 1 && lines[0] === '') lines.length = 0;
    else lines.push('');
    lines.push(`[${systemId}]`, ...added);
    save(file, lines);
  });
}

export async function setAccount(file: string, systemId: string, c: AccountChanges): Promise<void> {
  if (c.password !== undefined && c.password.length > 8)
    throw new AccountsError('SMPP 3.4 passwords have at most 8 characters (bind password field)');
  checkValues(c);
  const changes = await entries(c);
  if (changes.length === 0) throw new AccountsError('nothing to change (see --help)');
  await locked(file, () => {
    const lines = readText(file, true).split('\n');
    const range = sectionRange(lines, systemId);
    if (!range) throw new AccountsError(`no system_id ${systemId} in ${file}`);
    const [start] = range;
    let end = range[1];
    for (const [key, value] of changes) {
      const re = new RegExp(`^\\s*${key}\\s*=`, 'i');
      let found = false;
      for (let i = start + 1; i < end; i++)
        if (re.test(lines[i] ?? '')) {
          // The last value wins in the parser; every line of the key gets the new value.
          lines[i] = `${key} = ${value}`;
          found = true;
        }
      if (!found) {
        let at = end;
        while (at > start + 1 && (lines[at - 1] ?? '').trim() === '') at--;
        lines.splice(at, 0, `${key} = ${value}`);
        end++;
      }
    }
    save(file, lines);
  });
}

export function removeAccount(file: string, systemId: string): Promise<void> {
  return locked(file, () => {
    const lines = readText(file, true).split('\n');
    const range = sectionRange(lines, systemId);
    if (!range) throw new AccountsError(`no system_id ${systemId} in ${file}`);
    lines.splice(range[0], range[1] - range[0]);
    save(file, lines);
  });
}

/** What `esme list` shows: settings, never the hashes. */
export function listAccounts(file: string): Account[] {
  const text = readText(file, false);
  return [...parseAccounts(text, file).accounts.values()];
}

export function formatAccounts(accounts: readonly Account[]): string {
  const rows = [['SYSTEM_ID', 'ENABLED', 'MAX_BINDS', 'THROUGHPUT', 'MO', 'PREPAID', 'SIMULATE', 'ALLOW']];
  for (const a of accounts)
    rows.push([
      a.systemId,
      a.enabled ? 'yes' : 'no',
      a.maxBinds === 0 ? 'unlimited' : String(a.maxBinds),
      a.throughput === 0 ? 'unlimited' : String(a.throughput),
      a.mo ? 'yes' : 'no',
      a.prepaid ? 'yes' : 'no',
      a.simulate ? 'yes' : 'no',
      [...a.allow.map((c) => c.text), ...(a.allowPatterns ?? [])].join(', ') || 'anywhere',
    ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

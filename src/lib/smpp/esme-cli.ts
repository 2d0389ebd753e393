import { AccountsError } from './accounts.js';
import {
  addAccount,
  formatAccounts,
  listAccounts,
  removeAccount,
  setAccount,
  type AccountChanges,
} from './accounts-file.js';
import { adminCommand, smppdConfigOf } from './admin-client.js';
import { ledgerFile, readLedgerTail, topUpOffline } from './billing.js';
import { loadSmsdConfig } from '../config/smsd-config.js';
import { readSmppdConfig } from './config.js';
import { daemonPaths } from '../daemon/paths.js';
import path from 'node:path';

/** The bodies of `esme ...` and `routes rebuild`: each returns the exit code after printing. */

export interface Out {
  out(line: string): void;
  err(line: string): void;
}

function accountsFile(configFile: string | undefined): string {
  return smppdConfigOf(configFile).smppd.accountsFile;
}

async function guarded(o: Out, body: () => Promise<string> | string): Promise<number> {
  try {
    o.out(await body());
    return 0;
  } catch (err) {
    o.err(`${err instanceof AccountsError ? '' : 'error: '}${(err as Error).message}`);
    return 1;
  }
}

const REBUILD_HINT = '; a running smppd serve takes it at `routes rebuild`';

export function esmeAdd(o: Out, configFile: string | undefined, systemId: string, c: AccountChanges) {
  return guarded(o, async () => {
    const file = accountsFile(configFile);
    await addAccount(file, systemId, c);
    return `added ${systemId} to ${file}${REBUILD_HINT}`;
  });
}

export function esmeSet(o: Out, configFile: string | undefined, systemId: string, c: AccountChanges) {
  return guarded(o, async () => {
    const file = accountsFile(configFile);
    await setAccount(file, systemId, c);
    return `changed ${systemId} in ${file}${REBUILD_HINT}`;
  });
}

export function esmeRemove(o: Out, configFile: string | undefined, systemId: string) {
  return guarded(o, async () => {
    const file = accountsFile(configFile);
    await removeAccount(file, systemId);
    return `removed ${systemId} from ${file}${REBUILD_HINT} (its binds stay until unbound: esme unbind)`;
  });
}

export function esmeList(o: Out, configFile: string | undefined) {
  return guarded(o, () => formatAccounts(listAccounts(accountsFile(configFile))));
}

export async function adminCli(
  o: Out,
  configFile: string | undefined,
  command: string,
  params: Record<string, string> = {},
): Promise<number> {
  const r = await adminCommand(configFile, command, params);
  if (r.ok) o.out(r.message);
  else o.err(r.message);
  return r.ok ? 0 : 1;
}

/** Where smppd keeps its ledgers for this config (as smppdPaths in serve.ts). */
function billingDir(configFile: string | undefined): { dir: string; accountsFile: string } {
  const loaded = loadSmsdConfig(configFile);
  const { config } = readSmppdConfig(loaded.config.smppd, loaded.source, process.cwd());
  const state = config.stateDir ?? path.join(path.dirname(daemonPaths(loaded.config).reportsDir), 'smppd');
  return { dir: path.join(state, 'billing'), accountsFile: config.accountsFile };
}

/**
 * `esme credit SYSTEM_ID [AMOUNT]`: adds to (or, without AMOUNT, shows) a prepaid credit. With no
 * server running the ledger is written here under its lock; a running server holds that lock and
 * owns the balance, so the change goes through its admin HTTP interface.
 */
export function esmeCredit(
  o: Out,
  configFile: string | undefined,
  systemId: string,
  amount: number | undefined,
) {
  return guarded(o, async () => {
    if (amount !== undefined && !Number.isFinite(amount)) throw new AccountsError('AMOUNT must be a number');
    const { dir, accountsFile } = billingDir(configFile);
    const account = listAccounts(accountsFile).find(
      (a) => a.systemId.toLowerCase() === systemId.toLowerCase(),
    );
    if (!account) throw new AccountsError(`no system_id ${systemId} in ${accountsFile}`);
    const note = `esme credit by ${process.env.USER ?? 'uid ' + String(process.getuid?.() ?? '?')}`;
    const offline = amount === undefined ? undefined : topUpOffline(dir, account.systemId, amount, note);
    if (offline !== undefined) return `credit of ${account.systemId}: ${offline}`;
    const r = await adminCommand(configFile, '/esme-credit', {
      'system-id': account.systemId,
      ...(amount === undefined ? {} : { amount: String(amount), note }),
    });
    if (r.ok) return r.message.replace(/^Credit/, 'credit');
    // Only reading, and no server: the ledger's last line says it.
    if (amount === undefined)
      return `credit of ${account.systemId}: ${readLedgerTail(ledgerFile(dir, account.systemId)).balance}`;
    throw new Error(r.message);
  });
}

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

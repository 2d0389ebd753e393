/** gammu-smsd's -U/-G: give up root once what needs root is open. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export interface Identity {
  uid: number;
  gid: number;
  user?: string;
}

function numeric(kind: '-u' | '-g', name: string): number {
  if (/^\d+$/.test(name) && kind === '-g') return Number(name);
  try {
    // id(1) asks NSS, so LDAP and systemd users resolve as they do for Gammu's getpwnam().
    return Number(
      execFileSync('id', [kind, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
  } catch {
    throw new Error(`no such ${kind === '-u' ? 'user' : 'user or group'} "${name}"`);
  }
}

function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const line = fs
    .readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === group);
  const gid = line?.split(':')[2];
  if (gid === undefined) {
    try {
      return Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
    } catch {
      throw new Error(`no such group "${group}"`);
    }
  }
  return Number(gid);
}

/** Who -U USER -G GROUP mean (GROUP defaults to USER's primary group); undefined without both. */
export function resolveIdentity(user: string | undefined, group: string | undefined): Identity | undefined {
  if (user === undefined && group === undefined) return undefined;
  const uid = user === undefined ? (process.getuid?.() ?? 0) : numeric('-u', user);
  const gid =
    group !== undefined
      ? groupId(group)
      : user !== undefined
        ? numeric('-g', user)
        : (process.getgid?.() ?? 0);
  return { uid, gid, ...(user === undefined ? {} : { user }) };
}

/**
 * Become the identity: supplementary groups (dialout for the modem), then the group, then the user,
 * in that order because only root may change groups. Not root: fine when already that identity.
 */
export function dropPrivileges(id: Identity): void {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === id.uid && gid === id.gid) return;
  if (uid !== 0)
    throw new Error(`-U/-G need root to switch to uid ${id.uid} gid ${id.gid} (running as uid ${uid})`);
  // process.initgroups exists on POSIX Node but is missing from @types/node 20.
  const initgroups = (process as { initgroups?: (user: string, extra: number) => void }).initgroups;
  if (id.user !== undefined && initgroups) initgroups(id.user, id.gid);
  else process.setgroups?.([id.gid]);
  process.setgid?.(id.gid);
  process.setuid?.(id.uid);
}

import fs from 'node:fs';

/**
 * Is there a living process with this PID (ours or another user's)? Signal 0 checks without
 * sending; a zombie (killed, not yet reaped by its parent) still answers signal 0 but holds
 * nothing any more, so on Linux its state in /proc/<pid>/stat (Z, or X: dead) makes it gone.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' && !isZombie(pid);
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false; // no /proc (not Linux): signal 0 is all we know
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

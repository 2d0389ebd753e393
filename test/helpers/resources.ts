import fs from 'node:fs';

/** Resident set size of a process in KiB (VmRSS of /proc/<pid>/status). */
export function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Open file descriptors of a process (entries of /proc/<pid>/fd). */
export function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

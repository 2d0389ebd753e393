import fs from 'node:fs';

/** Resources of a process as the kernel counts them: resident memory and open descriptors. */

/** VmRSS of `pid` in bytes (from /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** Open descriptors of `pid` (entries of /proc/<pid>/fd). */
export function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Where the descriptors of `pid` point (files, socket:[...], anon_inode:...), for a failure message. */
export function fdTargets(pid: number): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** The process state letter of /proc/<pid>/stat (R, S, Z...), undefined once it is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

export const MB = 1024 * 1024;

/** Samples RSS every `everyMs` until stopped; the peak seen. */
export function rssPeak(pid: number, everyMs = 20): { stop(): number } {
  let peak = rssBytes(pid);
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // the process is gone
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      return peak;
    },
  };
}

/** VmRSS of `pid` in KiB. */
export function rssKb(pid: number): number {
  return Math.round(rssBytes(pid) / 1024);
}

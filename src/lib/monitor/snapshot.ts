import fs from 'node:fs';
import path from 'node:path';
import type { SmsdConfig } from '../config/smsd-config.js';
import type { DaemonStatus } from '../spool/status.js';
import { spoolLayout } from '../spool/layout.js';
import { isOutboxCandidate } from '../spool/names.js';
import { isProcessAlive } from '../common/process-alive.js';
import { isAbsent, readdirIfExists, readIfExists } from '../common/absent.js';

export interface DaemonView extends DaemonStatus {
  /** The process behind the status file still runs. */
  alive: boolean;
}

export interface QueueView {
  outboxByPriority: Record<string, number>;
  outbox: number;
  inbox: number;
  sent: number;
  error: number;
  unmatchedReports: number;
  /** Receipts and MO waiting in smppd's durable queues for ESMEs not bound (or busy). */
  smppdWaiting: number;
}

export interface Snapshot {
  daemons: DaemonView[];
  queues: QueueView;
  at: Date;
}

export interface SpoolDirs {
  status: string;
  outbox: string;
  inbox: string;
  sent: string;
  error: string;
  unmatched: string;
  smppdQueue: string;
}

export function spoolDirs(config: SmsdConfig): SpoolDirs {
  const l = spoolLayout(config);
  return {
    status: l.status,
    outbox: l.outbox,
    inbox: l.inbox,
    sent: l.sent,
    error: l.error,
    unmatched: l.unmatched,
    smppdQueue: l.smppd.queue,
  };
}

function names(dir: string): string[] {
  return (readdirIfExists(dir) ?? []).filter((n) => !n.startsWith('.'));
}

/** What the monitor shows, from folder listings and the small status files only. */
export function readSnapshot(dirs: SpoolDirs): Snapshot {
  const daemons: DaemonView[] = [];
  for (const n of names(dirs.status)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    // Removed right now (a daemon's clean-up): the next refresh shows the rest. Status files are
    // replaced whole, so one that is there parses.
    const text = readIfExists(path.join(dirs.status, n), 'utf8');
    if (text === undefined) continue;
    const s = JSON.parse(text) as DaemonStatus;
    daemons.push({ ...s, alive: s.state !== 'stopped' && isProcessAlive(s.pid) });
  }
  const outboxByPriority: Record<string, number> = {};
  let outbox = 0;
  for (const n of names(dirs.outbox)) {
    if (!isOutboxCandidate(n)) continue;
    outbox++;
    const prio = /^OUT([A-Z])\d{8}_/i.exec(n)?.[1]?.toUpperCase() ?? '-';
    outboxByPriority[prio] = (outboxByPriority[prio] ?? 0) + 1;
  }
  const isMessage = (n: string) => !n.endsWith('.reason') && !n.endsWith('.lock');
  return {
    daemons,
    queues: {
      outboxByPriority,
      outbox,
      inbox: names(dirs.inbox).length,
      sent: dirs.sent === dirs.outbox ? 0 : names(dirs.sent).filter(isMessage).length,
      error: names(dirs.error).filter((n) => isMessage(n) && !n.startsWith('BADPDU')).length,
      unmatchedReports: names(dirs.unmatched).length,
      smppdWaiting: names(dirs.smppdQueue).reduce(
        (n, esme) => n + names(path.join(dirs.smppdQueue, esme)).filter((f) => f.endsWith('.json')).length,
        0,
      ),
    },
    at: new Date(),
  };
}

export interface SpoolEvent {
  at: Date;
  text: string;
}

/**
 * Watches the spool folders (inotify through fs.watch, no polling) and calls back, debounced,
 * with what happened: a message sent, failed, received, queued, or a daemon's status changed.
 */
export function watchSpool(dirs: SpoolDirs, onChange: (events: SpoolEvent[]) => void): () => void {
  const watchers: fs.FSWatcher[] = [];
  let pending: SpoolEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const events = pending;
    pending = [];
    onChange(events);
  };
  const watch = (dir: string, describe: (name: string) => string | undefined) => {
    try {
      const w = fs.watch(dir, { persistent: false }, (_e, name) => {
        if (name !== null && !name.startsWith('.')) {
          const text = fs.existsSync(path.join(dir, name)) ? describe(name) : undefined;
          if (text) pending.push({ at: new Date(), text });
        }
        timer ??= setTimeout(flush, 100);
      });
      w.on('error', () => undefined);
      watchers.push(w);
    } catch (err) {
      if (!isAbsent(err)) throw err;
      // a folder that does not exist (yet): its counts stay 0
    }
  };
  watch(dirs.status, () => undefined);
  watch(dirs.outbox, (n) => (isOutboxCandidate(n) ? `queued ${n}` : undefined));
  watch(dirs.sent, (n) => (n.endsWith('.reason') ? undefined : `sent ${n}`));
  watch(dirs.error, (n) => (n.endsWith('.reason') ? undefined : `failed ${n}`));
  watch(dirs.inbox, (n) => `received ${n}`);
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}

import type { Replacement } from '../protocol/replace.js';
import fs from 'node:fs';
import path from 'node:path';
import type { ReportRecord } from '../../spool/reports.js';
import { parseBackupExtensions } from '../../smsbackup/reader.js';
import { OUTBOX_STATE_DIR } from '../../spool/layout.js';
import { fsyncDir, replaceFileDurable } from '../../spool/atomic.js';
import { tryClaim } from '../../spool/lock.js';
import { MESSAGE_STATE } from '../protocol/deliver.js';
import { META_KEY, type SmppMeta } from './store.js';
import { readdirIfExists, readIfExists, statIfExists } from '../../common/absent.js';
import type { MessageLookup, MessageStatus } from './message-store.js';

/**
 * query_sm and cancel_sm: where a message ID stands in the spool. The ID is in the outbox file's
 * name, which `smsd run` keeps when it moves the file to sent/ or error/; the delivery reports of
 * `smsd run` give the final state. A message acknowledged a moment ago may not have its file yet:
 * the store (`unmaterialized`) knows it until then.
 */

export interface SpoolPaths {
  outbox: string;
  sent: string;
  error: string;
  reports: string;
}

export type { MessageStatus } from './message-store.js';

export type Where = { dir: 'outbox' | 'sent' | 'error'; name: string };

/** Messages taken whose outbox file is still to be created (OutboxStore). */
export interface UnmaterializedMessages {
  pendingMessage(id: string): { name: string; sid: string } | undefined;
  whenMaterialized(id: string): Promise<void> | undefined;
}

/** How long cancel_sm waits for the file of a message acknowledged a moment ago. */
const CANCEL_WAIT_MS = 5_000;

const CANCEL_REASON = 'cancelled by the ESME (cancel_sm)';

/** SMPP absolute time `YYMMDDhhmmss000+` in UTC. */
export function smppTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}000+`;
}

export class MessageIndex implements MessageLookup {
  /** Names of the files written by this process, so a lookup seldom needs a folder listing. */
  private readonly recent = new Map<string, string>();

  unmaterialized: UnmaterializedMessages | undefined;

  constructor(private readonly paths: SpoolPaths) {}

  remember(id: string, name: string): void {
    this.recent.set(id, name);
    // Bounded: older IDs are found by listing the folders.
    if (this.recent.size > 200_000) this.recent.delete(this.recent.keys().next().value ?? '');
  }

  /** Where the file of a message ID is now (the outbox, sent/ or error/). */
  locate(id: string): Where | undefined {
    if (!/^[0-9A-Za-z]{1,64}$/.test(id)) return undefined;
    const suffix = `_smpp-${id}.smsbackup`;
    const known = this.recent.get(id);
    for (const dir of ['outbox', 'sent', 'error'] as const) {
      const d = this.paths[dir];
      if (known && fs.existsSync(path.join(d, known))) return { dir, name: known };
    }
    for (const dir of ['outbox', 'sent', 'error'] as const) {
      const names = readdirIfExists(this.paths[dir]);
      if (!names) continue;
      const name = names.find((n) => n.endsWith(suffix));
      if (name) return { dir, name };
    }
    return undefined;
  }

  /** The message if it exists and `systemId` submitted it. */
  private owned(id: string, systemId: string): Where | undefined {
    const w = this.locate(id);
    if (!w) return undefined;
    // Moved on (sent, cancelled) since it was located: absent.
    const content = readIfExists(path.join(this.paths[w.dir], w.name));
    if (!content) return undefined;
    try {
      const raw = parseBackupExtensions(content)[META_KEY];
      const meta = raw ? (JSON.parse(raw) as SmppMeta) : undefined;
      return meta?.sid.toLowerCase() === systemId.toLowerCase() ? w : undefined;
    } catch {
      // not one of ours (parsing only: no smppd header)
      return undefined;
    }
  }

  query(id: string, systemId: string): MessageStatus | undefined {
    const p = this.unmaterialized?.pendingMessage(id);
    if (p)
      return p.sid.toLowerCase() === systemId.toLowerCase()
        ? { state: MESSAGE_STATE.ENROUTE, error: 0 }
        : undefined;
    const w = this.owned(id, systemId);
    if (!w) return undefined;
    if (w.dir === 'outbox') return { state: MESSAGE_STATE.ENROUTE, error: 0 };
    if (w.dir === 'error') {
      // No reason written: absent.
      const file = path.join(this.paths.error, `${w.name}.reason`);
      const reason = readIfExists(file, 'utf8') ?? '';
      const at = statIfExists(file)?.mtime ?? new Date();
      return {
        state: reason.includes(CANCEL_REASON) ? MESSAGE_STATE.DELETED : MESSAGE_STATE.UNDELIVERABLE,
        finalDate: at,
        error: 0,
      };
    }
    const reports: ReportRecord[] = [];
    for (let part = 1; part <= 255; part++) {
      const text = readIfExists(
        path.join(this.paths.reports, `${w.name}.${String(part).padStart(2, '0')}.json`),
        'utf8',
      );
      if (text === undefined) break;
      try {
        reports.push(JSON.parse(text) as ReportRecord);
      } catch {
        break; // not a report (parsing only; report files are replaced whole)
      }
    }
    const failed = reports.find((r) => r.category === 'failed');
    if (failed)
      return {
        state: MESSAGE_STATE.UNDELIVERABLE,
        finalDate: new Date(failed.dischargedAt),
        error: failed.status,
      };
    const total = reports[0]?.parts ?? 0;
    if (total > 0 && reports.length === total && reports.every((r) => r.category === 'delivered'))
      return {
        state: MESSAGE_STATE.DELIVERED,
        finalDate: new Date(Math.max(...reports.map((r) => Date.parse(r.dischargedAt)))),
        error: 0,
      };
    return { state: MESSAGE_STATE.ENROUTE, error: 0 };
  }

  /**
   * Takes a message out of the outbox while no daemon is sending it (claimed like a daemon would)
   * and no part of it has gone out yet; it goes to error/ with the reason. `beforeMove` runs first
   * (the caller marks its receipt as handled: a cancelled message gets no UNDELIV receipt).
   */
  /**
   * A message acknowledged but not yet in the outbox: wait for its file (no daemon can have taken it
   * before). False when it is not ours or its file does not come in time.
   */
  private async fileInTime(id: string, systemId: string): Promise<boolean> {
    const materialized = this.unmaterialized?.whenMaterialized(id);
    if (!materialized) return true;
    const p = this.unmaterialized?.pendingMessage(id);
    if (p?.sid.toLowerCase() !== systemId.toLowerCase()) return false;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      materialized.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), CANCEL_WAIT_MS))),
    ]);
    clearTimeout(timer);
    return inTime;
  }

  /**
   * Runs `fn` on a message of `systemId` still in the outbox, claimed like a daemon would claim it
   * and with no part sent yet; false when any of that is not so (or `fn` says no).
   */
  private async whileQueued(
    id: string,
    systemId: string,
    fn: (name: string, file: string) => boolean,
  ): Promise<boolean> {
    // Never an action on a record alone (before its file): recovery would undo it.
    if (!(await this.fileInTime(id, systemId))) return false;
    const w = this.owned(id, systemId);
    if (!w || w.dir !== 'outbox') return false;
    const file = path.join(this.paths.outbox, w.name);
    const release = await tryClaim(file);
    if (!release) return false;
    try {
      if (fs.existsSync(path.join(this.paths.outbox, OUTBOX_STATE_DIR, `${w.name}.json`))) return false; // parts already sent
      return fn(w.name, file);
    } finally {
      await release().catch(() => undefined);
    }
  }

  cancel(id: string, systemId: string, beforeMove: (name: string) => void): Promise<boolean> {
    return this.whileQueued(id, systemId, (name, file) => {
      beforeMove(name);
      fs.writeFileSync(
        path.join(this.paths.error, `${name}.reason`),
        `${new Date().toISOString()} ${CANCEL_REASON}\n`,
      );
      fs.renameSync(file, path.join(this.paths.error, name));
      fsyncDir(this.paths.error);
      fsyncDir(this.paths.outbox);
      return true;
    });
  }

  /**
   * replace_sm: the message gets `build(old)`'s content while it is still queued; the file is
   * replaced atomically under the same name (its message ID stays).
   */
  replace(id: string, systemId: string, r: Replacement): Promise<boolean> {
    return this.whileQueued(id, systemId, (_name, file) => {
      const data = r.build(fs.readFileSync(file));
      if (!data) return false;
      replaceFileDurable(file, data);
      return true;
    });
  }
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IniSection } from '../config/ini.js';
import type { SmsdConfig } from '../config/smsd-config.js';

/**
 * Where everything of one config lives: the one answer to "where is X" for `smsd run`, `smsd
 * inject`, `smsd monitor`, `smppd serve` and the `esme` commands, so two commands can never disagree
 * about a folder (as `smsd monitor` once counted `<reports>/../smppd/queue` while smppd used
 * `[smppd] StateDir`).
 */
export interface SpoolLayout {
  /** Gammu's four folders ([smsd] InboxPath, OutboxPath, SentSMSPath, ErrorSMSPath). */
  inbox: string;
  outbox: string;
  sent: string;
  error: string;
  /** What Gammu's layout has no folder for: `StatePath`, else the outbox's parent (see stateBase). */
  state: string;
  /** Delivery reports `smsd run` writes for users and smppd. */
  reports: string;
  /** Reports that matched no sent message (kept, never dropped). */
  unmatched: string;
  /** Status files of the daemons, for `smsd monitor`. */
  status: string;
  /** Where undecodable PDUs from the modem are kept: the error folder. */
  badPdu: string;
  /** The files service's per-message send state (parts already sent), inside the outbox. */
  outboxState: string;
  /** smppd serve's own state: `[smppd] StateDir`, else smppd/ beside reports/. */
  smppd: {
    state: string;
    /** Durable receipt and MO queues, one folder per system_id. */
    queue: string;
    /** Prepaid ledgers (files billing). */
    billing: string;
    /** MO calls to application URLs waiting (MoRoutesFile); dead letters beside it in mo-url-dead/. */
    moUrl: string;
  };
}

/** The files service's per-message state folder inside the outbox (hidden: never a message). */
export const OUTBOX_STATE_DIR = '.smsgate-state';

/**
 * `StatePath`, else the outbox's parent folder. Without either (an SQL set-up names no folders;
 * Gammu keeps this in shared memory) a fixed folder under the temporary directory, so `smsd monitor`
 * finds it too.
 */
function stateBase(config: SmsdConfig): string {
  const s = config.smsd;
  return (
    s.statePath?.path ??
    (s.outboxPath.raw !== '' ? path.dirname(s.outboxPath.path) : path.join(os.tmpdir(), 'smsgate'))
  );
}

/**
 * `[smppd] StateDir` as smppd reads it (the first non-empty value of the first [smppd] section
 * that sets it; relative to the current directory, as every path of the config), or undefined.
 */
export function configuredSmppdStateDir(sections: readonly IniSection[], cwd = process.cwd()): string | undefined {
  for (const s of sections)
    if (s.name === 'smppd')
      for (const e of s.entries) if (e.key === 'statedir' && e.value !== '') return path.resolve(cwd, e.value);
  return undefined;
}

/**
 * The layout of `config`. `smppdStateDir` is the already-read `[smppd] StateDir` (smppd passes its
 * own config's); without it the [smppd] section of `config` is read for it.
 */
export function spoolLayout(config: SmsdConfig, smppdStateDir?: string): SpoolLayout {
  const s = config.smsd;
  const state = stateBase(config);
  const reports = path.join(state, 'reports');
  const smppdState = smppdStateDir ?? configuredSmppdStateDir(config.smppd) ?? path.join(state, 'smppd');
  return {
    inbox: s.inboxPath.path,
    outbox: s.outboxPath.path,
    sent: s.sentSmsPath.path,
    error: s.errorSmsPath.path,
    state,
    reports,
    unmatched: path.join(reports, 'unmatched'),
    status: path.join(state, 'status'),
    badPdu: s.errorSmsPath.path,
    outboxState: path.join(s.outboxPath.path, OUTBOX_STATE_DIR),
    smppd: {
      state: smppdState,
      queue: path.join(smppdState, 'queue'),
      billing: path.join(smppdState, 'billing'),
      moUrl: path.join(smppdState, 'mo-url'),
    },
  };
}

/** A daemon's name in status and index files: its PhoneID, else its device's base name. */
export function daemonName(config: SmsdConfig): string {
  const device = config.gammu.device === 'emulator' ? 'modem' : config.gammu.device.replace(/^emulator:/, '');
  return config.smsd.phoneId || path.basename(device).replace(/[^\w.-]/g, '_');
}

/**
 * The embedded spool (built-in default config) is ours to lay out, so its folders are created on
 * first use; a configured spool must already exist, as with Gammu, so a typo is an error, not a
 * new empty folder nobody reads.
 */
export function ensureEmbeddedSpool(config: SmsdConfig): void {
  const s = config.smsd;
  for (const d of [s.inboxPath, s.outboxPath, s.sentSmsPath, s.errorSmsPath]) fs.mkdirSync(d.path, { recursive: true });
}

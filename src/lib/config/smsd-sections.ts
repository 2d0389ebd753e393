/**
 * Which sections and keys the SMSD configuration knows (canonical spellings, for warnings with a
 * near-miss suggestion and for the man page test), and the check that warns about the rest.
 */
import { type ConfigWarning, listWords, makeWarning, quote } from './errors.js';
import type { IniDocument } from './ini.js';
import { SMPPD_KEY_NAMES } from './smppd-keys.js';
import { SQL_QUERY_NAMES, SQL_TABLE_NAMES } from './smsd-types.js';
import { suggest } from './suggest.js';

export const LIST_SECTIONS = ['include_numbers', 'exclude_numbers', 'include_smsc', 'exclude_smsc'];

export function isSmppdSection(name: string): boolean {
  return name.startsWith('smppd');
}

/** Sections of the outlets (`Connection = smpp`, `kannel`), read by src/lib/outlets/. */
export const OUTLET_SECTIONS = ['upstream', 'kannel'];

export function isRawSection(name: string): boolean {
  return isSmppdSection(name) || OUTLET_SECTIONS.includes(name);
}

/** Known keys per section, canonical spelling (for suggestions), keyed by lower case. */
function keyTable(names: readonly string[]): ReadonlyMap<string, string> {
  return new Map(names.map((n) => [n.toLowerCase(), n]));
}

const GAMMU_KEYS = keyTable([
  'Device',
  'Port',
  'Connection',
  'Model',
  'Use_Locking',
  'SynchronizeTime',
  'StartInfo',
  'LogFile',
  'LogFormat',
  'Features',
  'GammuCoding',
  'GammuLoc',
  'DataPath',
  'atgen_setCNMI',
  // Localised calendar words libgammu reads for some Nokia phones.
  'Reminder',
  'Meeting',
  'Call',
  'Birthday',
  'Memo',
]);

const SMSD_KEYS = keyTable([
  'Service',
  'LogFile',
  'LogFacility',
  'DebugLevel',
  'PIN',
  'NetworkCode',
  'PhoneCode',
  'CommTimeout',
  'SendTimeout',
  'ReceiveFrequency',
  'StatusFrequency',
  'LoopSleep',
  'MultipartTimeout',
  'CheckSecurity',
  'HangupCalls',
  'CheckBattery',
  'CheckSignal',
  'CheckNetwork',
  'ResetFrequency',
  'HardResetFrequency',
  'MaxRetries',
  'RetryTimeout',
  'BackendRetries',
  'DeliveryReport',
  'DeliveryReportDelay',
  'PhoneID',
  'OwnNumber',
  'MetricsListen',
  'StatePath',
  'SMSC',
  'SkipSMSCNumber',
  'RunOnReceive',
  'RunOnFailure',
  'RunOnSent',
  'RunOnIncomingCall',
  'IncludeNumbersFile',
  'ExcludeNumbersFile',
  'IncludeSMSCFile',
  'ExcludeSMSCFile',
  'Send',
  'Receive',
  'InboxPath',
  'OutboxPath',
  'SentSMSPath',
  'ErrorSMSPath',
  'InboxFormat',
  'OutboxFormat',
  'TransmitFormat',
  'Driver',
  'SQL',
  'Host',
  'PC',
  'User',
  'Password',
  'Database',
  'DriversPath',
  'DBDir',
]);

/** Every key we know, canonical spelling, per section (the smsdrc(5) man page documents each). */
export function knownKeys(): { gammu: string[]; smsd: string[]; smppd: string[] } {
  return { gammu: [...GAMMU_KEYS.values()], smsd: [...SMSD_KEYS.values()], smppd: [...SMPPD_KEY_NAMES] };
}

const KEYED_SECTIONS: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  ['gammu', GAMMU_KEYS],
  ['smsd', SMSD_KEYS],
  ['sql', keyTable(SQL_QUERY_NAMES)],
  ['tables', keyTable(SQL_TABLE_NAMES)],
]);

const KNOWN_SECTIONS = ['gammu', 'smsd', ...LIST_SECTIONS, 'sql', 'tables', 'smppd', 'kannel'];

export function checkSectionsAndKeys(doc: IniDocument, warnings: ConfigWarning[]): void {
  const reported = new Set<string>();
  for (const section of doc.sections) {
    const { name, rawName } = section;
    if (isRawSection(name) || LIST_SECTIONS.includes(name)) continue;
    const known = KEYED_SECTIONS.get(name);
    if (!known) {
      if (reported.has(name)) continue;
      reported.add(name);
      const trimmed = rawName.trim().toLowerCase();
      const hint = KNOWN_SECTIONS.includes(trimmed)
        ? `; Gammu does not trim spaces inside the brackets: write [${trimmed}]`
        : suggestion(suggest(name, KNOWN_SECTIONS), (s) => `[${s}]`);
      warnings.push(
        makeWarning(doc.file, section.line, `unknown section [${rawName}] is ignored${hint}`, {
          section: rawName,
        }),
      );
      continue;
    }
    for (const entry of section.entries) {
      if (known.has(entry.key)) continue;
      let text: string;
      if (name === 'sql') {
        text = `unknown query name ${quote(entry.rawKey)} in [sql] is ignored`;
      } else if (name === 'tables') {
        text = `unknown table ${quote(entry.rawKey)} in [tables] is ignored; use ${listWords(SQL_TABLE_NAMES)}`;
      } else {
        text = `unknown key ${quote(entry.rawKey)} in [${rawName}] is ignored`;
      }
      const elsewhere = [...KEYED_SECTIONS].find(([other, keys]) => other !== name && keys.has(entry.key));
      if (elsewhere && (name === 'gammu' || name === 'smsd')) {
        text += `; it belongs in [${elsewhere[0]}]`;
      } else {
        text += suggestion(suggest(entry.key, known.values()), (s) => s);
      }
      warnings.push(makeWarning(doc.file, entry.line, text, { section: rawName, key: entry.rawKey }));
    }
  }
}

export function suggestion(found: string | undefined, format: (s: string) => string): string {
  return found === undefined ? '' : `; did you mean ${format(found)}?`;
}

export * from './types.js';
export { formatBackup, formatEntry, formatVcalDate, localBackupDate, EXTENSION_PREFIX } from './writer.js';
export { parseBackup, parseBackupExtensions, BackupFormatError } from './reader.js';
export { utf16beHex, hexToUtf16be } from './hex.js';

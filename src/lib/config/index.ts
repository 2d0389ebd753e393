/** Configuration: Gammu-compatible SMSD config (see smsd-config.ts) and where it is found (locate.ts). */
export { ConfigError, type ConfigErrorDetails, type ConfigWarning } from './errors.js';
export {
  IniDocument,
  type IniEntry,
  type IniParseOptions,
  type IniParseResult,
  type IniSection,
  parseIni,
} from './ini.js';
export {
  BUILTIN_SOURCE,
  builtinConfigText,
  type ConfigCandidate,
  configCandidates,
  type ConfigEnv,
  findConfig,
  type FindConfigOptions,
  type FoundConfig,
  packageRoot,
  SYSTEM_CONFIG,
} from './locate.js';
export * from './smsd-config.js';
export {
  type ConfigPath,
  FALSE_WORDS,
  parseBool,
  parseEnum,
  parseInteger,
  resolveConfigPath,
  TRUE_WORDS,
  type ValueSource,
} from './values.js';

/**
 * Typed readers for Gammu's value quirks. Gammu is lenient (unknown boolean words silently give the
 * default, integers go through atoi() so `12abc` is 12 and `abc` is 0, unknown enum words give the
 * default); we reject such values with a ConfigError naming the key, the value and what is allowed,
 * because a silently ignored setting is how a daemon ends up doing the wrong thing for months.
 */
import path from 'node:path';

import { ConfigError, listWords, quote } from './errors.js';

/** What a reader needs to know about a value to validate it and blame the right line. */
export interface ValueSource {
  readonly file: string;
  readonly line: number;
  /** Key as written, for messages. */
  readonly rawKey: string;
  readonly value: string;
}

/** GSM_StringToBool (libgammu/misc/cfg.c), compared case-insensitively. */
export const TRUE_WORDS = ['true', 'yes', 'y', 't', '1'] as const;
export const FALSE_WORDS = ['false', 'no', 'f', 'n', '0'] as const;

function invalid(src: ValueSource, use: string, allowed: readonly string[]): ConfigError {
  return new ConfigError(`${src.rawKey} = ${quote(src.value)} is not valid; use ${use}`, {
    file: src.file,
    line: src.line,
    key: src.rawKey,
    value: src.value,
    allowed,
  });
}

export function parseBool(src: ValueSource): boolean {
  const word = src.value.toLowerCase();
  if ((TRUE_WORDS as readonly string[]).includes(word)) return true;
  if ((FALSE_WORDS as readonly string[]).includes(word)) return false;
  throw invalid(
    src,
    `${listWords(TRUE_WORDS)} to enable, or ${listWords(FALSE_WORDS)} to disable ` +
      '(Gammu would silently keep the default)',
    [...TRUE_WORDS, ...FALSE_WORDS],
  );
}

export interface IntegerOptions {
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Unit for the hint, e.g. "seconds". */
  unit?: string;
}

// Gammu stores these in a C int.
const INT_MAX = 2147483647;

export function parseInteger(src: ValueSource, options: IntegerOptions = {}): number {
  const { min, unit } = options;
  const what = unit ? `a whole number of ${unit}` : 'a whole number';
  const range = min === undefined ? '' : min === 0 ? ', 0 or more' : `, ${min} or more`;
  const hint = `${what}${range}`;
  if (!/^[+-]?\d+$/.test(src.value)) throw invalid(src, hint, [hint]);
  const n = Number(src.value);
  if (Math.abs(n) > INT_MAX || (min !== undefined && n < min)) throw invalid(src, hint, [hint]);
  return n;
}

/**
 * One of `allowed`, compared case-insensitively (as Gammu's strcasecmp); returns the spelling from
 * `allowed`, so callers get canonical values.
 */
export function parseEnum<T extends string>(src: ValueSource, allowed: readonly T[]): T {
  const word = src.value.toLowerCase();
  const found = allowed.find((a) => a.toLowerCase() === word);
  if (found === undefined) throw invalid(src, listWords(allowed), allowed);
  return found;
}

/** A directory or file named in the config. */
export interface ConfigPath {
  /**
   * Absolute and normalized, without a trailing separator: join file names with path.join. Gammu
   * concatenates strings instead, so it needs the trailing `/`; we accept both spellings.
   */
  readonly path: string;
  /** As written in the config ('' when unset and Gammu's default, the current directory, applies). */
  readonly raw: string;
  /** Line it was set on; undefined for defaults. */
  readonly line: number | undefined;
}

/**
 * Resolve a configured path. Relative paths are relative to the process's working directory, NOT
 * to the config file's directory: gammu-smsd-inject 1.42 with `OutboxPath = out/` in /tmp/cfg/smsdrc,
 * run from /tmp/run, writes to /tmp/run/out/. Keeping that means a config shared with Gammu behaves
 * the same under both.
 */
export function resolveConfigPath(raw: string, cwd: string, line?: number): ConfigPath {
  return { path: raw === '' ? path.resolve(cwd) : path.resolve(cwd, raw), raw, line };
}

export interface NumberOptions {
  min: number;
  max: number;
  /** Whole numbers only (default); false takes decimals such as `0.5` seconds. */
  integer?: boolean;
  /** Unit for the hint, e.g. "seconds". */
  unit?: string;
}

/** A number within [min, max] (the readers of sections with ranges and decimals, e.g. [smppd]). */
export function parseNumber(src: ValueSource, o: NumberOptions): number {
  const integer = o.integer ?? true;
  const what = `${integer ? 'a whole number' : 'a number'}${o.unit ? ` of ${o.unit}` : ''}`;
  const hint = `${what} from ${o.min} to ${o.max}`;
  const n = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(src.value) ? Number(src.value) : NaN;
  if (!Number.isFinite(n) || n < o.min || n > o.max || (integer && !Number.isInteger(n)))
    throw invalid(src, hint, [hint]);
  return n;
}

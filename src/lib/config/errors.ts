/**
 * Errors and warnings of the configuration layer. Every message starts with `file:line: ` (or `file: `
 * when no line applies) so an operator can jump straight to the offending line.
 */

/** `file:line`, or just `file` when the problem is not tied to a line. */
export function location(file: string, line?: number): string {
  return line === undefined ? file : `${file}:${line}`;
}

/** `"value"` — plain double quotes, as Gammu prints values (no escaping of inner quotes). */
export function quote(value: string): string {
  return `"${value}"`;
}

/** `["a", "b", "c"]` -> `a, b or c` (for "use ..." hints). */
export function listWords(words: readonly string[], conjunction = 'or'): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}

/** A problem that does not stop loading (unknown key, ignored duplicate, value forced into range...). */
export interface ConfigWarning {
  readonly file: string;
  /** 1-based; undefined for problems of the whole file. */
  readonly line: number | undefined;
  /** Section as written in the file, when the warning is about one. */
  readonly section: string | undefined;
  /** Key as written in the file, when the warning is about one. */
  readonly key: string | undefined;
  /** Full text including the `file:line: ` prefix. */
  readonly message: string;
}

export function makeWarning(
  file: string,
  line: number | undefined,
  text: string,
  about: { section?: string; key?: string } = {},
): ConfigWarning {
  return { file, line, section: about.section, key: about.key, message: `${location(file, line)}: ${text}` };
}

export interface ConfigErrorDetails {
  file: string;
  line?: number;
  /** Key as written in the file. */
  key?: string;
  /** The offending value, verbatim. */
  value?: string;
  /** What would have been accepted (words, or a description such as "a whole number"). */
  allowed?: readonly string[];
  cause?: unknown;
}

/** A configuration problem that stops loading: unreadable file, unparsable line, invalid value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly line: number | undefined;
  readonly key: string | undefined;
  readonly value: string | undefined;
  readonly allowed: readonly string[] | undefined;
  /** The message without the `file:line: ` prefix. */
  readonly detail: string;

  constructor(detail: string, details: ConfigErrorDetails) {
    super(`${location(details.file, details.line)}: ${detail}`, { cause: details.cause });
    this.detail = detail;
    this.file = details.file;
    this.line = details.line;
    this.key = details.key;
    this.value = details.value;
    this.allowed = details.allowed;
  }
}

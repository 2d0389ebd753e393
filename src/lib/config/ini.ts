/**
 * Parser for Gammu's INI dialect (libgammu/misc/cfg.c `INI_ReadFile` / `INI_GetValue`).
 *
 * Hand-written rather than an npm INI package: Gammu's dialect differs from the common one in ways an
 * existing `gammu-smsdrc` relies on (no quote stripping, no inline comments, empty value = unset,
 * repeated sections where the FIRST one wins), and every warning and error must carry the line
 * number, which generic parsers drop. It is also tiny, which keeps `smsd inject` start-up fast.
 *
 * The dialect, as confirmed against gammu-smsd-inject 1.42:
 * - Lines end at LF, CRLF or a lone CR. A UTF-8 BOM is ignored.
 * - `[name]` opens a section; the name is taken verbatim (`[ smsd ]` is NOT `[smsd]`) and compared
 *   case-insensitively. Anything after `]` is ignored.
 * - `;` or `#` as the first non-blank character makes a comment line. There are no inline comments:
 *   `OutboxPath = /x/ ; note` has the value `/x/ ; note`.
 * - `key = value`: split at the first `=`; blanks (space, tab, VT, FF) around key and value are
 *   dropped; keys are case-insensitive and may contain inner spaces. Values are kept verbatim,
 *   including double quotes (`"files"` is not `files`).
 * - `key =` with nothing after it is the same as not writing the line (it does not clear an earlier
 *   value).
 * - Within one section the last value of a key wins. If a section appears twice, a key is looked up in
 *   the first instance that sets it: the earlier section wins over the later one.
 * - Gammu silently skips lines it cannot parse and keys before the first section; we throw a
 *   ConfigError for the former (a typo should not be ignored) and warn for the latter.
 */
import { ConfigError, type ConfigWarning, makeWarning, quote } from './errors.js';

/** One `key = value` line. */
export interface IniEntry {
  /** Lower-cased, for lookups. */
  readonly key: string;
  /** As written, for messages. */
  readonly rawKey: string;
  /** Verbatim, blanks around it removed; '' for `key =` (which Gammu treats as unset). */
  readonly value: string;
  /** 1-based line number. */
  readonly line: number;
}

/** One `[section]` header and the entries under it, in file order. */
export interface IniSection {
  /** Lower-cased, for lookups. */
  readonly name: string;
  /** As written between the brackets, for messages. */
  readonly rawName: string;
  /** Line of the `[...]` header. */
  readonly line: number;
  readonly entries: readonly IniEntry[];
}

export interface IniParseOptions {
  /**
   * Sections whose entries form a list (keys are ignored, e.g. `[include_numbers]`): repeated keys are
   * expected, so they are not reported.
   */
  isListSection?: (name: string) => boolean;
  /** Sections left to another consumer: no warnings at all about their keys or repetition. */
  isRawSection?: (name: string) => boolean;
}

export interface IniParseResult {
  document: IniDocument;
  warnings: ConfigWarning[];
}

/** A parsed file: sections in file order (a repeated section appears once per header). */
export class IniDocument {
  readonly file: string;
  readonly sections: readonly IniSection[];
  readonly #effective: ReadonlyMap<string, ReadonlyMap<string, IniEntry>>;

  constructor(
    file: string,
    sections: readonly IniSection[],
    effective: ReadonlyMap<string, ReadonlyMap<string, IniEntry>>,
  ) {
    this.file = file;
    this.sections = sections;
    this.#effective = effective;
  }

  /** Whether a section of that name (case-insensitive) exists. */
  has(section: string): boolean {
    return this.section(section) !== undefined;
  }

  /** The first section of that name: the one Gammu reads lists from. */
  section(name: string): IniSection | undefined {
    const lower = name.toLowerCase();
    return this.sections.find((s) => s.name === lower);
  }

  /** Every section of that name, in file order. */
  sectionsNamed(name: string): IniSection[] {
    const lower = name.toLowerCase();
    return this.sections.filter((s) => s.name === lower);
  }

  /** The entry Gammu would use for `key` in `section` (never an empty one), or undefined. */
  get(section: string, key: string): IniEntry | undefined {
    return this.#effective.get(section.toLowerCase())?.get(key.toLowerCase());
  }

  /** Shorthand for `get(section, key)?.value`. */
  value(section: string, key: string): string | undefined {
    return this.get(section, key)?.value;
  }

  /** Non-empty values of the first section of that name, in file order (for list sections). */
  values(section: string): string[] {
    return (this.section(section)?.entries ?? []).filter((e) => e.value !== '').map((e) => e.value);
  }
}

// C isspace() minus the line terminators, which never reach a line.
const BLANKS = /^[ \t\v\f]+|[ \t\v\f]+$/g;

function trimBlanks(s: string): string {
  return s.replace(BLANKS, '');
}

interface MutableSection {
  name: string;
  rawName: string;
  line: number;
  entries: IniEntry[];
}

/** Where the effective value of a key came from: which instance of the section, and the entry. */
interface Effective {
  instance: MutableSection;
  entry: IniEntry;
}

/** Parse Gammu-style INI text. `file` is used in messages only. Throws ConfigError on a bad line. */
export function parseIni(text: string, file: string, options: IniParseOptions = {}): IniParseResult {
  const isList = options.isListSection ?? (() => false);
  const isRaw = options.isRawSection ?? (() => false);
  const warnings: ConfigWarning[] = [];
  const sections: MutableSection[] = [];
  const effective = new Map<string, Map<string, Effective>>();
  let current: MutableSection | undefined;
  const firstByName = new Map<string, { line: number }>();

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((rawLine, index) => {
    const line = index + 1;
    const t = trimBlanks(rawLine);
    if (t === '' || t.startsWith(';') || t.startsWith('#')) return;

    if (t.startsWith('[')) {
      const close = t.indexOf(']');
      if (close < 0) {
        throw new ConfigError(`section header ${quote(t)} has no closing "]"`, { file, line });
      }
      const rawName = t.slice(1, close);
      if (rawName === '') throw new ConfigError('empty section name "[]"', { file, line });
      const name = rawName.toLowerCase();
      const rest = trimBlanks(t.slice(close + 1));
      if (rest !== '' && !rest.startsWith(';') && !rest.startsWith('#')) {
        warnings.push(
          makeWarning(file, line, `text after [${rawName}] is ignored: ${quote(rest)}`, {
            section: rawName,
          }),
        );
      }
      // A map, not a search of `sections`: a file of many sections must not take quadratic time.
      const first = firstByName.get(name);
      if (!first) firstByName.set(name, { line });
      if (first && !isRaw(name)) {
        const consequence = isList(name)
          ? 'Gammu reads only the first one, so the entries below are ignored'
          : "its keys add to the first one, but a key set in both keeps the first section's value (as in Gammu)";
        warnings.push(
          makeWarning(
            file,
            line,
            `section [${rawName}] appears again (first at line ${first.line}); ${consequence}`,
            {
              section: rawName,
            },
          ),
        );
      }
      current = { name, rawName, line, entries: [] };
      sections.push(current);
      return;
    }

    const eq = t.indexOf('=');
    if (eq < 0) {
      throw new ConfigError(
        `cannot parse ${quote(t)}: expected [section], key = value, or a comment starting with ; or #`,
        { file, line },
      );
    }
    const rawKey = trimBlanks(t.slice(0, eq));
    const value = trimBlanks(t.slice(eq + 1));
    if (rawKey === '') {
      throw new ConfigError(`${quote(t)} has no key name before "="`, { file, line, value });
    }
    if (!current) {
      warnings.push(
        makeWarning(file, line, `${rawKey} is outside any section and is ignored (as Gammu does)`, {
          key: rawKey,
        }),
      );
      return;
    }
    const entry: IniEntry = { key: rawKey.toLowerCase(), rawKey, value, line };
    current.entries.push(entry);
    const quiet = isRaw(current.name) || isList(current.name);
    const note = (msg: string): void => {
      if (!quiet) warnings.push(makeWarning(file, line, msg, { section: current?.rawName, key: rawKey }));
    };

    let perSection = effective.get(current.name);
    if (!perSection) {
      perSection = new Map();
      effective.set(current.name, perSection);
    }
    const prev = perSection.get(entry.key);
    if (value === '') {
      // Gammu never stores an empty value, so an earlier one stays in force.
      if (prev) {
        note(
          `${rawKey} is empty and Gammu ignores empty values; the value from line ${prev.entry.line} stays`,
        );
      }
      return;
    }
    if (!prev) {
      perSection.set(entry.key, { instance: current, entry });
    } else if (prev.instance === current) {
      note(`${rawKey} is set again (first at line ${prev.entry.line}); the value on this line is used`);
      perSection.set(entry.key, { instance: current, entry });
    } else {
      note(
        `${rawKey} is ignored: Gammu takes it from the first [${prev.instance.rawName}] section (line ${prev.entry.line})`,
      );
    }
  });

  const flat = new Map<string, Map<string, IniEntry>>();
  for (const [name, keys] of effective) {
    flat.set(name, new Map([...keys].map(([k, v]) => [k, v.entry])));
  }
  return { document: new IniDocument(file, sections, flat), warnings };
}

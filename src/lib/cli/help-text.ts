/**
 * `--help` laid out like the man page (USAGE with the arguments, DESCRIPTION, OPTIONS, EXAMPLES),
 * wrapped evenly to the terminal. Used by oclif's help (help.ts) from the manifest, so what
 * `--help`, the man pages and the specs say cannot differ.
 */

/** What help needs of a command: a CommandSpec, or oclif's manifest entry of one. */
export interface HelpFlag {
  char?: string | undefined;
  description?: string | undefined;
  helpValue?: string | string[] | undefined;
  /** 'boolean' or a value flag ('string', 'integer', oclif's 'option'). */
  type: string;
  options?: readonly string[] | undefined;
  default?: unknown;
  required?: boolean | undefined;
  hidden?: boolean | undefined;
  allowNo?: boolean | undefined;
}
export interface HelpSource {
  id: string;
  summary?: string | undefined;
  description?: string | undefined;
  usage?: string | string[] | undefined;
  examples?: readonly (string | { command: string; description: string })[] | undefined;
  flags?: Readonly<Record<string, HelpFlag>> | undefined;
  args?:
    | readonly { name: string; description?: string | undefined; required?: boolean | undefined }[]
    | Readonly<
        Record<string, { name: string; description?: string | undefined; required?: boolean | undefined }>
      >
    | undefined;
}

const INDENT = '  ';

/** Words of `text` wrapped to `width`, every line after the first indented by `hang`. */
export function wrap(text: string, width: number, hang = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const limit = lines.length === 0 ? width : width - hang.length;
    if (line && line.length + 1 + word.length > limit) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : hang + l));
}

/**
 * Paragraphs are separated by blank lines. A paragraph with a line that starts with a space or
 * holds a run of spaces (a table, a usage block) is kept as written; others are reflowed.
 */
export function isVerbatim(paragraph: string): boolean {
  return paragraph.split('\n').some((l) => /^\s/.test(l) || /\S {2,}\S/.test(l));
}

export function paragraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''))
    .filter((p) => p.trim() !== '');
}

function flagList(src: HelpSource): [string, HelpFlag][] {
  return Object.entries(src.flags ?? {}).filter(([, f]) => !f.hidden);
}

function valueName(name: string, f: HelpFlag): string {
  const hv = Array.isArray(f.helpValue) ? f.helpValue[0] : f.helpValue;
  if (hv) return hv;
  if (f.options && f.options.length > 0) return f.options.join('|');
  return name.toUpperCase().replace(/-/g, '_');
}

function argList(src: HelpSource) {
  const a = src.args ?? [];
  return Array.isArray(a) ? a : Object.values(a);
}

/** `smsd monitor [-c FILE] [-d DELAY] ... [ARG]` from the flags and arguments. */
export function defaultUsage(src: HelpSource): string {
  const parts = [src.id.split(':').join(' ')];
  for (const [name, f] of flagList(src)) {
    const opt = f.char ? `-${f.char}` : `--${name}`;
    const sep = f.char ? ' ' : '=';
    const one = f.type === 'boolean' ? opt : `${opt}${sep}${valueName(name, f)}`;
    parts.push(f.required ? one : `[${one}]`);
  }
  for (const a of argList(src)) parts.push(a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`);
  return parts.join(' ');
}

/** The usage lines of a command (its own, or made from its flags). */
export function usageLines(src: HelpSource): string[] {
  const u = src.usage;
  if (u === undefined || (Array.isArray(u) && u.length === 0)) return [defaultUsage(src)];
  return Array.isArray(u) ? u : [u];
}

function exampleText(e: string | { command: string; description: string }): string {
  return typeof e === 'string' ? e : `${e.command}    # ${e.description}`;
}

/** The whole `--help` text. */
export function renderHelp(src: HelpSource, width = 80): string {
  const w = Math.max(40, width) - INDENT.length;
  const out: string[] = [];
  if (src.summary) out.push(...wrap(src.summary, w + INDENT.length), '');
  out.push('USAGE');
  for (const u of usageLines(src)) {
    // A usage line breaks between words, continuing under the first argument.
    const first = u.split(' ').slice(0, src.id.split(':').length).join(' ');
    out.push(...wrap(u, w, ' '.repeat(first.length + 1)).map((l) => INDENT + l));
  }
  const args = argList(src).filter((a) => a.description);
  if (args.length > 0) {
    out.push('', 'ARGUMENTS');
    const col = Math.max(...args.map((a) => a.name.length)) + 2;
    for (const a of args) {
      const body = wrap(a.description ?? '', w - col);
      out.push(INDENT + a.name.toUpperCase().padEnd(col) + (body.shift() ?? ''));
      out.push(...body.map((l) => INDENT + ' '.repeat(col) + l));
    }
  }
  const description = src.description ?? '';
  const paras = paragraphs(description).filter((p) => p.trim() !== (src.summary ?? '').trim());
  if (paras.length > 0) {
    out.push('', 'DESCRIPTION');
    paras.forEach((p, i) => {
      if (i > 0) out.push('');
      if (isVerbatim(p)) out.push(...p.split('\n').map((l) => (l ? INDENT + l : l)));
      else out.push(...wrap(p, w).map((l) => INDENT + l));
    });
  }
  const flags = flagList(src);
  if (flags.length > 0) {
    out.push('', 'OPTIONS');
    const heads = flags.map(([name, f]) => {
      const long = f.type === 'boolean' && f.allowNo ? `--[no-]${name}` : `--${name}`;
      const v = f.type === 'boolean' ? '' : `=${valueName(name, f)}`;
      return `${f.char ? `-${f.char}, ` : '    '}${long}${v}`;
    });
    // Long heads (a list of options) get their text on the next line, so the column stays narrow.
    const col = Math.min(26, Math.max(...heads.map((h) => h.length)) + 2);
    flags.forEach(([, f], i) => {
      const head = heads[i] ?? '';
      let text = f.description ?? '';
      if (f.default !== undefined && f.default !== false && !/default/i.test(text))
        text += ` (default: ${String(f.default)})`;
      if (f.required) text += ' (required)';
      const body = wrap(text, w - col);
      if (head.length + 2 > col) out.push(INDENT + head);
      else out.push(INDENT + head.padEnd(col) + (body.shift() ?? ''));
      out.push(...body.map((l) => INDENT + ' '.repeat(col) + l));
    });
  }
  const examples = src.examples ?? [];
  if (examples.length > 0) {
    out.push('', 'EXAMPLES');
    for (const e of examples) out.push(...wrap(exampleText(e), w, '    ').map((l) => INDENT + l));
  }
  return `${out.join('\n')}\n`;
}

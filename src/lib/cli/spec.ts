/**
 * The command layer without oclif: every command is a CommandSpec (flags, arguments, texts and
 * what it runs). src/commands/ turns each spec into an oclif command (for --help, the manifest and
 * the man pages); bin/topic.cjs parses and runs the same spec directly, because loading oclif costs
 * more than a whole `smsd inject`. One spec, so both paths take the same flags.
 */
import { parseArgs } from 'node:util';
import { EXIT, exitCodeOf } from '../common/exit.js';

interface FlagBase {
  char?: string;
  description: string;
  /** Placeholder in help: `--config=FILE`. */
  helpValue?: string;
  required?: boolean;
  hidden?: boolean;
}
export interface StringFlag extends FlagBase {
  type: 'string';
  options?: readonly string[];
  default?: string;
}
export interface IntegerFlag extends FlagBase {
  type: 'integer';
  min?: number;
  max?: number;
  options?: readonly string[];
  default?: number;
}
export interface BooleanFlag extends FlagBase {
  type: 'boolean';
  /** Also accept `--no-NAME`. */
  allowNo?: boolean;
  default?: boolean;
}
export type FlagSpec = StringFlag | IntegerFlag | BooleanFlag;

export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

export interface CommandInput {
  flags: FlagValues;
  args: Record<string, string | undefined>;
  /** The raw arguments after the command name (commands with their own parser: inject). */
  argv: readonly string[];
}

export interface CommandSpec {
  /** `smsd:monitor`: topic and command, as oclif names it. */
  id: string;
  summary: string;
  /** Paragraphs separated by blank lines; lines that start with a space are kept as they are. */
  description: string;
  /** The USAGE line(s), when made by hand (default: made from the flags and arguments). */
  usage?: string;
  examples: readonly string[];
  flags: Readonly<Record<string, FlagSpec>>;
  args?: readonly ArgSpec[];
  /** false: the command parses its own arguments (gammu-smsd-inject's single-dash words). */
  strict?: boolean;
  /** Runs the command; resolves with the exit code (throwing is reported by runSpec). */
  run(input: CommandInput): Promise<number>;
}

/** A wrong command line; printed as one line and `See: <cmd> --help`, exit 2 (as oclif does). */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

function checkInteger(name: string, f: IntegerFlag, raw: string): number {
  if (!/^[-+]?\d+$/.test(raw)) throw new UsageError(`--${name}: expected an integer, not "${raw}"`);
  const n = Number(raw);
  if (f.min !== undefined && n < f.min)
    throw new UsageError(`--${name}: expected an integer >= ${f.min}, not ${n}`);
  if (f.max !== undefined && n > f.max)
    throw new UsageError(`--${name}: expected an integer <= ${f.max}, not ${n}`);
  return n;
}

/**
 * `-n -1` as `--loops=-1`: node's parser takes a value that starts with a dash for an option, oclif
 * (and Gammu's getopt) take it as the value. Stops at `--`.
 */
function joinValues(spec: CommandSpec, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--')
      ? a.slice(2)
      : /^-[^-]$/.test(a)
        ? Object.keys(spec.flags).find((k) => spec.flags[k]?.char === a[1])
        : undefined;
    const f = name === undefined ? undefined : spec.flags[name];
    const next = argv[i + 1];
    if (f && f.type !== 'boolean' && next !== undefined && next.startsWith('-') && next !== '--') {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Parse argv after the command name by the spec, with oclif's rules for values, defaults and checks. */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): CommandInput {
  if (spec.strict === false) return { flags: {}, args: {}, argv };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = {
      type: f.type === 'boolean' ? 'boolean' : 'string',
      ...(f.char ? { short: f.char } : {}),
    };
    if (f.type === 'boolean' && f.allowNo) options[`no-${name}`] = { type: 'boolean' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: joinValues(spec, argv), options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags: FlagValues = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const raw = parsed.values[name];
    if (f.type === 'boolean') {
      const no = parsed.values[`no-${name}`];
      flags[name] = no === true ? false : raw === true ? true : f.default;
      continue;
    }
    if (raw === undefined) {
      if (f.required) throw new UsageError(`Missing required flag --${name}`);
      flags[name] = f.default;
      continue;
    }
    const s = String(raw);
    if (f.options && !f.options.includes(s))
      throw new UsageError(`--${name}: expected one of ${f.options.join(', ')}, not "${s}"`);
    flags[name] = f.type === 'integer' ? checkInteger(name, f, s) : s;
  }
  const specArgs = spec.args ?? [];
  const positionals = parsed.positionals;
  if (positionals.length > specArgs.length)
    throw new UsageError(`Unexpected argument: ${positionals[specArgs.length] ?? ''}`);
  const args: Record<string, string | undefined> = {};
  specArgs.forEach((a, i) => {
    const v = positionals[i];
    if (v === undefined && a.required) throw new UsageError(`Missing ${a.name.toUpperCase()}`);
    args[a.name] = v;
  });
  return { flags, args, argv };
}

/** The command name as users type it: `smsd monitor`. */
export const commandName = (spec: CommandSpec): string => spec.id.split(':').join(' ');

/**
 * Parse and run a spec: the one error handling of every command. A wrong command line is one
 * line plus a pointer to --help, exit 2; an error thrown by the command is one line (no stack)
 * with the exit code of the table in exit.ts.
 */
export async function runSpec(
  spec: CommandSpec,
  argv: readonly string[],
  err: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  let input: CommandInput;
  try {
    input = parseCommandLine(spec, argv);
  } catch (e) {
    err(`${commandName(spec)}: ${(e as Error).message}`);
    err(`See: ${commandName(spec)} --help`);
    return EXIT.usage;
  }
  try {
    return await spec.run(input);
  } catch (e) {
    err(`${commandName(spec)}: ${(e as Error).message}`);
    return exitCodeOf(e);
  }
}

/** Typed accessors for FlagValues (the spec guarantees the type). */
export const str = (f: FlagValues, name: string): string | undefined => f[name] as string | undefined;
export const int = (f: FlagValues, name: string): number | undefined => f[name] as number | undefined;
export const bool = (f: FlagValues, name: string): boolean => f[name] === true;

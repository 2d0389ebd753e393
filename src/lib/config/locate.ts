/**
 * Where the SMSD config comes from when no `-c FILE` is given, and the built-in default used when
 * there is none at all (so `smsd inject` and `smsd run` work out of the box against the emulator).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The system-wide config of smsgate. Not Gammu's `/etc/gammu-smsdrc`: Debian's gammu-smsd package
 * installs one pointing at its own daemon's spool, and picking it up silently would queue our
 * messages for Gammu's daemon. Use `-c /etc/gammu-smsdrc` (or $SMSD_CONFIG) to share it on purpose.
 */
export const SYSTEM_CONFIG = '/etc/smsgate/smsdrc';

/** `source` reported when the built-in default config is used. */
export const BUILTIN_SOURCE = '(built-in default)';

/** Environment variables consulted; a subset of process.env, injectable for tests. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface FindConfigOptions {
  /** Override SYSTEM_CONFIG (tests; null skips the step). */
  systemConfig?: string | null;
}

export interface FoundConfig {
  /** The file to read; absent when the built-in default applies. */
  path?: string;
  builtin: boolean;
}

export interface ConfigCandidate {
  path: string;
  /** Why this path is on the list, for `--help` and diagnostics. */
  origin: string;
  /** Use it even if it does not exist (so a wrong $SMSD_CONFIG is reported, not skipped). */
  required: boolean;
}

/** The candidate files in search order (see findConfig). */
export function configCandidates(
  cwd: string,
  env: ConfigEnv,
  options: FindConfigOptions = {},
): ConfigCandidate[] {
  const out: ConfigCandidate[] = [];
  const fromEnv = env['SMSD_CONFIG'];
  if (fromEnv) out.push({ path: path.resolve(cwd, fromEnv), origin: '$SMSD_CONFIG', required: true });
  out.push({ path: path.join(path.resolve(cwd), 'smsdrc'), origin: './smsdrc', required: false });
  // XDG Base Directory spec: a relative $XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env['XDG_CONFIG_HOME'];
  const configHome = xdg && path.isAbsolute(xdg) ? xdg : path.join(env['HOME'] || os.homedir(), '.config');
  out.push({
    path: path.join(configHome, 'smsgate', 'smsdrc'),
    origin: '$XDG_CONFIG_HOME/smsgate/smsdrc',
    required: false,
  });
  const system = options.systemConfig === undefined ? SYSTEM_CONFIG : options.systemConfig;
  if (system !== null) out.push({ path: system, origin: SYSTEM_CONFIG, required: false });
  return out;
}

function isFile(p: string): boolean {
  // A path that exists but is unreadable still counts: loading it then reports the OS error, which
  // is more useful than silently falling back to another file.
  const st = fs.statSync(p, { throwIfNoEntry: false });
  return st !== undefined && !st.isDirectory();
}

/**
 * Find the SMSD config file when none is given with `-c`. Search order, first match wins:
 *
 * 1. `$SMSD_CONFIG` — used as is when set, even if the file is missing (loading then fails loudly);
 *    relative to the current directory.
 * 2. `./smsdrc` in the current directory.
 * 3. `$XDG_CONFIG_HOME/smsgate/smsdrc` (`$XDG_CONFIG_HOME` defaults to `~/.config`).
 * 4. `/etc/smsgate/smsdrc` — the system-wide config (Gammu's `/etc/gammu-smsdrc` only with `-c`).
 * 5. The built-in default: Service = files with the spool of defaultSpool() (inbox/, outbox/,
 *    sent/, error/) and `[gammu] device = emulator, connection = at`; reported with source
 *    `(built-in default)`.
 */
export function findConfig(cwd: string, env: ConfigEnv, options: FindConfigOptions = {}): FoundConfig {
  for (const candidate of configCandidates(cwd, env, options)) {
    if (candidate.required || isFile(candidate.path)) return { path: candidate.path, builtin: false };
  }
  return { builtin: true };
}

let cachedRoot: string | undefined;

/**
 * The package root: the directory holding smsgate's package.json. This file lives at
 * `src/lib/config/` (tests, via vitest) or `dist/lib/config/` (built), both three directories below
 * the root; we still look for the package.json so a different layout (or a stray package.json that a
 * build writes into dist/) cannot fool us, and fall back to the fixed depth.
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 5; i++) {
    try {
      const pkg: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && (pkg as { name?: unknown }).name === 'smsgate') {
        cachedRoot = dir;
        return dir;
      }
    } catch {
      // Looking for our own install: a folder without (or with an unreadable, or a foreign)
      // package.json on the way up is not it; any error here only means "keep climbing".
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  cachedRoot = path.resolve(here, '..', '..', '..');
  return cachedRoot;
}

export interface DefaultSpool {
  dir: string;
  /** Why this one, for the line `smsd run` prints on start. */
  why: string;
}

export interface DefaultSpoolOptions {
  env?: ConfigEnv;
  root?: string;
  uid?: number;
}

/**
 * The spool of the built-in default: somewhere the user can write. A git checkout keeps its own
 * `spool/` (the README's tour); root (systemd, init scripts) gets the system spool; anyone else a
 * per-user data folder, `$XDG_DATA_HOME/smsgate/spool` (`~/.local/share/...`). Never the folder
 * of an npm-installed package, which a user cannot write to.
 */
export function defaultSpool(o: DefaultSpoolOptions = {}): DefaultSpool {
  const root = o.root ?? packageRoot();
  const env = o.env ?? process.env;
  if (fs.existsSync(path.join(root, '.git')))
    return { dir: path.join(root, 'spool'), why: 'the spool/ of this git checkout' };
  if ((o.uid ?? process.getuid?.()) === 0) return { dir: SYSTEM_SPOOL, why: 'the system spool, as root' };
  // XDG Base Directory spec: a relative $XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env['XDG_DATA_HOME'];
  const dataHome =
    xdg && path.isAbsolute(xdg) ? xdg : path.join(env['HOME'] || os.homedir(), '.local', 'share');
  return { dir: path.join(dataHome, 'smsgate', 'spool'), why: 'the per-user spool in $XDG_DATA_HOME' };
}

/** The spool of the built-in default when run as root outside a checkout. */
export const SYSTEM_SPOOL = '/var/spool/smsgate';

/** Text of the built-in default config (parsed by the same code as a real file). */
export function builtinConfigText(spool: string = defaultSpool().dir): string {
  // Trailing separators keep the file usable by Gammu itself, which concatenates paths.
  const dir = (name: string): string => path.join(spool, name) + path.sep;
  return [
    '; smsgate built-in default: used when no config file is found',
    '[gammu]',
    'device = emulator',
    'connection = at',
    '',
    '[smsd]',
    'service = files',
    `inboxpath = ${dir('inbox')}`,
    `outboxpath = ${dir('outbox')}`,
    `sentsmspath = ${dir('sent')}`,
    `errorsmspath = ${dir('error')}`,
    '',
  ].join('\n');
}

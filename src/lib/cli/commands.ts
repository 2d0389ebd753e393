/**
 * Every command by its oclif id, loaded on demand: bin/topic.cjs runs a command from here without
 * loading oclif, and src/commands/ makes oclif's commands (help, manifest, man pages) from the same.
 */
import type { CommandSpec } from './spec.js';

type Loader = () => Promise<CommandSpec>;

/** Where each command's spec is: its module under topics/ and its export (scripts/bundle.mjs reads this). */
export const SOURCES: Readonly<Record<string, readonly [module: string, name: string]>> = {
  'smsd:run': ['smsd-run', 'run'],
  'smsd:inject': ['smsd-inject', 'inject'],
  'smsd:monitor': ['smsd-monitor', 'monitor'],
  'smsd:emulate': ['emulate', 'emulate'],
  'smsd:db:init': ['smsd-db', 'dbInit'],
  'smsd:db:upgrade': ['smsd-db', 'dbUpgrade'],
  'smppd:serve': ['smppd', 'serve'],
  'smppd:db:init': ['smppd', 'dbInit'],
  'smppd:db:upgrade': ['smppd', 'dbUpgrade'],
  'esme:add': ['esme', 'add'],
  'esme:set': ['esme', 'set'],
  'esme:remove': ['esme', 'remove'],
  'esme:list': ['esme', 'list'],
  'esme:credit': ['esme', 'credit'],
  'esme:unbind': ['esme', 'unbind'],
  'routes:rebuild': ['esme', 'rebuild'],
};

const modules: Record<string, () => Promise<Record<string, unknown>>> = {
  'smsd-run': () => import('./topics/smsd-run.js'),
  'smsd-inject': () => import('./topics/smsd-inject.js'),
  'smsd-monitor': () => import('./topics/smsd-monitor.js'),
  'smsd-db': () => import('./topics/smsd-db.js'),
  emulate: () => import('./topics/emulate.js'),
  smppd: () => import('./topics/smppd.js'),
  esme: () => import('./topics/esme.js'),
};

export const COMMANDS: Readonly<Record<string, Loader>> = Object.fromEntries(
  Object.entries(SOURCES).map(([id, [module, name]]) => [
    id,
    async () => (await (modules[module] ?? (() => Promise.reject(new Error(module))))())[name] as CommandSpec,
  ]),
);

export const TOPICS = ['smsd', 'smppd', 'esme', 'routes'] as const;

/** The command an argv names (`db init` is two words), and the arguments after its name. */
export function findCommand(
  topic: string,
  argv: readonly string[],
): { id: string; rest: readonly string[] } | undefined {
  for (const words of [2, 1]) {
    const id = [topic, ...argv.slice(0, words)].join(':');
    if (argv.length >= words && COMMANDS[id]) return { id, rest: argv.slice(words) };
  }
  return undefined;
}

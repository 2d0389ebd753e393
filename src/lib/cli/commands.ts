/**
 * Every command by its oclif id, loaded on demand: bin/topic.cjs runs a command from here without
 * loading oclif, and src/commands/ makes oclif's commands (help, manifest, man pages) from the same.
 */
import type { CommandSpec } from './spec.js';

type Loader = () => Promise<CommandSpec>;

const smsd = () => import('./topics/smsd.js');
const smppd = () => import('./topics/smppd.js');
const esme = () => import('./topics/esme.js');

export const COMMANDS: Readonly<Record<string, Loader>> = {
  'smsd:run': async () => (await smsd()).run,
  'smsd:inject': async () => (await smsd()).inject,
  'smsd:monitor': async () => (await smsd()).monitor,
  'smsd:emulate': async () => (await import('./topics/emulate.js')).emulate,
  'smsd:db:init': async () => (await smsd()).dbInit,
  'smsd:db:upgrade': async () => (await smsd()).dbUpgrade,
  'smppd:serve': async () => (await smppd()).serve,
  'smppd:db:init': async () => (await smppd()).dbInit,
  'smppd:db:upgrade': async () => (await smppd()).dbUpgrade,
  'esme:add': async () => (await esme()).add,
  'esme:set': async () => (await esme()).set,
  'esme:remove': async () => (await esme()).remove,
  'esme:list': async () => (await esme()).list,
  'esme:credit': async () => (await esme()).credit,
  'esme:unbind': async () => (await esme()).unbind,
  'routes:rebuild': async () => (await esme()).rebuild,
};

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

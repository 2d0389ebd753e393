/**
 * What the bins run (bin/topic.cjs): a command straight from its spec, without oclif, which costs
 * more to load than a whole `smsd inject`; oclif only for --help and the topic listings, whose
 * texts come from the same specs (src/commands/, help.ts).
 */
import { COMMANDS, TOPICS, findCommand } from './commands.js';
import { runSpec, type CommandSpec } from './spec.js';
import { printVersion } from './version-line.js';

/** inject's own options that take a value (only options before MSGTYPE count for its -h). */
const INJECT_VALUE_OPTIONS = new Set(['-c', '--config', '--batch', '--format']);

/** Does this command line ask for help rather than for the command? */
export function wantsHelp(spec: CommandSpec, args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-h' || a === '--help') return true;
    if (a === '--') return false;
    if (spec.strict === false) {
      if (INJECT_VALUE_OPTIONS.has(a)) i++;
      else if (!a.startsWith('-') || a === '-') return false;
    }
  }
  return false;
}

const isVersion = (a: string | undefined): boolean => a === '--version' || a === '-v' || a === 'version';

async function oclif(args: string[]): Promise<void> {
  const { execute } = await import('@oclif/core');
  await execute({ args, dir: import.meta.url });
}

/** `smsd inject ...` is `runTopic('smsd', ['inject', ...])`; `smsgate ...` is `runTopic(undefined, ...)`. */
export async function runTopic(topic: string | undefined, argv: string[]): Promise<void> {
  if (topic === undefined) {
    const [first, ...rest] = argv;
    if (first !== undefined && (TOPICS as readonly string[]).includes(first)) return runTopic(first, rest);
    if (isVersion(first) && argv.length === 1) {
      process.exitCode = printVersion('smsgate');
      return;
    }
    return oclif(argv);
  }
  if (isVersion(argv[0]) && argv.length === 1) {
    process.exitCode = printVersion(topic);
    return;
  }
  const found = findCommand(topic, argv);
  const load = found && COMMANDS[found.id];
  if (found && load) {
    const spec = await load();
    if (!wantsHelp(spec, found.rest)) {
      process.exitCode = await runSpec(spec, found.rest);
      return;
    }
    // oclif takes only --help for help (-h would reach the command as a flag).
    return oclif([...found.id.split(':'), '--help']);
  }
  return oclif([topic, ...argv]);
}

/**
 * What the bins run (bin/topic.cjs): a command straight from its spec, without oclif, which costs
 * more to load than a whole `smsd inject`; oclif only for --help and the topic listings, whose
 * texts come from the same specs (src/commands/, help.ts).
 */
import { COMMANDS, TOPICS, findCommand } from './commands.js';
import { oclif, runCommand } from './run-command.js';
import { printVersion } from './version-line.js';

const isVersion = (a: string | undefined): boolean => a === '--version' || a === '-v' || a === 'version';

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
  if (found && load) return runCommand(await load(), found.rest);
  return oclif([topic, ...argv]);
}

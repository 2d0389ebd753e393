/** Run one command from its spec, or show its help through oclif (no command list needed here). */
import { runSpec, type CommandSpec } from './spec.js';

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

export async function oclif(args: string[]): Promise<void> {
  const { execute } = await import('@oclif/core');
  await execute({ args, dir: import.meta.url });
}

/** `rest`: the arguments after the command's name. Sets process.exitCode. */
export async function runCommand(spec: CommandSpec, rest: readonly string[]): Promise<void> {
  if (wantsHelp(spec, rest)) {
    // oclif takes only --help for help (-h would reach the command as a flag).
    await oclif([...spec.id.split(':'), '--help']);
    return;
  }
  process.exitCode = await runSpec(spec, rest);
}

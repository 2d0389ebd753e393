/** A CommandSpec as an oclif command: oclif shows its help, lists it and writes the manifest. */
import { Args, Command, Flags, type Interfaces } from '@oclif/core';
import { runSpec, type CommandSpec, type FlagSpec } from './spec.js';

type OclifFlag = Interfaces.Flag<unknown> | Interfaces.OptionFlag<unknown>;
type Char = Interfaces.AlphabetLowercase | Interfaces.AlphabetUppercase;

function oclifFlag(f: FlagSpec): OclifFlag {
  const common = {
    description: f.description,
    ...(f.char ? { char: f.char as Char } : {}),
    ...(f.hidden ? { hidden: true } : {}),
  };
  if (f.type === 'boolean')
    return Flags.boolean({
      ...common,
      ...(f.allowNo ? { allowNo: true } : {}),
      ...(f.default ? { default: true } : {}),
    });
  const value = {
    ...common,
    ...(f.helpValue ? { helpValue: f.helpValue } : {}),
    ...(f.options ? { options: [...f.options] } : {}),
    ...(f.required ? { required: true as const } : {}),
  };
  if (f.type === 'integer')
    return Flags.integer({
      ...value,
      ...(f.min === undefined ? {} : { min: f.min }),
      ...(f.max === undefined ? {} : { max: f.max }),
      ...(f.default === undefined ? {} : { default: f.default }),
    }) as OclifFlag;
  return Flags.string({ ...value, ...(f.default === undefined ? {} : { default: f.default }) }) as OclifFlag;
}

/** The oclif command class of a spec; its run() parses and runs exactly as bin/topic.cjs does. */
export function oclifCommand(spec: CommandSpec): typeof Command {
  const flags = Object.fromEntries(Object.entries(spec.flags).map(([k, f]) => [k, oclifFlag(f)]));
  const args = Object.fromEntries(
    (spec.args ?? []).map((a) => [
      a.name,
      Args.string({ description: a.description, required: a.required === true }),
    ]),
  );
  return class extends Command {
    static override summary = spec.summary;
    static override description = spec.description;
    static override usage = spec.usage?.split('\n') ?? [];
    static override examples = [...spec.examples];
    static override flags = flags as Interfaces.FlagInput;
    static override args = args;
    static override strict = spec.strict !== false;

    async run(): Promise<void> {
      process.exitCode = await runSpec(spec, this.argv);
    }
  };
}

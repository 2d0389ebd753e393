/** oclif's help for one command, laid out by help-text.ts (named in package.json oclif.helpClass). */
import { Help, type Command } from '@oclif/core';
import { renderHelp, type HelpSource } from './help-text.js';

export default class SmsgateHelp extends Help {
  // renderHelp prints the summary itself, wrapped with the rest.
  protected override summary(): string | undefined {
    return undefined;
  }

  protected override formatCommand(command: Command.Loadable): string {
    return renderHelp(command as unknown as HelpSource, this.opts.maxWidth ?? 80).trimEnd();
  }
}

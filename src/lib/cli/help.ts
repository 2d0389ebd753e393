/** oclif's help for one command, laid out by help-text.ts (named in package.json oclif.helpClass). */
import { Help, type Command } from '@oclif/core';
import { renderHelp, type HelpSource } from './help-text.js';

export default class SmsgateHelp extends Help {
  /** A command's help: ours alone (oclif would print the summary once more, unwrapped, above it). */
  override async showCommandHelp(command: Command.Loadable): Promise<void> {
    this.log(this.formatCommand(command));
  }

  protected override formatCommand(command: Command.Loadable): string {
    return renderHelp(command as unknown as HelpSource, this.opts.maxWidth ?? 80).trimEnd();
  }
}

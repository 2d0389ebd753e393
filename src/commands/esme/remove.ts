import { Args, Command, Flags } from '@oclif/core';

export default class EsmeRemove extends Command {
  static override summary = 'Remove an ESME account from the accounts file of smppd serve';
  static override description = `Removes [SYSTEM_ID] from the AccountsFile named in [smppd] of the config (written
atomically). A running smppd serve forgets it at routes rebuild (or SIGHUP); binds it already has
stay until esme unbind.`;
  static override examples = ['<%= config.bin %> esme remove shop'];
  static override args = { system_id: Args.string({ description: 'system_id', required: true }) };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(EsmeRemove);
    const { esmeRemove } = await import('../../lib/smpp/admin/esme-cli.js');
    process.exitCode = await esmeRemove(
      { out: (l) => this.log(l), err: (l) => this.logToStderr(l) },
      flags.config,
      args.system_id,
    );
  }
}

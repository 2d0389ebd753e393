import { Command, Flags } from '@oclif/core';

export default class EsmeList extends Command {
  static override summary = 'List the ESME accounts of smppd serve (never the password hashes)';
  static override description = `Reads the AccountsFile named in [smppd] of the config and prints one line per account:
system_id, enabled, max binds, throughput, MO, allowed addresses.`;
  static override examples = ['<%= config.bin %> esme list -c /etc/smsgate/smsdrc'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(EsmeList);
    const { esmeList } = await import('../../lib/smpp/admin/esme-cli.js');
    process.exitCode = await esmeList(
      { out: (l) => this.log(l), err: (l) => this.logToStderr(l) },
      flags.config,
    );
  }
}

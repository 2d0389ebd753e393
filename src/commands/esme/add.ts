import { Args, Command, Flags } from '@oclif/core';
import { accountFlags } from '../../lib/smpp/admin/esme-flags.js';

export default class EsmeAdd extends Command {
  static override summary = 'Add an ESME account to the accounts file of smppd serve';
  static override description = `Adds a [SYSTEM_ID] section to the AccountsFile named in [smppd] of the config; the
password is stored only as a scrypt hash. The file is written atomically. A running smppd serve
takes the new account at routes rebuild (or SIGHUP).`;
  static override examples = [
    '<%= config.bin %> esme add shop --password s3cret --throughput 50 --max-binds 2 --allow 10.0.0.0/8',
  ];
  static override args = {
    system_id: Args.string({ description: 'system_id (1 to 15 characters)', required: true }),
  };
  static override flags = {
    password: Flags.string({
      description: 'bind password (at most 8 characters), stored hashed',
      required: true,
    }),
    ...accountFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(EsmeAdd);
    const { esmeAdd } = await import('../../lib/smpp/admin/esme-cli.js');
    const { accountChanges } = await import('../../lib/smpp/admin/esme-flags.js');
    process.exitCode = await esmeAdd(
      { out: (l) => this.log(l), err: (l) => this.logToStderr(l) },
      flags.config,
      args.system_id,
      accountChanges(flags),
    );
  }
}

import { Args, Command, Flags } from '@oclif/core';
import { accountFlags } from '../../lib/smpp/admin/esme-flags.js';

export default class EsmeSet extends Command {
  static override summary = 'Change an ESME account in the accounts file of smppd serve';
  static override description = `Changes the given settings of [SYSTEM_ID] in the AccountsFile named in [smppd] of the
config, keeping the other lines and comments; a new password is stored only as a scrypt hash.
The file is written atomically. A running smppd serve takes the change at routes rebuild (or
SIGHUP); its binds stay and take the new settings.`;
  static override examples = [
    '<%= config.bin %> esme set shop --enabled no',
    '<%= config.bin %> esme set shop --password n3w --throughput 100',
  ];
  static override args = { system_id: Args.string({ description: 'system_id', required: true }) };
  static override flags = {
    password: Flags.string({ description: 'new bind password (at most 8 characters), stored hashed' }),
    ...accountFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(EsmeSet);
    const { esmeSet } = await import('../../lib/smpp/admin/esme-cli.js');
    const { accountChanges } = await import('../../lib/smpp/admin/esme-flags.js');
    process.exitCode = await esmeSet(
      { out: (l) => this.log(l), err: (l) => this.logToStderr(l) },
      flags.config,
      args.system_id,
      accountChanges(flags),
    );
  }
}

import { Command, Flags } from '@oclif/core';

export default class EsmeUnbind extends Command {
  static override summary = 'Unbind the sessions of an ESME from a running smppd serve';
  static override description = `Asks the running smppd serve, through its admin HTTP interface ([smppd] AdminPort,
AdminListen, AdminPassword of the config), to send unbind to every bind of SYSTEM_ID (or only
the one with --bind-id, as /esme-status lists them) and close it. Other ESMEs stay bound.
Exit 0 with the number of binds disconnected, 1 when the server is not reachable or refuses.`;
  static override examples = [
    '<%= config.bin %> esme unbind --system-id shop',
    '<%= config.bin %> esme unbind --system-id shop --bind-id 7 -c /etc/smsgate/smsdrc',
  ];
  static override flags = {
    'system-id': Flags.string({ description: 'system_id of the ESME (case-insensitive)', required: true }),
    'bind-id': Flags.integer({ description: 'only this bind (see /esme-status)', min: 0 }),
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(EsmeUnbind);
    const { adminCli } = await import('../../lib/smpp/admin/esme-cli.js');
    process.exitCode = await adminCli(
      { out: (l) => this.log(l), err: (l) => this.logToStderr(l) },
      flags.config,
      '/esme-unbind',
      {
        'system-id': flags['system-id'],
        ...(flags['bind-id'] === undefined ? {} : { 'bind-id': String(flags['bind-id']) }),
      },
    );
  }
}

import { Command, Flags } from '@oclif/core';

export default class RoutesRebuild extends Command {
  static override summary = 'Make a running smppd serve reload its routes and accounts';
  static override description = `Asks the running smppd serve, through its admin HTTP interface ([smppd] AdminPort,
AdminListen, AdminPassword of the config), to rebuild its routes: it re-reads the RoutesFile and the
AccountsFile, as SIGHUP does, so edits of the routes and changes made with esme add/set/remove take
effect. Both files are checked first; if either is broken the server keeps the old pair and says
why. Binds stay. Exit 0 when the server did it, 1 when it is not reachable or refuses.`;
  static override examples = ['<%= config.bin %> routes rebuild -c /etc/smsgate/smsdrc'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(RoutesRebuild);
    const { adminCli } = await import('../../lib/smpp/admin/esme-cli.js');
    process.exitCode = await adminCli(
      { out: (l) => this.log(l), err: (l) => this.logToStderr(l) },
      flags.config,
      '/rebuild-routes',
    );
  }
}

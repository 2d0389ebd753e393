import { Command, Flags } from '@oclif/core';

export default class SmppdServe extends Command {
  static override summary = 'Run the SMPP 3.4 server that bridges ESMEs to the spool';
  static override description = `Reads [smppd] from the smsd config (Port, Listen, accounts and routes, TlsPort, TlsKey, TlsCert,
AdminPort, AdminPassword, timers) and its spool: submit_sm/data_sm are routed (by destination,
source and ESME, to any modem or one PhoneID, or refused), charged to prepaid accounts, and become
outbox files that smsd run sends, acknowledged once durable; delivery receipts and MO messages
(routed by receiving number or modem) go back as deliver_sm, queued on disk while no receiver is
bound. Accounts and routes come from AccountsFile and RoutesFile, from KSMPPD's SQL tables
(AccountsSource/RoutesSource = sql) or from KSMPPD's HTTP auth and routing services (= http).
Accounts may simulate (KSMPPD's simulate columns) instead of sending. SIGTERM/SIGINT: stop
accepting, unbind the sessions, flush, exit 0. SIGHUP: re-read the accounts and routes (as routes
rebuild). Logs go to stdout. File formats: src/lib/smpp/README.md.`;
  static override examples = ['<%= config.bin %> smppd serve -c /etc/smsgate/smsdrc'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmppdServe);
    const { runServe } = await import('../../lib/smpp/serve.js');
    process.exitCode = await runServe({ config: flags.config });
  }
}

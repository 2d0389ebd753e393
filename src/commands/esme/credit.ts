import { Args, Command, Flags } from '@oclif/core';

export default class EsmeCredit extends Command {
  static override summary = 'Show or add to the prepaid credit of an ESME';
  static override description = `Without AMOUNT prints the credit of SYSTEM_ID; with AMOUNT adds it (a negative AMOUNT takes
credit away). Every change is a line of the account's ledger in the smppd state folder
(billing/<system_id>.ledger: time, kind, amount, balance, message ID, note), beside the charges of
accepted submits and the refunds of messages that failed for good. With smppd serve running the
change goes through its admin HTTP interface (AdminPort), which owns the balance; otherwise the
ledger is written directly. Exit 0 on success, 1 otherwise.`;
  static override examples = [
    '<%= config.bin %> esme credit shop 100',
    '<%= config.bin %> esme credit shop -- -5',
    '<%= config.bin %> esme credit shop',
  ];
  static override args = {
    system_id: Args.string({ description: 'system_id', required: true }),
    amount: Args.string({ description: 'amount to add (negative to take away)' }),
  };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(EsmeCredit);
    const { esmeCredit } = await import('../../lib/smpp/admin/esme-cli.js');
    process.exitCode = await esmeCredit(
      { out: (l) => this.log(l), err: (l) => this.logToStderr(l) },
      flags.config,
      args.system_id,
      args.amount === undefined ? undefined : Number(args.amount),
    );
  }
}

import { Command, Flags } from '@oclif/core';

export default class SmppdDbUpgrade extends Command {
  static override summary = "Upgrade a KSMPPD database's account and route tables for smppd serve";
  static override description = `Brings a KSMPPD database (schema 1 to 4) to KSMPPD's version 4 (connect_allow_ip,
source_regex, priority) and adds smsgate's columns: enabled (default 1), message_id_format,
message_id_length, and widens the password column so scrypt hashes fit. Only adds columns and
widens one: existing rows keep their data, MySQL PASSWORD() hashes keep working, and KSMPPD itself
can still use the database. smppd serve reads a database without this too; esme add and
esme set --password need it.`;
  static override examples = ['<%= config.bin %> smppd db upgrade -c /etc/smsgate/smsdrc'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmppdDbUpgrade);
    const { smppdDbUpgrade } = await import('../../../lib/smpp/sql/admin.js');
    try {
      this.log(await smppdDbUpgrade(flags.config));
    } catch (err) {
      this.logToStderr(`smppd db upgrade: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
}

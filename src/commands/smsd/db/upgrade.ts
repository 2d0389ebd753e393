import { Command, Flags } from '@oclif/core';

export default class SmsdDbUpgrade extends Command {
  static override summary = "Upgrade Gammu's SQL tables to the latest schema version (17 to 18)";
  static override description = `Adds what schema 18 (Gammu 1.44) has over 17 (Gammu 1.42): inbox InsertIntoDB, MessageID,
SequencePosition and PartCount, outbox SendDays. Gammu 1.42's daemon refuses a version 18 database,
so upgrade only once every daemon and injector on it is smsgate or Gammu 1.44.`;
  static override examples = ['<%= config.bin %> smsd db upgrade -c /etc/smsgate/smsdrc'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmsdDbUpgrade);
    const { dbUpgrade } = await import('../../../lib/services/sql/admin.js');
    try {
      this.log((await dbUpgrade(flags.config)).message);
    } catch (err) {
      this.logToStderr(`smsd db upgrade: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
}

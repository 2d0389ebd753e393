import { Command, Flags } from '@oclif/core';

export default class SmsdDbInit extends Command {
  static override summary = "Create Gammu's SQL tables (schema 17 or 18) in the configured database";
  static override description = `Reads Service = sql, Driver (native_mysql, native_pgsql or sqlite3), Host, User, Password, Database
(SQLite: DBDir and Database, the file is created) and [tables] from the config and creates gammu, inbox,
outbox, outbox_multipart, sentitems and phones.
Version 17 is what Debian's Gammu 1.42 expects; 18 (the default) is Gammu 1.44's. Refuses to touch a
database that already has a Gammu schema (use smsd db upgrade).`;
  static override examples = [
    '<%= config.bin %> smsd db init -c /etc/smsgate/smsdrc',
    '<%= config.bin %> smsd db init -c smsdrc --version 17 --create-database',
  ];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
    version: Flags.integer({ description: 'schema version', options: ['17', '18'], default: 18 }),
    'create-database': Flags.boolean({ description: 'create the database first if it does not exist' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmsdDbInit);
    const { dbInit } = await import('../../../lib/services/sql/admin.js');
    try {
      const r = await dbInit(flags.config, flags.version === 17 ? 17 : 18, flags['create-database']);
      this.log(r.message);
    } catch (err) {
      this.logToStderr(`smsd db init: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
}

import { Command, Flags } from '@oclif/core';

export default class SmppdDbInit extends Command {
  static override summary = "Create KSMPPD's account and route tables for smppd serve";
  static override description = `Creates smpp_user, smpp_route and smpp_version (names from UserTable, RouteTable,
VersionTable in [smppd]) at KSMPPD's schema version 4 plus smsgate's columns (enabled,
message_id_format, message_id_length, a password column wide enough for scrypt hashes), on
MySQL/MariaDB or PostgreSQL. The database is the one [smppd] names: SqlDriver, SqlHost, SqlUser,
SqlPassword, SqlDatabase, or without SqlDriver the [smsd] Driver, Host, User, Password, Database.
Refuses a database that already has the tables (use smppd db upgrade).`;
  static override examples = ['<%= config.bin %> smppd db init -c /etc/smsgate/smsdrc'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmppdDbInit);
    const { smppdDbInit } = await import('../../../lib/smpp/sql/admin.js');
    try {
      this.log(await smppdDbInit(flags.config));
    } catch (err) {
      this.logToStderr(`smppd db init: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
}

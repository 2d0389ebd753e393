/** `smsd db` (see ../spec.ts); one module per command so each bundle holds only its own. */
import { configFlag } from '../flags.js';
import { bool, int, str, type CommandSpec } from '../spec.js';

export const dbInit: CommandSpec = {
  id: 'smsd:db:init',
  summary: "Create Gammu's SQL tables (schema 17 or 18) in the configured database",
  description: `Reads Service = sql, Driver (native_mysql, native_pgsql or sqlite3), Host, User, Password, Database
(SQLite: DBDir and Database, the file is created) and [tables] from the config and creates gammu, inbox,
outbox, outbox_multipart, sentitems and phones.
Version 17 is what Debian's Gammu 1.42 expects; 18 (the default) is Gammu 1.44's. Refuses to touch a
database that already has a Gammu schema (use smsd db upgrade). Exit 0 when done, 1 otherwise.`,
  examples: ['smsd db init -c /etc/smsgate/smsdrc', 'smsd db init -c smsdrc --version 17 --create-database'],
  flags: {
    config: configFlag,
    version: { type: 'integer', description: 'schema version', options: ['17', '18'], default: 18 },
    'create-database': { type: 'boolean', description: 'create the database first if it does not exist' },
  },
  async run({ flags }) {
    const { dbInit } = await import('../../services/sql/admin.js');
    const r = await dbInit(
      str(flags, 'config'),
      int(flags, 'version') === 17 ? 17 : 18,
      bool(flags, 'create-database'),
    );
    process.stdout.write(`${r.message}\n`);
    return 0;
  },
};

export const dbUpgrade: CommandSpec = {
  id: 'smsd:db:upgrade',
  summary: "Upgrade Gammu's SQL tables to the latest schema version (17 to 18)",
  description: `Adds what schema 18 (Gammu 1.44) has over 17 (Gammu 1.42): inbox InsertIntoDB, MessageID,
SequencePosition and PartCount, outbox SendDays. Gammu 1.42's daemon refuses a version 18 database,
so upgrade only once every daemon and injector on it is smsgate or Gammu 1.44. Exit 0 when done,
1 otherwise.`,
  examples: ['smsd db upgrade -c /etc/smsgate/smsdrc'],
  flags: { config: configFlag },
  async run({ flags }) {
    const { dbUpgrade } = await import('../../services/sql/admin.js');
    process.stdout.write(`${(await dbUpgrade(str(flags, 'config'))).message}\n`);
    return 0;
  },
};

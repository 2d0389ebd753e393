/** The `smppd` commands (see ../spec.ts). */
import { configFlag, versionFlag } from '../flags.js';
import { bool, str, type CommandSpec } from '../spec.js';

export const serve: CommandSpec = {
  id: 'smppd:serve',
  summary: 'Run the SMPP 3.4 server that bridges ESMEs to the spool',
  description: `Reads [smppd] from the smsd config (Port, Listen, accounts and routes, TlsPort, TlsKey, TlsCert,
AdminPort, AdminPassword, timers) and its spool: submit_sm/data_sm are routed (by destination,
source and ESME, to any modem or one PhoneID, or refused), charged to prepaid accounts, and become
outbox files that smsd run sends, acknowledged once durable; delivery receipts and MO messages
(routed by receiving number or modem) go back as deliver_sm, queued on disk while no receiver is
bound. Accounts and routes come from AccountsFile and RoutesFile, from KSMPPD's SQL tables
(AccountsSource/RoutesSource = sql) or from KSMPPD's HTTP auth and routing services (= http).
Accounts may simulate (KSMPPD's simulate columns) instead of sending.

Signals: TERM/INT stop accepting, unbind the sessions, flush, exit 0; HUP re-reads the accounts
and routes (as routes rebuild). Logs go to standard output. Exit 2 when the config cannot be read
or a port cannot be opened.

The file formats (accounts, routes, the queues of smppd) are described in src/lib/smpp/README.md
of the package; contrib/smpp-demo-client.mjs there is a small ESME to try it with.`,
  examples: ['smppd serve -c /etc/smsgate/smsdrc'],
  flags: { config: configFlag, version: versionFlag },
  async run({ flags }) {
    if (bool(flags, 'version')) return (await import('../version-line.js')).printVersion('smppd serve');
    const { runServe } = await import('../../smpp/serve.js');
    return runServe({ config: str(flags, 'config') });
  },
};

const dbSource = `The database is the one [smppd] names: SqlDriver, SqlHost, SqlUser, SqlPassword, SqlDatabase,
or without SqlDriver the [smsd] Driver, Host, User, Password, Database (SQLite: DBDir and Database).`;

export const dbInit: CommandSpec = {
  id: 'smppd:db:init',
  summary: "Create KSMPPD's account and route tables for smppd serve",
  description: `Creates smpp_user, smpp_route and smpp_version (names from UserTable, RouteTable,
VersionTable in [smppd]) at KSMPPD's schema version 4 plus smsgate's columns (enabled,
message_id_format, message_id_length, a password column wide enough for scrypt hashes), on
MySQL/MariaDB, PostgreSQL or SQLite (SqlDriver = sqlite3: SqlDatabase is the file, made when
missing). ${dbSource} Refuses a database that already has the tables (use
smppd db upgrade). Exit 0 when done, 1 otherwise.`,
  examples: ['smppd db init -c /etc/smsgate/smsdrc'],
  flags: { config: configFlag },
  async run({ flags }) {
    const { smppdDbInit } = await import('../../smpp/sql/admin.js');
    process.stdout.write(`${await smppdDbInit(str(flags, 'config'))}\n`);
    return 0;
  },
};

export const dbUpgrade: CommandSpec = {
  id: 'smppd:db:upgrade',
  summary: "Upgrade a KSMPPD database's account and route tables for smppd serve",
  description: `Brings a KSMPPD database (schema 1 to 4) to KSMPPD's version 4 (connect_allow_ip,
source_regex, priority) and adds smsgate's columns: enabled (default 1), message_id_format,
message_id_length, and widens the password column so scrypt hashes fit. Only adds columns and
widens one: existing rows keep their data, MySQL PASSWORD() hashes keep working, and KSMPPD itself
can still use the database. smppd serve reads a database without this too; esme add and
esme set --password need it. ${dbSource} Exit 0 when done, 1 otherwise.`,
  examples: ['smppd db upgrade -c /etc/smsgate/smsdrc'],
  flags: { config: configFlag },
  async run({ flags }) {
    const { smppdDbUpgrade } = await import('../../smpp/sql/admin.js');
    process.stdout.write(`${await smppdDbUpgrade(str(flags, 'config'))}\n`);
    return 0;
  },
};

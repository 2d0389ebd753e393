/** The `smsd` commands: what they take and what they run (see ../spec.ts). */
import { INJECT_USAGE } from '../../inject/usage.js';
import { configFlag, useLogFlags, versionFlag } from '../flags.js';
import { bool, int, str, type CommandSpec } from '../spec.js';

export const run: CommandSpec = {
  id: 'smsd:run',
  summary: 'Run the SMS daemon on one modem (gammu-smsd compatible)',
  description: `Talks AT commands to a GSM modem (Device in [gammu]: a serial device, host:port, or "emulator"),
stores received messages with the configured service (files, null or sql) and sends what is queued
in the outbox. Prints which config it uses (and, with the built-in default, which spool) on start.

Takes gammu-smsd's options, so its init scripts and units work unchanged: -d runs in the
background (Node cannot fork: smsd starts itself again detached, with its output going to LogFile
or /dev/null, and returns once the daemon has started and written its PID file); -U/-G drop root's
privileges to that user and group once the PID file and LogFile are open and before the modem is
opened (the user must be able to open the device, e.g. be in group dialout, as with Gammu). -i writes
a systemd unit (/etc/systemd/system/smsgate-smsd.service) that runs smsd with the same -c, -U and
-G; -u removes it. Under systemd or another supervisor run smsd in the foreground (without -d).

Signals: INT/TERM finish the send in progress and exit 0; HUP re-reads the config and reopens
LogFile; USR1 suspends and releases the device; USR2 resumes. Exit codes: 0 stopped by a signal,
2 config not read or start-up failed.`,
  examples: [
    'smsd run -c /etc/smsgate/smsdrc',
    'smsd run --daemon --pid /run/smsd.pid --user smsgate --group dialout -c /etc/smsgate/smsdrc',
    'smsd run -i -c /etc/smsgate/smsdrc -U smsgate -G dialout',
  ],
  flags: {
    config: configFlag,
    pid: { type: 'string', char: 'p', helpValue: 'FILE', description: 'write the process ID to FILE' },
    daemon: { type: 'boolean', char: 'd', description: 'run in the background (see DESCRIPTION)' },
    user: { type: 'string', char: 'U', helpValue: 'USER', description: 'run as USER once started as root' },
    group: {
      type: 'string',
      char: 'G',
      helpValue: 'GROUP',
      description: "run with GROUP (default: USER's primary group) once started as root",
    },
    suicide: {
      type: 'integer',
      char: 'X',
      helpValue: 'SECONDS',
      min: 1,
      description: 'stop (as on SIGTERM) after SECONDS',
    },
    'max-failures': {
      type: 'integer',
      char: 'f',
      helpValue: 'N',
      min: 0,
      description: 'exit 2 after N failed attempts to start talking to the modem (0: never)',
    },
    ...useLogFlags,
    install: {
      type: 'boolean',
      char: 'i',
      description: 'write the systemd unit smsgate-smsd.service for this command line, then exit',
    },
    uninstall: {
      type: 'boolean',
      char: 'u',
      description: 'remove the systemd unit smsgate-smsd.service, then exit',
    },
    version: versionFlag,
  },
  async run({ flags, argv }) {
    if (bool(flags, 'version')) return (await import('../version-line.js')).printVersion('smsd run');
    const { runCommand } = await import('../../daemon/command.js');
    return runCommand({
      argv,
      config: str(flags, 'config'),
      pidFile: str(flags, 'pid'),
      daemon: bool(flags, 'daemon'),
      user: str(flags, 'user'),
      group: str(flags, 'group'),
      suicide: int(flags, 'suicide'),
      maxFailures: int(flags, 'max-failures'),
      noUseLog: bool(flags, 'no-use-log'),
      install: bool(flags, 'install'),
      uninstall: bool(flags, 'uninstall'),
    });
  },
};

export const inject: CommandSpec = {
  id: 'smsd:inject',
  summary: 'Queue a message in the outbox, exactly as gammu-smsd-inject does',
  // The message types and parameters of the usage text (its options are the flags below).
  description: INJECT_USAGE.split('\n\n')
    .filter((p) => !p.startsWith('usage:') && !p.startsWith('options:'))
    .join('\n\n'),
  usage: [
    'smsd inject [-c FILE] [-l|-L] MSGTYPE RECIPIENT [MESSAGE_PARAMETER]...',
    'smsd inject [-c FILE] --batch FILE|- [--format csv|jsonl]',
  ].join('\n'),
  examples: [
    'smsd inject TEXT +420123456789 -text "All your base are belong to us"',
    'echo "from stdin" | smsd inject TEXT +420123456789 -autolen 400',
    'smsd inject -c /etc/gammu-smsdrc TEXT 123456 -unicode -text "Zoë 😀" -report',
    'smsd inject --batch messages.csv',
  ],
  // For help and the man page: inject parses its command line itself (strict: false).
  flags: {
    config: configFlag,
    'use-log': {
      type: 'boolean',
      char: 'l',
      description: 'use the logging configuration of the config file',
    },
    'no-use-log': { type: 'boolean', char: 'L', description: 'do not use it (the default)' },
    batch: {
      type: 'string',
      helpValue: 'FILE',
      description:
        'queue one message per line of FILE (- for stdin): CSV "number,text" or JSON lines {"number": "...", "text": "...", ...}',
    },
    format: {
      type: 'string',
      options: ['csv', 'jsonl'],
      description: 'batch line format (default: guessed from the first line)',
    },
    version: versionFlag,
  },
  // gammu-smsd-inject's single-dash parameters (-text, -len, ...) are parsed by the injector itself.
  strict: false,
  async run({ argv }) {
    const { main } = await import('../../inject/main.js');
    return main(argv);
  },
};

export const monitor: CommandSpec = {
  id: 'smsd:monitor',
  summary: 'Watch running smsd daemons and queues (gammu-smsd-monitor compatible)',
  description: `On a terminal, without options: a live view of every smsd run (state, IMEI, IMSI, operator,
signal, battery, counters, last error), the queues and the last events; keys ↑/↓ choose a daemon,
s suspends it (SIGUSR1), r resumes it (SIGUSR2), q quits.

Otherwise, or with -n/-d/-C/--json, it prints what gammu-smsd-monitor prints for the daemon of the
config (Client, PhoneID, IMEI, IMSI, Sent, Received, Failed, BatterPercent, NetworkSignal) every
--delay seconds, --loops times; -C gives Gammu's CSV line
(Client;PhoneID;IMEI;IMSI;Sent;Received;Failed;BatteryPercent;SignalPercent), --json one JSON
object per loop and -l Gammu's "Status: ..." line in the LogFile of the config instead of standard
output. Exit codes: 2 config not read, 3 no running daemon.`,
  examples: ['smsd monitor', 'smsd monitor -n 1 -C', 'smsd monitor -c /etc/smsgate/smsdrc -d 5'],
  flags: {
    config: configFlag,
    delay: {
      type: 'integer',
      char: 'd',
      helpValue: 'SECONDS',
      min: 0,
      description: 'seconds between loops (default: 20)',
    },
    loops: {
      type: 'integer',
      char: 'n',
      helpValue: 'N',
      min: -1,
      description: 'number of loops, -1 forever (default: -1)',
    },
    csv: { type: 'boolean', char: 'C', description: "Gammu's compact CSV output" },
    json: { type: 'boolean', description: 'one JSON object per loop' },
    'use-log': {
      type: 'boolean',
      char: 'l',
      description: 'write the status to the LogFile of the config instead of standard output',
    },
    'no-use-log': {
      type: 'boolean',
      char: 'L',
      description: 'write the status to standard output (the default)',
    },
    version: versionFlag,
  },
  async run({ flags }) {
    if (bool(flags, 'version')) return (await import('../version-line.js')).printVersion('smsd monitor');
    const { runMonitorText, runMonitorLive } = await import('../../monitor/main.js');
    const useLog = bool(flags, 'use-log') && !bool(flags, 'no-use-log');
    const scripted =
      flags['delay'] !== undefined ||
      flags['loops'] !== undefined ||
      bool(flags, 'csv') ||
      bool(flags, 'json') ||
      useLog;
    if (!scripted && process.stdout.isTTY) return runMonitorLive(str(flags, 'config'));
    return runMonitorText({
      config: str(flags, 'config'),
      delay: int(flags, 'delay') ?? 20,
      loops: int(flags, 'loops') ?? -1,
      csv: bool(flags, 'csv'),
      json: bool(flags, 'json'),
      useLog,
    });
  },
};

export const dbInit: CommandSpec = {
  id: 'smsd:db:init',
  summary: "Create Gammu's SQL tables (schema 17 or 18) in the configured database",
  description: `Reads Service = sql, Driver (native_mysql or native_pgsql), Host, User, Password, Database and
[tables] from the config and creates gammu, inbox, outbox, outbox_multipart, sentitems and phones.
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

/** `smsd run` (see ../spec.ts); one module per command so each bundle holds only its own. */
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

/** `smsd run` (see ../spec.ts); one module per command so each bundle holds only its own. */
import { configFlag, useLogFlags, versionFlag } from '../flags.js';
import { bool, int, str, type CommandSpec } from '../spec.js';

export const run: CommandSpec = {
  id: 'smsd:run',
  summary: 'Run the SMS daemon on one modem or outlet (gammu-smsd compatible)',
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
2 config not read or start-up failed.

Outbox files that cannot be sent as written go to the error folder with <name>.reason: a .txt
with a NUL byte or bytes invalid for its encoding (UTF-8, or UTF-16 after a byte-order mark), and
a symbolic link, folder or other non-regular file named like an outbox file (the link itself is
moved, never what it points to; if even the move fails it stays and is logged once).

A storage failure is not a modem failure: when sent/, the inbox or the daemon's records cannot be
written (read-only, full), the message the modem took keeps its claim and only the failed step is
retried (0.5 s doubling to 10 s, then every 10 s until it works); received messages stay on the
SIM. Nothing is sent twice and the modem is not reset. It shows in the log (once, then a reminder
a minute), in the status file ("storage"), in smsd monitor and in /metrics (smsgate_storage_ok).

Start-up errors (config, folders) are one line naming the key or path; the exit code is 2.

With Connection = smpp (smpps for TLS) in [gammu], it sends through an account at an upstream
SMSC instead (Device = host:port of the SMSC), with the same outbox, inbox, reports and SQL
tables. INT/TERM then stop claiming, wait for the answers in flight (up to SendTimeout), unbind
and exit 0. Its [upstream] section (all keys in smsdrc(5)):

  SystemId, Password, SystemType  the account (SystemId required)
  BindMode         transceiver (default), transmitter, receiver, pair (TX+RX)
  Window           submits in flight at most (default 10)
  Throughput       submits per second at most, 0 = no limit (default)
  MessageIdFormat  auto (default), same, hex, dec: receipt ids vs submit ids
  SourceAddress, SourceTon, SourceNpi, DestTon, DestNpi: numbers without "+"
  UseSar, UsePayload: long messages by SAR TLVs or message_payload, not UDH
  EnquireLinkInterval, LinkTimeout, ResponseTimeout, ReconnectDelay,
  ReconnectMaxDelay, ThrottleDelay, TlsCa, TlsServerName, TlsVerify
  ReceiptTimeout, ReceiptLimit: a part's wait for its receipt (48 h) and how
                   many may wait (200000); then it is closed as "no receipt"

With an outlet, HUP applies Window, Throughput, timers and DebugLevel without a rebind and
names the changed keys that need a restart (Device, the account, BindMode...).

With Connection = kannel, it is a box on Kannel's bearerbox (Device = host:port of its
smsbox-port; [kannel] BoxId and the other keys in smsdrc(5)).`,
  examples: [
    'smsd run -c /etc/smsgate/smsdrc',
    'smsd run --daemon --pid /run/smsd.pid --user smsgate --group dialout -c /etc/smsgate/smsdrc',
    'smsd run -i -c /etc/smsgate/smsdrc -U smsgate -G dialout',
    'smsd run -c /etc/smsgate/upstream.smsdrc   # [gammu] Connection = smpp',
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

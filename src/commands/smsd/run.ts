import { Command, Flags } from '@oclif/core';

export default class SmsdRun extends Command {
  static override summary = 'Run the SMS daemon on one modem or outlet (gammu-smsd compatible)';
  static override description = `Talks AT commands to a GSM modem (Device in [gammu]: a serial device, host:port, or "emulator"),
stores received messages with the configured service and sends what is queued in the outbox.
Signals: INT/TERM finish the send in progress and exit 0; HUP re-reads the config; USR1 suspends
and releases the device; USR2 resumes.

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
tables. Its [upstream] section (all keys in smsdrc(5)):
  SystemId, Password, SystemType   the account (SystemId required)
  BindMode          transceiver (default) | transmitter | receiver | pair (TX + RX binds)
  Window            submits in flight at most (default 10)
  Throughput        submits per second at most, 0 = no limit (default)
  MessageIdFormat   auto (default) | same | hex | dec: how receipt ids relate to submit_sm_resp ids
  SourceAddress, SourceTon, SourceNpi, DestTon, DestNpi   addressing of numbers without "+"
  UseSar, UsePayload                  long messages by SAR TLVs or message_payload instead of a UDH
  EnquireLinkInterval, LinkTimeout, ResponseTimeout, ReconnectDelay, ReconnectMaxDelay,
  ThrottleDelay, TlsCa, TlsServerName, TlsVerify
INT/TERM then stop claiming, wait for the answers in flight (up to SendTimeout), unbind and exit 0.`;
  static override examples = [
    '<%= config.bin %> smsd run -c /etc/smsgate/smsdrc',
    '<%= config.bin %> smsd run --pid /run/smsd.pid',
    '<%= config.bin %> smsd run -c /etc/smsgate/upstream.smsdrc   # [gammu] Connection = smpp',
  ];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
    pid: Flags.string({ char: 'p', description: 'write the process ID to this file' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmsdRun);
    const { runDaemon } = await import('../../lib/daemon/run.js');
    process.exitCode = await runDaemon({ config: flags.config, pidFile: flags.pid });
  }
}

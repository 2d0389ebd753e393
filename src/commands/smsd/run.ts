import { Command, Flags } from '@oclif/core';

export default class SmsdRun extends Command {
  static override summary = 'Run the SMS daemon on one modem or outlet (gammu-smsd compatible)';
  static override description = `Talks AT commands to a GSM modem (Device in [gammu]: a serial device, host:port, or "emulator"),
stores received messages with the configured service and sends what is queued in the outbox.
Signals: INT/TERM finish the send in progress and exit 0; HUP re-reads the config; USR1 suspends
and releases the device; USR2 resumes.

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

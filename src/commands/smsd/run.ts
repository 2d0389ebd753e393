import { Command, Flags } from '@oclif/core';

export default class SmsdRun extends Command {
  static override summary = 'Run the SMS daemon on one modem (gammu-smsd compatible)';
  static override description = `Talks AT commands to a GSM modem (Device in [gammu]: a serial device, host:port, or "emulator"),
stores received messages with the configured service and sends what is queued in the outbox.
Signals: INT/TERM finish the send in progress and exit 0; HUP re-reads the config; USR1 suspends
and releases the device; USR2 resumes.`;
  static override examples = [
    '<%= config.bin %> smsd run -c /etc/smsgate/smsdrc',
    '<%= config.bin %> smsd run --pid /run/smsd.pid',
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

import { Command, Flags } from '@oclif/core';

export default class SmsdMonitor extends Command {
  static override summary = 'Show the status of a running smsd run (gammu-smsd-monitor compatible)';
  static override description = `Prints what gammu-smsd-monitor prints for the daemon of the config (Client, PhoneID, IMEI,
IMSI, Sent, Received, Failed, BatterPercent, NetworkSignal), every --delay seconds, --loops times;
-C gives Gammu's CSV line (Client;PhoneID;IMEI;IMSI;Sent;Received;Failed;BatteryPercent;SignalPercent)
and --json one JSON object per loop. Exit codes: 2 config not read, 3 no running daemon.`;
  static override examples = [
    '<%= config.bin %> smsd monitor -n 1 -C',
    '<%= config.bin %> smsd monitor -c /etc/smsgate/smsdrc -d 5',
  ];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file of the daemon to watch' }),
    delay: Flags.integer({ char: 'd', description: 'seconds between loops', default: 20, min: 0 }),
    loops: Flags.integer({ char: 'n', description: 'number of loops (-1: forever)', default: -1, min: -1 }),
    csv: Flags.boolean({ char: 'C', description: "Gammu's compact CSV output" }),
    json: Flags.boolean({ description: 'one JSON object per loop' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmsdMonitor);
    const { runMonitorText } = await import('../../lib/monitor/main.js');
    process.exitCode = await runMonitorText({
      config: flags.config,
      delay: flags.delay,
      loops: flags.loops,
      csv: flags.csv,
      json: flags.json,
    });
  }
}

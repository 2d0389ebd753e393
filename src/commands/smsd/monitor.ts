import { Command, Flags } from '@oclif/core';

export default class SmsdMonitor extends Command {
  static override summary = 'Watch running smsd daemons and queues (gammu-smsd-monitor compatible)';
  static override description = `On a terminal, without options: a live view of every smsd run (state, IMEI, IMSI, operator,
signal, battery, counters, last error), the queues and the last events; keys ↑/↓ choose a daemon,
s suspends it (SIGUSR1), r resumes it (SIGUSR2), q quits.
Otherwise, or with -n/-d/-C/--json, it prints what gammu-smsd-monitor prints for the daemon of the
config (Client, PhoneID, IMEI, IMSI, Sent, Received, Failed, BatterPercent, NetworkSignal) every
--delay seconds, --loops times; -C gives Gammu's CSV line
(Client;PhoneID;IMEI;IMSI;Sent;Received;Failed;BatteryPercent;SignalPercent) and --json one JSON
object per loop. Exit codes: 2 config not read, 3 no running daemon.`;
  static override examples = [
    '<%= config.bin %> smsd monitor',
    '<%= config.bin %> smsd monitor -n 1 -C',
    '<%= config.bin %> smsd monitor -c /etc/smsgate/smsdrc -d 5',
  ];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file of the daemon to watch' }),
    delay: Flags.integer({ char: 'd', description: 'seconds between loops [default: 20]', min: 0 }),
    loops: Flags.integer({ char: 'n', description: 'number of loops, -1 forever [default: -1]', min: -1 }),
    csv: Flags.boolean({ char: 'C', description: "Gammu's compact CSV output" }),
    json: Flags.boolean({ description: 'one JSON object per loop' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmsdMonitor);
    const { runMonitorText, runMonitorLive } = await import('../../lib/monitor/main.js');
    const scripted = flags.delay !== undefined || flags.loops !== undefined || flags.csv || flags.json;
    if (!scripted && process.stdout.isTTY) {
      process.exitCode = await runMonitorLive(flags.config);
      return;
    }
    process.exitCode = await runMonitorText({
      config: flags.config,
      delay: flags.delay ?? 20,
      loops: flags.loops ?? -1,
      csv: flags.csv,
      json: flags.json,
    });
  }
}

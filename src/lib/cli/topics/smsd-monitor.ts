/** `smsd monitor` (see ../spec.ts); one module per command so each bundle holds only its own. */
import { configFlag, versionFlag } from '../flags.js';
import { bool, int, str, type CommandSpec } from '../spec.js';

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

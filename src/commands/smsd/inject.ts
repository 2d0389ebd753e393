import { Command } from '@oclif/core';
import { INJECT_USAGE } from '../../lib/inject/usage.js';

export default class SmsdInject extends Command {
  static override summary = 'Queue a message in the outbox, exactly as gammu-smsd-inject does';
  static override description = INJECT_USAGE;
  static override examples = [
    '<%= config.bin %> smsd inject TEXT +420123456789 -text "All your base are belong to us"',
    'echo "from stdin" | <%= config.bin %> smsd inject TEXT +420123456789 -autolen 400',
    '<%= config.bin %> smsd inject -c /etc/gammu-smsdrc TEXT 123456 -unicode -text "Zoë 😀" -report',
    '<%= config.bin %> smsd inject --batch messages.csv',
  ];
  // gammu-smsd-inject's single-dash parameters (-text, -len, ...) are parsed by the injector itself.
  static override strict = false;

  async run(): Promise<void> {
    const { main } = await import('../../lib/inject/main.js');
    process.exitCode = await main(this.argv);
  }
}

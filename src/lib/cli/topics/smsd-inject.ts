/** `smsd inject` (see ../spec.ts); one module per command so each bundle holds only its own. */
import { INJECT_USAGE } from '../../inject/usage.js';
import { configFlag, versionFlag } from '../flags.js';
import { type CommandSpec } from '../spec.js';

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

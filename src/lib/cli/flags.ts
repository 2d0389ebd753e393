/** Flags several commands share, declared once. */
import type { BooleanFlag, StringFlag } from './spec.js';

/** The search order of locate.ts (configCandidates, then builtinConfigText), for `-c` in help. */
export const CONFIG_SEARCH =
  'Without -c: $SMSD_CONFIG when set; else the first file that exists of ./smsdrc, ' +
  '$XDG_CONFIG_HOME/smsgate/smsdrc (~/.config/smsgate/smsdrc) and /etc/smsgate/smsdrc; else the ' +
  'built-in default: the emulated modem and Service = files with the spool in spool/ of a git ' +
  'checkout, /var/spool/smsgate for root, $XDG_DATA_HOME/smsgate/spool ' +
  '(~/.local/share/smsgate/spool) for other users.';

export const configFlag: StringFlag = {
  type: 'string',
  char: 'c',
  helpValue: 'FILE',
  description: `config file (smsdrc(5), Gammu's format). ${CONFIG_SEARCH}`,
};

/** gammu-smsd's -l/-L: accepted for its scripts. */
export const useLogFlags: Record<'use-log' | 'no-use-log', BooleanFlag> = {
  'use-log': { type: 'boolean', char: 'l', description: 'log through LogFile of the config (the default)' },
  'no-use-log': {
    type: 'boolean',
    char: 'L',
    description: 'log to standard output even when the config sets LogFile',
  },
};

export const versionFlag: BooleanFlag = {
  type: 'boolean',
  char: 'v',
  description: 'print the version and exit',
};

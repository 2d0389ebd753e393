import { Flags } from '@oclif/core';
import type { AccountChanges } from './accounts-file.js';

/** The account settings flags `esme add` and `esme set` share, and their translation. */
export const accountFlags = {
  enabled: Flags.string({ description: 'may bind', options: ['yes', 'no'] }),
  throughput: Flags.string({ description: 'message parts per second over all binds (0: unlimited)' }),
  'max-binds': Flags.integer({ description: 'binds at once (0: unlimited)', min: 0 }),
  allow: Flags.string({ description: 'source addresses allowed to bind, CIDRs separated by commas' }),
  mo: Flags.string({ description: 'receives MO messages', options: ['yes', 'no'] }),
  config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
};

export function accountChanges(f: {
  password?: string | undefined;
  enabled?: string | undefined;
  throughput?: string | undefined;
  'max-binds'?: number | undefined;
  allow?: string | undefined;
  mo?: string | undefined;
}): AccountChanges {
  const c: AccountChanges = {};
  if (f.password !== undefined) c.password = f.password;
  if (f.enabled !== undefined) c.enabled = f.enabled === 'yes';
  if (f.throughput !== undefined) c.throughput = Number(f.throughput);
  if (f['max-binds'] !== undefined) c.maxBinds = f['max-binds'];
  if (f.allow !== undefined) c.allow = f.allow;
  if (f.mo !== undefined) c.mo = f.mo === 'yes';
  return c;
}

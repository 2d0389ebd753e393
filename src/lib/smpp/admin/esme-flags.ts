import { Flags } from '@oclif/core';
import type { AccountChanges } from '../policy/accounts-file.js';

/** The account settings flags `esme add` and `esme set` share, and their translation. */
export const accountFlags = {
  enabled: Flags.string({ description: 'may bind', options: ['yes', 'no'] }),
  throughput: Flags.string({ description: 'message parts per second over all binds (0: unlimited)' }),
  'max-binds': Flags.integer({ description: 'binds at once (0: unlimited)', min: 0 }),
  allow: Flags.string({ description: 'source addresses allowed to bind, CIDRs separated by commas' }),
  mo: Flags.string({ description: 'receives MO messages no inbound route claims', options: ['yes', 'no'] }),
  prepaid: Flags.string({
    description: 'charge route cost x parts against its credit (esme credit)',
    options: ['yes', 'no'],
  }),
  'default-route': Flags.string({ description: 'when no route matches: spool, phone:<PhoneID> or none' }),
  'default-cost': Flags.string({ description: 'cost per part on the default route' }),
  config: Flags.string({ char: 'c', description: 'config file (default: see README, search order)' }),
};

export function accountChanges(f: {
  password?: string | undefined;
  enabled?: string | undefined;
  throughput?: string | undefined;
  'max-binds'?: number | undefined;
  allow?: string | undefined;
  mo?: string | undefined;
  prepaid?: string | undefined;
  'default-route'?: string | undefined;
  'default-cost'?: string | undefined;
}): AccountChanges {
  const c: AccountChanges = {};
  if (f.password !== undefined) c.password = f.password;
  if (f.enabled !== undefined) c.enabled = f.enabled === 'yes';
  if (f.throughput !== undefined) c.throughput = Number(f.throughput);
  if (f['max-binds'] !== undefined) c.maxBinds = f['max-binds'];
  if (f.allow !== undefined) c.allow = f.allow;
  if (f.mo !== undefined) c.mo = f.mo === 'yes';
  if (f.prepaid !== undefined) c.prepaid = f.prepaid === 'yes';
  if (f['default-route'] !== undefined) c.defaultRoute = f['default-route'];
  if (f['default-cost'] !== undefined) c.defaultCost = Number(f['default-cost']);
  return c;
}

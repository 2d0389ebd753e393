/** The `esme` and `routes` commands (see ../spec.ts). */
import type { AccountChanges } from '../../smpp/policy/accounts-file.js';
import { configFlag } from '../flags.js';
import { int, str, type CommandSpec, type FlagSpec, type FlagValues } from '../spec.js';

/** What `esme ...` print and report through. */
const io = {
  out: (l: string) => process.stdout.write(`${l}\n`),
  err: (l: string) => process.stderr.write(`${l}\n`),
};
const cli = () => import('../../smpp/admin/esme-cli.js');
const yesNo = (description: string): FlagSpec => ({ type: 'string', description, options: ['yes', 'no'] });

/** The account settings `esme add` and `esme set` share. */
const accountFlags: Record<string, FlagSpec> = {
  enabled: yesNo('may bind'),
  throughput: {
    type: 'string',
    helpValue: 'N',
    description: 'message parts per second over all binds (0: unlimited)',
  },
  'max-binds': { type: 'integer', helpValue: 'N', description: 'binds at once (0: unlimited)', min: 0 },
  allow: {
    type: 'string',
    helpValue: 'CIDRS',
    description: 'source addresses allowed to bind, CIDRs separated by commas',
  },
  mo: yesNo('receives MO messages no inbound route claims'),
  prepaid: yesNo('charge route cost x parts against its credit (esme credit)'),
  'default-route': {
    type: 'string',
    helpValue: 'ROUTE',
    description: 'when no route matches: spool, phone:<PhoneID> or none',
  },
  'default-cost': { type: 'string', helpValue: 'COST', description: 'cost per part on the default route' },
  config: configFlag,
};

function accountChanges(f: FlagValues): AccountChanges {
  const c: AccountChanges = {};
  const s = (k: string) => str(f, k);
  if (s('password') !== undefined) c.password = s('password');
  if (s('enabled') !== undefined) c.enabled = s('enabled') === 'yes';
  if (s('throughput') !== undefined) c.throughput = Number(s('throughput'));
  if (int(f, 'max-binds') !== undefined) c.maxBinds = int(f, 'max-binds');
  if (s('allow') !== undefined) c.allow = s('allow');
  if (s('mo') !== undefined) c.mo = s('mo') === 'yes';
  if (s('prepaid') !== undefined) c.prepaid = s('prepaid') === 'yes';
  if (s('default-route') !== undefined) c.defaultRoute = s('default-route');
  if (s('default-cost') !== undefined) c.defaultCost = Number(s('default-cost'));
  return c;
}

const systemId = { name: 'system_id', description: 'system_id', required: true };
const adminIntro = `Asks the running smppd serve, through its admin HTTP interface ([smppd] AdminPort,
AdminListen, AdminPassword of the config),`;

export const add: CommandSpec = {
  id: 'esme:add',
  summary: 'Add an ESME account to the accounts file of smppd serve',
  description: `Adds a [SYSTEM_ID] section to the AccountsFile named in [smppd] of the config (or a row to
KSMPPD's smpp_user table with AccountsSource = sql); the password is stored only as a scrypt hash.
The file is written atomically. A running smppd serve takes the new account at routes rebuild (or
SIGHUP). Exit 0 when done, 1 otherwise.`,
  examples: ['esme add shop --password s3cret --throughput 50 --max-binds 2 --allow 10.0.0.0/8'],
  args: [{ name: 'system_id', description: 'system_id (1 to 15 characters)', required: true }],
  flags: {
    password: {
      type: 'string',
      helpValue: 'PASSWORD',
      description: 'bind password (at most 8 characters), stored hashed',
      required: true,
    },
    ...accountFlags,
  },
  async run({ flags, args }) {
    return (await cli()).esmeAdd(io, str(flags, 'config'), args['system_id'] ?? '', accountChanges(flags));
  },
};

export const set: CommandSpec = {
  id: 'esme:set',
  summary: 'Change an ESME account in the accounts file of smppd serve',
  description: `Changes the given settings of [SYSTEM_ID] in the AccountsFile named in [smppd] of the
config, keeping the other lines and comments; a new password is stored only as a scrypt hash.
The file is written atomically. A running smppd serve takes the change at routes rebuild (or
SIGHUP); its binds stay and take the new settings. Exit 0 when done, 1 otherwise.`,
  examples: ['esme set shop --enabled no', 'esme set shop --password n3w --throughput 100'],
  args: [systemId],
  flags: {
    password: {
      type: 'string',
      helpValue: 'PASSWORD',
      description: 'new bind password (at most 8 characters), stored hashed',
    },
    ...accountFlags,
  },
  async run({ flags, args }) {
    return (await cli()).esmeSet(io, str(flags, 'config'), args['system_id'] ?? '', accountChanges(flags));
  },
};

export const remove: CommandSpec = {
  id: 'esme:remove',
  summary: 'Remove an ESME account from the accounts file of smppd serve',
  description: `Removes [SYSTEM_ID] from the AccountsFile named in [smppd] of the config (written
atomically). A running smppd serve forgets it at routes rebuild (or SIGHUP); binds it already has
stay until esme unbind. Exit 0 when done, 1 otherwise.`,
  examples: ['esme remove shop'],
  args: [systemId],
  flags: { config: configFlag },
  async run({ flags, args }) {
    return (await cli()).esmeRemove(io, str(flags, 'config'), args['system_id'] ?? '');
  },
};

export const list: CommandSpec = {
  id: 'esme:list',
  summary: 'List the ESME accounts of smppd serve (never the password hashes)',
  description: `Reads the AccountsFile named in [smppd] of the config and prints one line per account:
system_id, enabled, max binds, throughput, MO, allowed addresses. Exit 0 when done, 1 otherwise.`,
  examples: ['esme list -c /etc/smsgate/smsdrc'],
  flags: { config: configFlag },
  async run({ flags }) {
    return (await cli()).esmeList(io, str(flags, 'config'));
  },
};

export const credit: CommandSpec = {
  id: 'esme:credit',
  summary: 'Show or add to the prepaid credit of an ESME',
  description: `Without AMOUNT prints the credit of SYSTEM_ID; with AMOUNT adds it (a negative AMOUNT takes
credit away). Every change is a line of the account's ledger in the smppd state folder
(billing/<system_id>.ledger: time, kind, amount, balance, message ID, note), beside the charges of
accepted submits and the refunds of messages that failed for good. With smppd serve running the
change goes through its admin HTTP interface (AdminPort), which owns the balance; otherwise the
ledger is written directly. Exit 0 on success, 1 otherwise.`,
  examples: ['esme credit shop 100', 'esme credit shop -- -5', 'esme credit shop'],
  args: [systemId, { name: 'amount', description: 'amount to add (negative to take away)' }],
  flags: { config: configFlag },
  async run({ flags, args }) {
    const amount = args['amount'];
    return (await cli()).esmeCredit(
      io,
      str(flags, 'config'),
      args['system_id'] ?? '',
      amount === undefined ? undefined : Number(amount),
    );
  },
};

export const unbind: CommandSpec = {
  id: 'esme:unbind',
  summary: 'Unbind the sessions of an ESME from a running smppd serve',
  description: `${adminIntro} to send unbind to every bind of SYSTEM_ID (or only
the one with --bind-id, as /esme-status lists them) and close it. Other ESMEs stay bound.
Exit 0 with the number of binds disconnected, 1 when the server is not reachable or refuses.`,
  examples: [
    'esme unbind --system-id shop',
    'esme unbind --system-id shop --bind-id 7 -c /etc/smsgate/smsdrc',
  ],
  flags: {
    'system-id': {
      type: 'string',
      helpValue: 'SYSTEM_ID',
      description: 'system_id of the ESME (case-insensitive)',
      required: true,
    },
    'bind-id': { type: 'integer', helpValue: 'ID', description: 'only this bind (see /esme-status)', min: 0 },
    config: configFlag,
  },
  async run({ flags }) {
    const bindId = int(flags, 'bind-id');
    return (await cli()).adminCli(io, str(flags, 'config'), '/esme-unbind', {
      'system-id': str(flags, 'system-id') ?? '',
      ...(bindId === undefined ? {} : { 'bind-id': String(bindId) }),
    });
  },
};

export const rebuild: CommandSpec = {
  id: 'routes:rebuild',
  summary: 'Make a running smppd serve reload its routes and accounts',
  description: `${adminIntro} to rebuild its routes: it re-reads the RoutesFile and the
AccountsFile, as SIGHUP does, so edits of the routes and changes made with esme add/set/remove take
effect. Both files are checked first; if either is broken the server keeps the old pair and says
why. Binds stay. Exit 0 when the server did it, 1 when it is not reachable or refuses.`,
  examples: ['routes rebuild -c /etc/smsgate/smsdrc'],
  flags: { config: configFlag },
  async run({ flags }) {
    return (await cli()).adminCli(io, str(flags, 'config'), '/rebuild-routes');
  },
};

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { handleControl, type ControlTarget } from '../../src/lib/emulator/control.js';
import { ModemEmulator } from '../../src/lib/emulator/index.js';
import { params } from './props.js';

// The emulator's control requests (one JSON object per line on its socket), in process: any JSON
// value gets {ok: true} or {ok: false} with a message that names the problem, not a JavaScript
// TypeError leaking out of a handler.

const modem = new ModemEmulator({ seed: 3 });
afterAll(() => modem.dispose());
const target: ControlTarget = {
  modem,
  vanish: () => Promise.resolve(),
  endpoints: () => ({ device: null, pts: null, present: true, tcp: null, control: null }),
};

const value = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, '', 'x', '+420123', 'SM', 'ME', '00', 'zz', [], {}),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const FIELDS = [
  'from',
  'text',
  'pdu',
  'smsc',
  'class',
  'coding',
  'udh',
  'memory',
  'ms',
  'clear',
  'latencyMs',
  'hang',
  'cmsErrorEvery',
  'garbage',
  'errorStorm',
  'rssi',
  'registration',
  'simInserted',
  'pin',
  'ownNumber',
  'reportDelayMs',
  'reportStatus',
  '__proto__',
  'constructor',
];
const request = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        'deliver',
        'fault',
        'set',
        'sent',
        'status',
        'vanish',
        'messages',
        'clear',
        'reset',
        'nope',
        'constructor',
        'toString',
      ),
      fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 4 }),
    )
    .map(([cmd, rest]) => ({ ...rest, cmd })),
  fc.json().map((j) => JSON.parse(j) as unknown),
);

describe('emulator control requests', () => {
  it('an answer for everything, and no JavaScript error text in it', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const reply = await handleControl(target, r);
        if (!reply.ok)
          expect(reply.error).not.toMatch(
            /Cannot read|is not a function|is not iterable|Cannot convert|Maximum call stack/,
          );
      }),
      params(1500),
    );
  });
});

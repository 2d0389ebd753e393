import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NUMERIC_AUTH_HEADERS, accountOfHeaders } from '../../src/lib/smpp/policy/http-auth.js';
import { urlEncodeOctets } from '../../src/lib/smpp/policy/http-routing.js';
import {
  ipAllowed,
  ipMatchesPattern,
  parseCidrList,
  parseKannelIpList,
} from '../../src/lib/smpp/protocol/net.js';
import { onlyThrows, params, strayValues } from './props.js';

// What KSMPPD-style HTTP services and account sources hand smppd: auth answer headers (an account),
// Kannel IP lists, and the URL encoding of what we send them.

const PREFIX = 'X-KSMPPD-';
const NUMERIC = NUMERIC_AUTH_HEADERS;
const numberText = fc.oneof(
  fc.constantFrom(
    '0',
    '1',
    '-1',
    '1e400',
    'Infinity',
    '-Infinity',
    'NaN',
    '0x10',
    ' 5 ',
    '',
    '1.5',
    '64',
    '8',
    '7',
    '65',
    '99999999999999999999',
  ),
  fc.string({ maxLength: 6 }),
);
const ipText = fc.oneof(
  fc.constantFrom(
    '*.*.*.*',
    '10.0.*.*',
    '127.0.0.1',
    '::1',
    '10.0.0.0/8',
    '::/0',
    'fe80::1%eth0',
    '1.2.3.4/33',
    '*',
    '10.*',
    '300.*.*.*',
    '::ffff:1.2.3.4',
    '1.2.3.4/-1',
    '1.2.3.4/',
    '/8',
  ),
  fc.string({ unit: fc.constantFrom(...'0123456789.*:/;, abcdef%'), maxLength: 20 }),
);
const ipList = fc.array(ipText, { maxLength: 4 }).map((a) => a.join(';'));
const headerValue = (s: string): string => s.replace(/[\r\n\0]/g, '');

describe('HTTP auth answer headers → account', () => {
  it('an account with finite, non-negative numbers, or a reason naming the header', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...NUMERIC), numberText),
        ipList,
        fc.constantFrom('hex', 'decimal', 'HEX', 'octal', ''),
        (nums, allow, format) => {
          const h = new Headers();
          for (const [k, v] of Object.entries(nums)) h.set(`${PREFIX}${k}`, headerValue(v));
          h.set(`${PREFIX}Connect-Allow-IP`, headerValue(allow));
          if (format) h.set(`${PREFIX}Message-ID-Format`, format);
          const a = accountOfHeaders('acme', h);
          if (typeof a === 'string') {
            expect(a).toMatch(/^X-KSMPPD-/);
            return;
          }
          expect(strayValues(a)).toEqual([]);
          for (const [k, v] of Object.entries({
            throughput: a.throughput,
            maxBinds: a.maxBinds,
            defaultCost: a.defaultCost,
            ...a.simulate,
          }))
            expect(Number.isFinite(v) && v >= 0, `${k} = ${v}`).toBe(true);
          // The allow list it gives is usable at bind time.
          for (const ip of ['127.0.0.1', '::1', '::ffff:10.0.0.1', '10.1.2.3']) {
            ipAllowed(ip, a.allow);
            ipMatchesPattern(ip, a.allowPatterns ?? []);
          }
        },
      ),
      params(1500),
    );
  });
});

describe('IP lists', () => {
  it('parseCidrList / parseKannelIpList throw only Error with the item, and what they accept works in ipAllowed', () => {
    fc.assert(
      fc.property(ipList, fc.constantFrom('127.0.0.1', '::1', '::ffff:10.0.0.1', 'fe80::1'), (text, ip) => {
        for (const parse of [parseCidrList, (t: string) => parseKannelIpList(t).allow]) {
          const r = onlyThrows(() => parse(text), [Error]);
          if (r instanceof Error) {
            expect(r.constructor).toBe(Error);
            continue;
          }
          expect(typeof ipAllowed(ip, r)).toBe('boolean');
        }
      }),
      params(1500),
    );
  });
});

describe('URL encoding for the HTTP services', () => {
  it('decodeURIComponent(urlEncodeOctets(utf8 of s)) = s', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => {
        const e = urlEncodeOctets(Buffer.from(s, 'utf8'));
        expect(e).toMatch(/^[A-Za-z0-9\-_.!~*'()%]*$/);
        expect(decodeURIComponent(e)).toBe(s);
      }),
      params(1000),
    );
  });
});

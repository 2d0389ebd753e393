import { describe, expect, it } from 'vitest';
import { matchMoRule, parseMoRoutes } from '../../src/lib/smpp/http/mo-routes.js';
import { expandGetUrl } from '../../src/lib/smpp/http/mo-url.js';

// MoRoutesFile's rules and Kannel's get-url escapes, without I/O.

describe('MoRoutesFile', () => {
  const rules = parseMoRoutes(
    [
      'keyword=STOP phone=modem1 get-url=http://a/stop   # both must hold',
      'keyword=stop get-url=http://a/stop-any',
      'to=+420600111222 post-url=http://a/number',
      'phone=modem2 esme=shop',
      'get-url=http://a/rest',
    ].join('\n'),
    'f',
  );
  const m = (text: string, receiver = '', phone?: string): string | undefined => {
    const r = matchMoRule(rules, { sender: '+1', receiver, phone, text });
    return r?.action.kind === 'esme' ? `esme:${r.action.systemId}` : r?.action.url;
  };

  it('first match wins; keyword is the first word in any case; numbers compare without + or 00', () => {
    expect(m('  sToP please', '', 'modem1')).toBe('http://a/stop');
    expect(m('STOP', '', 'modem9')).toBe('http://a/stop-any');
    expect(m('stopper', '00420600111222')).toBe('http://a/number');
    expect(m('hi', '420600111222', 'modem2')).toBe('http://a/number');
    expect(m('hi', '', 'modem2')).toBe('esme:shop');
    expect(m('hi')).toBe('http://a/rest');
    expect(rules[2]?.where).toBe('f:3');
  });

  it('no rules: nothing matches', () => {
    expect(
      matchMoRule(parseMoRoutes('# nothing\n\n', 'f'), {
        sender: '1',
        receiver: '',
        phone: undefined,
        text: 'x',
      }),
    ).toBe(undefined);
  });

  it('refuses bad lines with file:line', () => {
    expect(() => parseMoRoutes('get-url=http://a/ get-url=http://b/', 'f')).toThrow(
      /^f:1: get-url given twice/,
    );
    expect(() => parseMoRoutes('\n\nkeyword= get-url=http://a/', 'f')).toThrow(/^f:3: keyword has no value/);
    expect(() => parseMoRoutes('esme=' + 'x'.repeat(17), 'f')).toThrow(/not a system_id/);
  });
});

describe("Kannel's get-url escapes", () => {
  const base = {
    key: 'k1',
    sender: '00420777',
    receiver: '+420600',
    phone: 'mod em',
    received: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
  };
  it('expands as urltrans.c does', () => {
    const mo = { ...base, body: { kind: 'text' as const, text: 'Go a*b c d' } };
    expect(expandGetUrl('%k|%s|%S|%r|%a|%q|%Q|%p|%i|%t|%T|%c|%C|%%|%m|%u', mo, 'svc')).toBe(
      'Go|a*b|c|d|Go+a*b+c+d|%2B420777|%2B420600|00420777|mod%20em|2026-01-02+03:04:05|1767323045|0|UTF-8|%|-1|',
    );
    expect(expandGetUrl('%S', mo, '')).toBe('a~b');
  });
  it('binary: %b as octets, coding 1', () => {
    const mo = { ...base, body: { kind: 'data' as const, data: Buffer.from([0, 0x41, 0xff]) } };
    expect(expandGetUrl('%b %c %C %k', mo, '')).toBe('%00A%FF 1 8-BIT ');
  });
});

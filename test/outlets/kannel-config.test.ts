import { describe, expect, it } from 'vitest';
import { parseSmsdConfig } from '../../src/lib/config/smsd-config.js';
import {
  KannelConfigError,
  createKannelOutlet,
  readKannelConfig,
} from '../../src/lib/outlets/kannel/index.js';

const parse = (kannel: string, device = '127.0.0.1:13001', smsd = 'Service = null') =>
  parseSmsdConfig(
    `[gammu]\nConnection = kannel\nDevice = ${device}\n[smsd]\n${smsd}\n[kannel]\n${kannel}`,
    'smsdrc',
  );

describe('[kannel] settings', () => {
  it('takes the defaults and the smsd loader keeps [kannel] raw without warnings', () => {
    const { config, warnings } = parse('BoxId = smsgate1\n');
    expect(warnings.filter((w) => /kannel/i.test(w.message))).toEqual([]);
    const { settings } = readKannelConfig(config, 'smsdrc');
    expect(settings).toMatchObject({
      host: '127.0.0.1',
      port: 13001,
      boxId: 'smsgate1',
      heartbeatMs: 10_000,
      window: 100,
      reconnectMs: 1000,
      reconnectMaxMs: 30_000,
      ackTimeoutMs: 30_000,
      dlrMask: 27,
      dlrMaskNoReport: 0,
    });
  });

  it('reads every key', () => {
    const { config } = parse(
      'BoxId = b1\nHeartbeatInterval = 2.5\nWindow = 20\nReconnectDelay = 0.5\nReconnectDelayMax = 5\nAckTimeout = 9\nDlrMask = 31\nDlrMaskNoReport = 16\nSmscId = carrier1\nSender = My Shop\n',
      '[::1]:2000',
    );
    expect(readKannelConfig(config, 'smsdrc').settings).toMatchObject({
      host: '::1',
      port: 2000,
      heartbeatMs: 2500,
      window: 20,
      reconnectMs: 500,
      reconnectMaxMs: 5000,
      ackTimeoutMs: 9000,
      dlrMask: 31,
      dlrMaskNoReport: 16,
      smscId: 'carrier1',
      sender: 'My Shop',
    });
  });

  it('falls back to PhoneID for the box id', () => {
    const { config } = parse('', undefined, 'Service = null\nPhoneID = phone7');
    expect(readKannelConfig(config, 'smsdrc').settings.boxId).toBe('phone7');
  });

  it.each([
    ['Window = 0', /smsdrc:7: Window = 0 is not valid; use an integer from 1 to 10000/],
    ['DlrMask = 32', /smsdrc:7: DlrMask = 32 is not valid; use an integer from 0 to 31/],
    [
      'HeartbeatInterval = soon',
      /smsdrc:7: HeartbeatInterval = soon is not valid; use a number from 1 to 3600/,
    ],
    [
      'BoxId = two words',
      /smsdrc:7: BoxId = two words is not valid; use up to 64 printable characters without spaces/,
    ],
    [
      'ReconnectDelay = 10\nReconnectDelayMax = 2',
      /smsdrc:8: ReconnectDelayMax = 2 is below ReconnectDelay \(10\)/,
    ],
  ])('names file:line, key, value and what is allowed: %s', (text, re) => {
    const { config } = parse(
      `${text}\nBoxId = x\n`.replace(/^BoxId = two words\nBoxId = x\n$/, 'BoxId = two words\n'),
    );
    expect(() => readKannelConfig(config, 'smsdrc')).toThrow(KannelConfigError);
    expect(() => readKannelConfig(config, 'smsdrc')).toThrow(re);
  });

  it('needs a host:port Device and a box id', () => {
    expect(() => readKannelConfig(parse('BoxId = a', '/dev/ttyUSB0').config, 'smsdrc')).toThrow(
      /smsdrc: \[gammu\] Device = \/dev\/ttyUSB0 is not valid for Connection = kannel; use host:port/,
    );
    expect(() => readKannelConfig(parse('Window = 5').config, 'smsdrc')).toThrow(/needs \[kannel\] BoxId/);
  });

  it('warns about an unknown key, with a suggestion', () => {
    const { warnings } = readKannelConfig(parse('BoxId = a\nHeartbeat = 5\n').config, 'smsdrc');
    expect(warnings).toEqual([
      'smsdrc:8: unknown key Heartbeat in [kannel] is ignored; did you mean HeartbeatInterval?',
    ]);
  });

  it('createKannelOutlet returns an outlet that is not yet connected', () => {
    const logs: string[] = [];
    const outlet = createKannelOutlet(parse('BoxId = a\nWindow = 7\n').config, (l, m) =>
      logs.push(`${l} ${m}`),
    );
    expect(outlet.status()).toMatchObject({ connection: 'kannel', state: 'down', window: 7, inFlight: 0 });
  });
});

describe('[kannel] ReceiptTimeout, ReceiptLimit and SIGHUP', () => {
  it('reads the receipt bounds (defaults 48 h and 200000) and refuses bad ones', () => {
    expect(readKannelConfig(parse('BoxId = b\n').config, 'smsdrc').settings).toMatchObject({
      receiptTimeoutMs: 172_800_000,
      receiptLimit: 200_000,
    });
    expect(
      readKannelConfig(parse('BoxId = b\nReceiptTimeout = 3600\nReceiptLimit = 10\n').config, 'smsdrc')
        .settings,
    ).toMatchObject({ receiptTimeoutMs: 3_600_000, receiptLimit: 10 });
    expect(() => readKannelConfig(parse('BoxId = b\nReceiptLimit = 0\n').config, 'smsdrc')).toThrow(
      /smsdrc:\d+: ReceiptLimit = 0 is not valid/,
    );
  });

  it('a reload applies Window, timers, masks at once and names Device and BoxId for a restart', () => {
    const outlet = createKannelOutlet(parse('BoxId = b1\nWindow = 10\n').config, () => undefined);
    const r = outlet.reload?.(
      parse('BoxId = b2\nWindow = 3\nAckTimeout = 5\nDlrMask = 31\n', '127.0.0.1:13002').config,
    );
    expect(r).toEqual({ applied: ['Window', 'AckTimeout', 'DlrMask'], needRestart: ['Device', 'BoxId'] });
    expect(outlet.status().window).toBe(3);
    // Bad values: an error, nothing changed.
    expect(() => outlet.reload?.(parse('BoxId = b1\nWindow = 0\n').config)).toThrow(/Window/);
    expect(outlet.status().window).toBe(3);
  });
});

import { describe, expect, it } from 'vitest';
import {
  BoxProtocolError,
  FrameReader,
  MSG_ADMIN,
  MSG_SMS,
  SMS_FIELDS,
  decodePayload,
  emptySms,
  encodeMsg,
} from '../../src/lib/outlets/kannel/codec.js';

describe('Kannel box protocol codec', () => {
  it('encodes identify exactly as Kannel 1.4.5 does (outlets.md 1.1)', () => {
    const f = encodeMsg({ type: MSG_ADMIN, command: 3, boxcId: Buffer.from('outlet1') });
    expect(f.toString('hex')).toBe('00000013' + '00000001' + '00000003' + '00000007' + '6f75746c657431');
  });

  it('has the 31 sms fields of Kannel 1.4.5 and round-trips them, NULL and -1 included', () => {
    expect(SMS_FIELDS).toHaveLength(31);
    expect(SMS_FIELDS.map((f) => f[0]).slice(0, 8)).toEqual([
      'sender',
      'receiver',
      'udhdata',
      'msgdata',
      'time',
      'smsc_id',
      'smsc_number',
      'foreign_id',
    ]);
    expect(SMS_FIELDS.at(-1)?.[0]).toBe('meta_data');
    const sms = emptySms();
    sms.sender = Buffer.from('12345');
    sms.msgdata = Buffer.from([0, 1, 2, 255]);
    sms.udhdata = Buffer.alloc(0);
    sms.id = '0b7c2f4e-1a2b-4c3d-8e9f-001122334455';
    sms.sms_type = 2;
    sms.dlr_mask = 27;
    sms.time = -5;
    const frame = encodeMsg({ type: MSG_SMS, sms });
    // 4 (length) + 4 (type) + 21 integers + 10 strings (4 + bytes each, -1 when NULL).
    expect(frame.length).toBe(4 + 4 + 21 * 4 + 10 * 4 + 5 + 4 + 0 + 36);
    const back = decodePayload(frame.subarray(4));
    expect(back).toEqual({ type: MSG_SMS, sms });
  });

  it('splits a stream fed one byte at a time', () => {
    const a = encodeMsg({ type: 0, load: 7 });
    const b = encodeMsg({ type: 3, nack: 2, time: 9, id: '0b7c2f4e-1a2b-4c3d-8e9f-001122334455' });
    const r = new FrameReader(1024);
    const out: Buffer[] = [];
    for (const byte of Buffer.concat([a, b])) out.push(...r.push(Buffer.from([byte])));
    expect(out.map((p) => decodePayload(p))).toEqual([
      { type: 0, load: 7 },
      { type: 3, nack: 2, time: 9, id: '0b7c2f4e-1a2b-4c3d-8e9f-001122334455' },
    ]);
    expect(r.pending).toBe(0);
  });

  it('refuses a length above the bound as soon as the 4 length bytes are in', () => {
    const r = new FrameReader(1000);
    expect(() => r.push(Buffer.from('000003e9', 'hex'))).toThrow(
      /frame length 1001 exceeds the limit of 1000/,
    );
    expect(new FrameReader(1000).push(Buffer.from('000003e8', 'hex'))).toEqual([]);
  });

  it.each([
    ['an empty payload', '', /payload ends inside type/],
    ['an unknown type', '00000007', /unknown message type 7/],
    ['a truncated heartbeat', '0000000000', /payload ends inside heartbeat.load/],
    ['a UUID of the wrong form', '00000003000000000000000000000003616263', /ack.id: not a UUID/],
  ])('rejects %s', (_w, hex, re) => {
    expect(() => decodePayload(Buffer.from(hex, 'hex'))).toThrow(BoxProtocolError);
    expect(() => decodePayload(Buffer.from(hex, 'hex'))).toThrow(re);
  });
});

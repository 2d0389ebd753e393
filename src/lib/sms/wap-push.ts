/**
 * WAP push over SMS, as Gammu sends WAP and MMS indicators: 8-bit parts of at most 128 octets,
 * each with 16-bit application ports 2948 -> 9200 and a concatenation header (even a single part).
 */
export function wapPushParts(payload: Buffer, ref: number): { udh: Buffer; data: Buffer }[] {
  const perPart = 128;
  const total = Math.max(1, Math.ceil(payload.length / perPart));
  const parts: { udh: Buffer; data: Buffer }[] = [];
  for (let i = 0; i < total; i++) {
    parts.push({
      udh: Buffer.from([0x0b, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x00, 0x03, ref & 0xff, total, i + 1]),
      data: Buffer.from(payload.subarray(i * perPart, (i + 1) * perPart)),
    });
  }
  return parts;
}

const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

/** Service Indication (WAP-167) in WBXML, byte for byte what Gammu emits. */
export function serviceIndication(url: string, title: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x01, 0x06, 0x01, 0xae, 0x02, 0x05, 0x6a, 0x00, 0x45, 0xc6, 0x0b, 0x03]),
    cstr(url),
    Buffer.from([0x01, 0x03]),
    cstr(title),
    Buffer.from([0x01, 0x01]),
  ]);
}

/** MMS m-notification.ind (OMA MMS encapsulation 1.2) wrapped in a WAP push, as Gammu emits it. */
export function mmsNotification(url: string, title: string, sender: string): Buffer {
  const from = cstr(`${sender}/TYPE=PLMN`);
  const transactionId = url.slice(url.lastIndexOf('/') + 1);
  return Buffer.concat([
    Buffer.from([0xe6, 0x06, 0x22]),
    cstr('application/vnd.wap.mms-message'),
    Buffer.from([0xaf, 0x84, 0x8c, 0x82, 0x98]),
    cstr(transactionId),
    Buffer.from([0x8d, 0x92, 0x8a, 0x83, 0x89, from.length + 1, 0x80]),
    from,
    Buffer.from([0x96]),
    cstr(title),
    Buffer.from([0x88, 0x05, 0x81, 0x03, 0x02, 0xa3, 0xa3, 0x83]),
    cstr(url),
  ]);
}

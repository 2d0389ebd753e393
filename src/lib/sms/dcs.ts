import { PduError } from './errors.js';

export type Alphabet = 'gsm7' | '8bit' | 'ucs2';
export type MessageClass = -1 | 0 | 1 | 2 | 3;
export type MwiIndication = 'voicemail' | 'fax' | 'email' | 'other';

export interface MessageWaiting {
  /** false for group 1100 ("discard message"), true for 1101 / 1110 ("store message"). */
  store: boolean;
  /** Indication sense: set (true) or clear (false). */
  active: boolean;
  indication: MwiIndication;
}

/** TP-DCS decoded per 3GPP TS 23.038 section 4. */
export interface DcsInfo {
  raw: number;
  alphabet: Alphabet;
  messageClass: MessageClass;
  compressed: boolean;
  mwi?: MessageWaiting;
  /** Group 01xx: "message marked for automatic deletion". */
  autoDelete?: boolean;
  /** A reserved coding group or alphabet, read as GSM-7 as 23.038 tells receivers to. */
  reserved?: boolean;
}

const INDICATIONS: readonly MwiIndication[] = ['voicemail', 'fax', 'email', 'other'];
const ALPHABETS: readonly Alphabet[] = ['gsm7', '8bit', 'ucs2'];

function cls(dcs: number): MessageClass {
  return (dcs & 0x03) as 0 | 1 | 2 | 3;
}

export function decodeDcs(dcs: number): DcsInfo {
  if (!Number.isInteger(dcs) || dcs < 0 || dcs > 0xff) {
    throw new PduError('BAD_DCS', `DCS must be one octet, got ${dcs}`);
  }
  const group = dcs >> 4;
  if (group <= 0x07) {
    // 00xx general data coding, 01xx the same with automatic deletion.
    const alpha = (dcs >> 2) & 0x03;
    const info: DcsInfo = {
      raw: dcs,
      alphabet: ALPHABETS[alpha] ?? 'gsm7',
      messageClass: dcs & 0x10 ? cls(dcs) : -1,
      compressed: (dcs & 0x20) !== 0,
    };
    if (group >= 0x04) info.autoDelete = true;
    if (alpha === 3) info.reserved = true;
    return info;
  }
  if (group >= 0x0c && group <= 0x0e) {
    const mwi: MessageWaiting = {
      store: group !== 0x0c,
      active: (dcs & 0x08) !== 0,
      indication: INDICATIONS[dcs & 0x03] ?? 'other',
    };
    return { raw: dcs, alphabet: group === 0x0e ? 'ucs2' : 'gsm7', messageClass: -1, compressed: false, mwi };
  }
  if (group === 0x0f) {
    return { raw: dcs, alphabet: dcs & 0x04 ? '8bit' : 'gsm7', messageClass: cls(dcs), compressed: false };
  }
  // 1000..1011: reserved groups; 23.038 says to assume the GSM 7 bit default alphabet.
  return { raw: dcs, alphabet: 'gsm7', messageClass: -1, compressed: false, reserved: true };
}

export interface DcsOptions {
  alphabet: Alphabet;
  messageClass?: MessageClass;
  compressed?: boolean;
  autoDelete?: boolean;
  mwi?: MessageWaiting;
}

/** Gammu's choices: 00 / 04 / 08, plus 0x10|class when a class is given. */
export function encodeDcs(o: DcsOptions): number {
  const messageClass = o.messageClass ?? -1;
  if (![-1, 0, 1, 2, 3].includes(messageClass)) {
    throw new PduError('BAD_DCS', `bad message class ${messageClass}`);
  }
  if (o.mwi) {
    if (o.alphabet === '8bit' || o.compressed || messageClass !== -1 || o.autoDelete) {
      throw new PduError(
        'BAD_DCS',
        'message waiting groups carry only uncompressed GSM-7 or UCS2, without class',
      );
    }
    if (o.alphabet === 'ucs2' && !o.mwi.store) {
      throw new PduError('BAD_DCS', 'UCS2 message waiting must be "store"');
    }
    const group = o.alphabet === 'ucs2' ? 0xe0 : o.mwi.store ? 0xd0 : 0xc0;
    return group | (o.mwi.active ? 0x08 : 0) | INDICATIONS.indexOf(o.mwi.indication);
  }
  const alphabetBits = o.alphabet === 'gsm7' ? 0x00 : o.alphabet === '8bit' ? 0x04 : 0x08;
  return (
    (o.autoDelete ? 0x40 : 0) |
    (o.compressed ? 0x20 : 0) |
    (messageClass >= 0 ? 0x10 | messageClass : 0) |
    alphabetBits
  );
}

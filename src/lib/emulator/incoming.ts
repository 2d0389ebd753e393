import {
  type Alphabet,
  type MessageClass,
  PduError,
  buildConcatUdh,
  decodePdu,
  encodeDeliver,
  hexToBuffer,
  splitData,
  splitText,
} from '../sms/index.js';
import { EmulatorError } from './errors.js';
import type { StoredKind } from './storage.js';

/** A message "from the network" described by its content; the emulator encodes the DELIVER PDU(s). */
export interface IncomingMessage {
  /** Sender: phone number (+ for international) or alphanumeric name. */
  from: string;
  text?: string;
  /** Default 'auto': GSM-7 when the text fits the alphabet, else UCS2; 8bit needs `data`. */
  coding?: Alphabet | 'auto';
  /** 8-bit payload, hex in JSON. */
  data?: string | Uint8Array;
  /** SMSC in the PDU; default the modem's SMSC. */
  smsc?: string;
  /** Service-centre time stamp; default now. ISO string, epoch ms or Date. */
  timestamp?: string | number | Date;
  /** Zone written in the time stamp, minutes east of UTC; default the modem's. */
  tzMinutes?: number;
  class?: MessageClass;
  pid?: number;
  /** 'auto' (default): a long text becomes concatenated parts with a UDH; 'single': refuse long text. */
  parts?: 'auto' | 'single';
  /** Concatenation reference size, default '8bit'. */
  concat?: '8bit' | '16bit';
  /** Concatenation reference; default the modem's next one. Reuse it to send missing parts later. */
  ref?: number;
  /** Which parts arrive and in what order (1-based); default all in order. Out of order and missing parts. */
  partOrder?: number[];
}

/** A PDU exactly as the modem will store or route it (SMSC field included). */
export interface IncomingPdu {
  pdu: string;
}

export type IncomingInput = string | IncomingPdu | IncomingMessage;

export interface BuiltPdu {
  pdu: string;
  tpduLength: number;
  kind: StoredKind;
  messageClass: MessageClass;
}

export interface IncomingDefaults {
  smsc: string;
  tzMinutes: number;
  now: Date;
  nextRef: () => number;
}

const MESSAGE_KEYS = new Set([
  'from',
  'text',
  'coding',
  'data',
  'smsc',
  'timestamp',
  'tzMinutes',
  'class',
  'pid',
  'parts',
  'concat',
  'ref',
  'partOrder',
]);

function fromRawPdu(hex: string): BuiltPdu {
  try {
    const pdu = decodePdu(hex);
    const normalized = hexToBuffer(hex).toString('hex').toUpperCase();
    if (pdu.type === 'deliver') {
      return { pdu: normalized, tpduLength: pdu.tpduLength, kind: 'deliver', messageClass: pdu.messageClass };
    }
    if (pdu.type === 'status-report') {
      return { pdu: normalized, tpduLength: pdu.tpduLength, kind: 'status-report', messageClass: -1 };
    }
    throw new EmulatorError('an incoming PDU must be an SMS-DELIVER or SMS-STATUS-REPORT, not an SMS-SUBMIT');
  } catch (e) {
    if (e instanceof PduError) throw new EmulatorError(`bad incoming PDU: ${e.message}`);
    throw e;
  }
}

function toDate(t: string | number | Date | undefined, now: Date): Date {
  if (t === undefined) return now;
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw new EmulatorError(`bad timestamp ${JSON.stringify(t)}`);
  return d;
}

function toBytes(data: string | Uint8Array): Buffer {
  if (typeof data !== 'string') return Buffer.from(data);
  try {
    return hexToBuffer(data);
  } catch {
    // parsing only: the error says what was wrong
    throw new EmulatorError('data must be hex');
  }
}

/** Encodes an incoming message into the DELIVER PDU(s) the network would hand the modem, in arrival order. */
export function buildIncoming(input: IncomingInput, defaults: IncomingDefaults): BuiltPdu[] {
  if (typeof input === 'string') return [fromRawPdu(input)];
  if ('pdu' in input) {
    if (typeof input.pdu !== 'string') throw new EmulatorError('pdu must be a hex string');
    return [fromRawPdu(input.pdu)];
  }
  for (const key of Object.keys(input)) {
    if (!MESSAGE_KEYS.has(key)) throw new EmulatorError(`unknown incoming message field "${key}"`);
  }
  const m = input;
  if (typeof m.from !== 'string' || m.from === '') throw new EmulatorError('incoming message needs "from"');
  const requested = m.coding ?? 'auto';
  const concat = m.concat ?? '8bit';
  let coding: Alphabet;
  let contents: Array<{ text?: string; data?: Buffer }>;
  if (requested === '8bit' || (m.data !== undefined && requested === 'auto')) {
    if (m.text !== undefined) throw new EmulatorError('8bit messages take "data", not "text"');
    coding = '8bit';
    contents = splitData(toBytes(m.data ?? ''), m.parts === 'single' ? 'none' : concat).map((data) => ({
      data,
    }));
    if (m.parts === 'single' && toBytes(m.data ?? '').length > 140)
      throw new EmulatorError('data too long for one message (parts: "single")');
  } else {
    if (m.data !== undefined) throw new EmulatorError(`${requested} messages take "text", not "data"`);
    const split = splitText(m.text ?? '', { coding: requested, concat });
    if (m.parts === 'single' && split.parts.length > 1)
      throw new EmulatorError(`text needs ${split.parts.length} messages (parts: "single")`);
    coding = split.coding;
    contents = split.parts.map((text) => ({ text }));
  }
  const total = contents.length;
  const ref = total > 1 ? (m.ref ?? defaults.nextRef()) : 0;
  const order = m.partOrder ?? contents.map((_, i) => i + 1);
  const scts = toDate(m.timestamp, defaults.now);
  return order.map((seq) => {
    const content = contents[seq - 1];
    if (content === undefined) throw new EmulatorError(`partOrder names part ${seq} of ${total}`);
    const udh = total > 1 ? buildConcatUdh({ ref, total, seq, ref16bit: concat === '16bit' }) : undefined;
    try {
      const encoded = encodeDeliver({
        smsc: m.smsc ?? defaults.smsc,
        originator: m.from,
        ...content,
        coding,
        messageClass: m.class ?? -1,
        pid: m.pid,
        udh,
        scts,
        tzMinutes: m.tzMinutes ?? defaults.tzMinutes,
      });
      return {
        pdu: encoded.hex,
        tpduLength: encoded.tpduLength,
        kind: 'deliver',
        messageClass: m.class ?? -1,
      };
    } catch (e) {
      if (e instanceof PduError) throw new EmulatorError(`cannot encode incoming message: ${e.message}`);
      throw e;
    }
  });
}

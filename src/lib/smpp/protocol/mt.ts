import crypto from 'node:crypto';
import { decodeGsm7, isGsm7Text, gsm7Septets } from '../../sms/gsm7.js';
import { decodeDcs } from '../../sms/dcs.js';
import { splitText, splitData, partCapacity } from '../../sms/split.js';
import { buildConcatUdh, parseUdh } from '../../sms/udh.js';
import { classifyAddress } from '../../sms/address.js';
import { relativeValiditySeconds } from '../../sms/submit.js';
import type { BackupEntry } from '../../smsbackup/types.js';
import { localBackupDate } from '../../smsbackup/writer.js';
import { STATUS, TLV, fieldBuffer, fieldInt, fieldString, type RawPdu } from './pdu.js';

/**
 * submit_sm / data_sm → a message for the spool outbox, or the SMPP status that refuses it.
 *
 * What an ESME hands us is decoded to text (or kept as 8-bit data), then re-encoded the way the
 * modem sends best: GSM-7 when every character fits, else UCS-2. Long messages come in three forms
 * and all end up as one outbox file: a segment with its own UDH (UDHI) or SAR TLVs is one part
 * carrying a concatenation header, so the handset joins the segments; message_payload (or a
 * short_message too long for one SMS) is split here into a multipart message.
 */

export interface SubmitRequest {
  destination: string;
  source: { ton: number; npi: number; addr: string };
  entries: BackupEntry[];
  /** registered_delivery bits 0-1: 0 none, 1 success and failure, 2 failure only. */
  receipt: 0 | 1 | 2;
  /** registered_delivery bit 4: an intermediate notification (ENROUTE) when the modem has sent it. */
  intermediate: boolean;
  /** Outbox priority letter (A first). */
  priority: string;
  /** Relative TP-VP octet from validity_period (smsd run sends it as the message's validity). */
  validity?: number;
  /** SMPP priority_flag 0..3 (the SQL outbox's Priority column; higher goes first). */
  priorityFlag?: number;
  /** validity_period in seconds as asked (TP-VP rounds it up): when a receipt stops being awaited. */
  validitySeconds?: number;
}

export type SubmitCheck =
  { ok: true; request: SubmitRequest } | { ok: false; status: number; reason: string };

const refuse = (status: number, reason: string): SubmitCheck => ({ ok: false, status, reason });

export type Decoded =
  | {
      kind: 'text';
      text: string;
      messageClass: number;
      /** Sent as UCS-2 even when GSM-7 would do (Kannel's coding=2). */
      ucs2?: boolean;
    }
  | { kind: 'data'; data: Buffer; messageClass: number };

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function decodeBody(dc: number, body: Buffer): Decoded {
  const ascii = (what: string): string => {
    for (const b of body)
      if (b > 0x7f) throw new Refusal(STATUS.RSUBMITFAIL, `${what} text has a byte above 0x7F`);
    return what === 'IA5' ? body.toString('latin1') : decodeGsm7([...body]);
  };
  switch (dc) {
    case 0x00:
      // SMSC default alphabet: GSM 03.38, one septet per octet (unpacked), as SMPP sends it.
      return { kind: 'text', text: ascii('GSM'), messageClass: -1 };
    case 0x01:
      return { kind: 'text', text: ascii('IA5'), messageClass: -1 };
    case 0x03:
      return { kind: 'text', text: body.toString('latin1'), messageClass: -1 };
    case 0x02:
    case 0x04:
      return { kind: 'data', data: body, messageClass: -1 };
    case 0x08:
      if (body.length % 2 !== 0)
        throw new Refusal(STATUS.RINVMSGLEN, 'UCS-2 text has an odd number of octets');
      return { kind: 'text', text: Buffer.from(body).swap16().toString('utf16le'), messageClass: -1 };
  }
  // GSM DCS groups with a message class: 0x10-0x1F (general, uncompressed) and 0xF0-0xFF.
  if ((dc >= 0x10 && dc <= 0x1f) || dc >= 0xf0) {
    const info = decodeDcs(dc);
    if (info.reserved) throw new Refusal(STATUS.RSUBMITFAIL, `data_coding 0x${dc.toString(16)} is reserved`);
    if (info.alphabet === '8bit') return { kind: 'data', data: body, messageClass: info.messageClass };
    if (info.alphabet === 'ucs2') {
      if (body.length % 2 !== 0)
        throw new Refusal(STATUS.RINVMSGLEN, 'UCS-2 text has an odd number of octets');
      return {
        kind: 'text',
        text: Buffer.from(body).swap16().toString('utf16le'),
        messageClass: info.messageClass,
      };
    }
    return { kind: 'text', text: ascii('GSM'), messageClass: info.messageClass };
  }
  throw new Refusal(STATUS.RSUBMITFAIL, `data_coding 0x${dc.toString(16).padStart(2, '0')} is not supported`);
}

/** `+digits` for international, digits otherwise; alphanumeric destinations cannot be sent to. */
function destinationNumber(ton: number, addr: string): string {
  let a = addr.trim();
  if (a.length === 0) throw new Refusal(STATUS.RINVDSTADR, 'empty destination_addr');
  if (a.length > 20) throw new Refusal(STATUS.RINVDSTADR, 'destination_addr longer than 20 characters');
  if (ton === 1 && !a.startsWith('+')) a = `+${a.startsWith('00') ? a.slice(2) : a}`;
  const kind = classifyAddress(a);
  if (kind !== 'international' && kind !== 'national')
    throw new Refusal(STATUS.RINVDSTADR, `destination_addr "${addr}" is not a phone number`);
  if (ton === 5) throw new Refusal(STATUS.RINVDSTADR, 'destination_addr cannot be alphanumeric');
  return a;
}

/** What every part of a message shares. */
interface EntryBase {
  number: string;
  receipt: boolean;
  dateTime: BackupEntry['dateTime'];
  messageClass: number;
}

type EntryBody = Pick<BackupEntry, 'text' | 'coding' | 'length'> & Pick<BackupEntry, 'data' | 'udh'>;

function baseEntry(number: string, receipt: boolean, now: Date, messageClass: number): EntryBase {
  return { number, receipt, dateTime: localBackupDate(now), messageClass };
}

/** One part. Written out as a literal: an object spread of the shared fields costs microseconds. */
function entryOf(b: EntryBase, body: EntryBody): BackupEntry {
  const e: BackupEntry = {
    pdu: b.receipt ? 'Status_Report' : 'Submit',
    dateTime: b.dateTime,
    state: 'Sent',
    number: b.number,
    name: '',
    folder: 1,
    messageClass: b.messageClass,
    replySmsc: false,
    rejectDuplicates: false,
    replaceMessage: 0,
    messageReference: 0,
    text: body.text,
    coding: body.coding,
    length: body.length,
  };
  if (body.data) e.data = body.data;
  if (body.udh) e.udh = body.udh;
  return e;
}

/** One SMS carrying its concatenation header: the text must fit beside the UDH. */
function segmentEntry(base: EntryBase, udh: Buffer, d: Decoded): BackupEntry {
  const room = 140 - udh.length;
  if (d.kind === 'data') {
    if (d.data.length > room)
      throw new Refusal(
        STATUS.RINVMSGLEN,
        `8-bit segment of ${d.data.length} octets does not fit beside its UDH`,
      );
    return entryOf(base, { udh, text: '', data: Buffer.from(d.data), coding: '8bit', length: d.data.length });
  }
  const gsm = !d.ucs2 && isGsm7Text(d.text);
  const fits = gsm ? gsm7Septets(d.text) <= 160 - Math.ceil((udh.length * 8) / 7) : d.text.length * 2 <= room;
  if (!fits) throw new Refusal(STATUS.RINVMSGLEN, 'segment text does not fit one SMS beside its UDH');
  return entryOf(base, {
    udh,
    text: d.text,
    coding: gsm ? 'Default_No_Compression' : 'Unicode_No_Compression',
    length: d.text.length,
  });
}

/** A whole message, split like gammu-smsd-inject splits long texts. */
function wholeEntries(base: EntryBase, d: Decoded): BackupEntry[] {
  const ref = crypto.randomInt(0, 256);
  if (d.kind === 'data') {
    const parts = d.data.length <= partCapacity('8bit', 'none') ? [d.data] : splitData(d.data, '8bit');
    return parts.map((p, i) =>
      entryOf(base, {
        text: '',
        data: Buffer.from(p),
        coding: '8bit',
        length: p.length,
        udh:
          parts.length > 1
            ? buildConcatUdh({ ref, total: parts.length, seq: i + 1, ref16bit: false })
            : undefined,
      }),
    );
  }
  const split = splitText(d.text, { coding: d.ucs2 ? 'ucs2' : 'auto', concat: '8bit' });
  return split.parts.map((p, i) =>
    entryOf(base, {
      text: p,
      coding: split.coding === 'ucs2' ? 'Unicode_No_Compression' : 'Default_No_Compression',
      length: p.length,
      udh:
        split.parts.length > 1
          ? buildConcatUdh({ ref, total: split.parts.length, seq: i + 1, ref16bit: false })
          : undefined,
    }),
  );
}

function tlvInt(pdu: RawPdu, tag: number): number | undefined {
  const b = pdu.tlvs.get(tag);
  if (!b) return undefined;
  if (b.length === 1) return b.readUInt8(0);
  if (b.length === 2) return b.readUInt16BE(0);
  throw new Refusal(STATUS.RINVTLVLEN, `TLV 0x${tag.toString(16).padStart(4, '0')} has length ${b.length}`);
}

/**
 * SMPP time (3.4 §7.1.1), `YYMMDDhhmmsstnnp`: relative (`R`) or absolute with the offset from UTC
 * in quarter hours (`+`/`-`) → seconds from `now`. Throws a Refusal with `status` when malformed.
 */
export function smppTimeSeconds(s: string, now: Date, status: number): number {
  const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d)(\d\d)([R+-])$/.exec(s);
  if (!m) throw new Refusal(status, `"${s}" is not an SMPP time (YYMMDDhhmmsstnnp)`);
  const [yy, mo, dd, hh, mi, ss, , nn] = m.slice(1, 9).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (m[9] === 'R') return (((yy * 365 + mo * 30 + dd) * 24 + hh) * 60 + mi) * 60 + ss;
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59 || nn > 48)
    throw new Refusal(status, `"${s}" is not a valid absolute time`);
  const offsetMs = nn * 15 * 60_000 * (m[9] === '+' ? 1 : -1);
  return Math.floor((Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss) - offsetMs - now.getTime()) / 1000);
}

/** The smallest relative TP-VP that lasts at least `seconds` (GSM 03.40 9.2.3.12.1). */
export function relativeValidity(seconds: number): number {
  for (let vp = 0; vp < 255; vp++) if (relativeValiditySeconds(vp) >= seconds) return vp;
  return 255;
}

/** Validates a submit_sm or data_sm and builds its outbox entries. */
export function checkSubmit(pdu: RawPdu, now = new Date()): SubmitCheck {
  try {
    return { ok: true, request: build(pdu, now) };
  } catch (err) {
    if (err instanceof Refusal) return refuse(err.status, err.message);
    return refuse(STATUS.RSUBMITFAIL, `cannot build the message: ${(err as Error).message}`);
  }
}

function build(pdu: RawPdu, now: Date): SubmitRequest {
  const isData = pdu.command === 'data_sm';
  const destination = destinationNumber(fieldInt(pdu, 'dest_addr_ton'), fieldString(pdu, 'destination_addr'));
  const source = {
    ton: fieldInt(pdu, 'source_addr_ton'),
    npi: fieldInt(pdu, 'source_addr_npi'),
    addr: fieldString(pdu, 'source_addr'),
  };
  if (source.addr.length > 20) throw new Refusal(STATUS.RINVSRCADR, 'source_addr longer than 20 characters');
  const esm = fieldInt(pdu, 'esm_class');
  if (esm & 0x3c)
    throw new Refusal(
      STATUS.RINVESMCLASS,
      `esm_class 0x${esm.toString(16)}: only a plain message (with UDHI) can be submitted`,
    );
  const udhi = (esm & 0x40) !== 0;
  const rd = fieldInt(pdu, 'registered_delivery');
  const receipt = rd & 0x03;
  if (receipt === 3)
    throw new Refusal(STATUS.RINVREGDLVFLG, 'registered_delivery bits 0-1 = 3 are reserved in SMPP 3.4');
  if (!isData && fieldString(pdu, 'schedule_delivery_time') !== '')
    throw new Refusal(0x61, 'scheduled delivery (schedule_delivery_time) is not supported');
  const vpText = isData ? '' : fieldString(pdu, 'validity_period');
  let validity: number | undefined;
  let validitySeconds: number | undefined;
  if (vpText !== '') {
    const seconds = smppTimeSeconds(vpText, now, 0x62);
    if (seconds <= 0) throw new Refusal(0x62, `validity_period ${vpText} has already passed`);
    validity = relativeValidity(seconds);
    validitySeconds = seconds;
  }
  const dc = fieldInt(pdu, 'data_coding');
  const short = isData ? Buffer.alloc(0) : fieldBuffer(pdu, 'short_message');
  const payload = pdu.tlvs.get(TLV.message_payload);
  if (payload && short.length > 0)
    throw new Refusal(STATUS.RINVTLVVAL, 'both short_message and message_payload are set');
  const body = payload ?? short;
  if (isData && !payload) throw new Refusal(STATUS.RMISSINGTLV, 'data_sm needs message_payload');
  const sarRef = tlvInt(pdu, TLV.sar_msg_ref_num);
  const sarTotal = tlvInt(pdu, TLV.sar_total_segments);
  const sarSeq = tlvInt(pdu, TLV.sar_segment_seqnum);
  const sar = sarRef !== undefined || sarTotal !== undefined || sarSeq !== undefined;
  const flag = fieldInt(pdu, 'priority_flag');
  const priority = ['C', 'B', 'A', 'A'][flag] ?? 'C';

  let udh: Buffer | undefined;
  let text = body;
  if (udhi) {
    if (sar) throw new Refusal(STATUS.RINVTLVVAL, 'SAR TLVs together with a UDH (esm_class UDHI)');
    const udhl = body[0];
    if (udhl === undefined || udhl + 1 > body.length)
      throw new Refusal(STATUS.RINVESMCLASS, 'UDHI set but the UDH length runs past the message');
    udh = Buffer.from(body.subarray(0, udhl + 1));
    text = body.subarray(udhl + 1);
  } else if (sar) {
    if (sarRef === undefined || sarTotal === undefined || sarSeq === undefined)
      throw new Refusal(
        STATUS.RMISSINGTLV,
        'SAR needs sar_msg_ref_num, sar_total_segments and sar_segment_seqnum',
      );
    if (sarTotal < 1 || sarSeq < 1 || sarSeq > sarTotal)
      throw new Refusal(STATUS.RINVTLVVAL, `SAR segment ${sarSeq} of ${sarTotal}`);
    udh = buildConcatUdh({ ref: sarRef, total: sarTotal, seq: sarSeq, ref16bit: sarRef > 0xff });
  }
  return compose(
    {
      destination,
      source,
      body: decodeBody(dc, text),
      ...(udh ? { udh } : {}),
      receipt: receipt as 0 | 1 | 2,
      intermediate: (rd & 0x10) !== 0,
      priority,
      ...(flag >= 1 && flag <= 3 ? { priorityFlag: flag } : {}),
      ...(validity !== undefined ? { validity } : {}),
      ...(validitySeconds !== undefined ? { validitySeconds } : {}),
    },
    now,
  );
}

/** A message decoded from whatever carried it (an SMPP PDU, an HTTP request). */
export interface MessageInput {
  /** Already checked (destinationNumber). */
  destination: string;
  source: { ton: number; npi: number; addr: string };
  body: Decoded;
  /** One segment with its own UDH (checked here), else a whole message split as needed. */
  udh?: Buffer;
  receipt: 0 | 1 | 2;
  intermediate: boolean;
  /** Ask the network for a status report even without `receipt` (HTTP dlr-mask). */
  statusReport?: boolean;
  priority: string;
  priorityFlag?: number;
  validity?: number;
  validitySeconds?: number;
}

/** The outbox entries of a decoded message: one segment beside its UDH, or split like gammu-smsd-inject. */
export function composeMessage(m: MessageInput, now = new Date()): SubmitCheck {
  try {
    return { ok: true, request: compose(m, now) };
  } catch (err) {
    if (err instanceof Refusal) return refuse(err.status, err.message);
    return refuse(STATUS.RSUBMITFAIL, `cannot build the message: ${(err as Error).message}`);
  }
}

function compose(m: MessageInput, now: Date): SubmitRequest {
  const base = baseEntry(m.destination, m.receipt !== 0 || m.statusReport === true, now, m.body.messageClass);
  let entries: BackupEntry[];
  if (m.udh) {
    let elements;
    try {
      elements = parseUdh(m.udh);
    } catch (err) {
      throw new Refusal(STATUS.RINVESMCLASS, `malformed UDH: ${(err as Error).message}`);
    }
    // A concatenation element the phone cannot place (total 0, sequence 0 or past the total) is
    // kept raw by the parser (23.040 says a receiver ignores it); a submit with one is refused,
    // else the recipient gets a part that never joins its message.
    for (const e of elements)
      if (e.kind === 'raw' && (e.iei === 0x00 || e.iei === 0x08)) {
        const d = e.data;
        const [total, seq] = e.iei === 0x00 ? [d[1], d[2]] : [d[2], d[3]];
        throw new Refusal(
          STATUS.RINVESMCLASS,
          `concatenation UDH with part ${seq ?? '?'} of ${total ?? '?'}: parts count from 1 up to the total`,
        );
      }
    entries = [segmentEntry(base, m.udh, m.body)];
  } else entries = wholeEntries(base, m.body);
  const request: SubmitRequest = {
    destination: m.destination,
    source: m.source,
    entries,
    receipt: m.receipt,
    intermediate: m.intermediate,
    priority: m.priority,
  };
  if (m.validity !== undefined) request.validity = m.validity;
  if (m.priorityFlag !== undefined) request.priorityFlag = m.priorityFlag;
  if (m.validitySeconds !== undefined) request.validitySeconds = m.validitySeconds;
  return request;
}

/** A phone number for the outbox, or the reason it is none (the SMPP status of the refusal). */
export function checkDestination(
  ton: number,
  addr: string,
): { ok: true; number: string } | { ok: false; reason: string } {
  try {
    return { ok: true, number: destinationNumber(ton, addr) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/** Random bytes drawn 4 KiB at a time: one getrandom call per ~500 IDs instead of one each. */
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomPool = crypto.randomBytes(Math.max(4096, bytes));
    randomOffset = 0;
  }
  randomOffset += bytes;
  return randomPool.toString('hex', randomOffset - bytes, randomOffset);
}

/**
 * Random message IDs in the account's format: lower-case hex or decimal digits (some ESMEs store IDs
 * as numbers), default 16 hex digits. Random, so no counter has to survive a restart.
 */
export function newMessageId(
  format: { format: 'hex' | 'decimal'; length: number } = { format: 'hex', length: 16 },
): string {
  if (format.format === 'hex') return randomHex(Math.ceil(format.length / 2)).slice(0, format.length);
  let id = String(crypto.randomInt(1, 10));
  while (id.length < format.length) id += String(crypto.randomInt(0, 10));
  return id;
}

import type { BackupEntry } from '../smsbackup/types.js';
import { localBackupDate } from '../smsbackup/writer.js';
import { splitText, truncateToSingle } from '../sms/split.js';
import { buildConcatUdh } from '../sms/udh.js';
import { classifyAddress } from '../sms/address.js';
import { wapPushParts, serviceIndication, mmsNotification } from '../sms/wap-push.js';
import { parameterError, InjectError, EXIT } from './errors.js';

/** What one `smsd inject` call asks for, after its arguments are parsed. */
export type MessageRequest =
  | ({ type: 'text' } & TextRequest)
  | { type: 'ussd'; number: string }
  | { type: 'wapindicator'; number: string; url: string; title: string }
  | { type: 'mmsindicator'; number: string; url: string; title: string; sender: string };

export interface TextRequest {
  number: string;
  text: string;
  coding: 'gsm7' | 'ucs2' | 'auto';
  /** `-len`/`-autolen`: concatenated long message (text given before the option is cut to it). */
  maxLength?: number;
  /**
   * Bytes of `-text` seen before `-len`/`-autolen` (0 when the text comes after it or from stdin):
   * the M of the `N / M` that gammu-smsd-inject prints, since it prints what it had read so far.
   */
  bytesReadBeforeLength?: number;
  ref16bit: boolean;
  flash: boolean;
  report: boolean;
  /** Relative TP-VP byte from `-validity`. */
  validity?: number;
  smsc?: string;
  maxSms?: number;
  replyPath: boolean;
  replaceMessage: number;
}

/** A built message: its parts in SMS-backup form plus what the backup format cannot carry. */
export interface BuiltMessage {
  number: string;
  entries: BackupEntry[];
  validity?: number;
  smsc?: string;
  /** `<limit> / <bytes read>` that Gammu prints for `-len`/`-autolen`. */
  lengthNote?: string;
}

export interface BuildContext {
  now: Date;
  /** Concatenation reference for this message (8 or 16 bits used). */
  ref: number;
}

function baseEntry(number: string, now: Date): Omit<BackupEntry, 'text' | 'coding' | 'length'> {
  return {
    pdu: 'Submit',
    dateTime: localBackupDate(now),
    state: 'Sent',
    number,
    name: '',
    folder: 1,
    messageClass: -1,
    replySmsc: false,
    rejectDuplicates: false,
    replaceMessage: 0,
    messageReference: 0,
  };
}

export function validateRecipient(number: string): void {
  if (number.length === 0) throw parameterError('Not enough parameters!');
  const kind = classifyAddress(number);
  // A leading + promises an international number; "+12ab" is a typo, not a sender name.
  if (kind === 'invalid' || (number.startsWith('+') && kind !== 'international'))
    throw new InjectError(
      `"${number}" is neither a phone number (digits with an optional leading +, * and #) nor an alphanumeric sender (up to 11 GSM characters)`,
      EXIT.parameter,
    );
}

/**
 * The SMSC goes into a `; smsgate: SMSC = "..."` line of the outbox file: anything but a number
 * (a line break above all) would break the file or add lines to it.
 */
function validateSmsc(smsc: string): void {
  const kind = classifyAddress(smsc);
  if (smsc !== '' && kind !== 'international' && kind !== 'national')
    throw parameterError(
      `SMSC number ${JSON.stringify(smsc)} is not a phone number (digits with an optional leading +)`,
    );
}

function buildText(r: TextRequest, ctx: BuildContext): BuiltMessage {
  if (r.smsc !== undefined) validateSmsc(r.smsc);
  const long = r.maxLength !== undefined;
  const text = r.text; // already cut to -len where Gammu cuts it (args.ts)
  const concat = long ? (r.ref16bit ? '16bit' : '8bit') : 'none';
  const split = long
    ? splitText(text, { coding: r.coding, concat })
    : {
        coding: r.coding === 'ucs2' ? ('ucs2' as const) : ('gsm7' as const),
        parts: [truncateToSingle(text, r.coding === 'ucs2' ? 'ucs2' : 'gsm7')],
      };
  const parts = split.parts;
  if (r.maxSms !== undefined && parts.length > r.maxSms)
    throw new InjectError(
      `There are ${parts.length} SMS messages packed and the limit is ${r.maxSms}. Exiting`,
      EXIT.createFailed,
    );
  const entries = parts.map((part, i): BackupEntry => {
    const e: BackupEntry = {
      ...baseEntry(r.number, ctx.now),
      pdu: r.report ? 'Status_Report' : 'Submit',
      text: part,
      coding: split.coding === 'ucs2' ? 'Unicode_No_Compression' : 'Default_No_Compression',
      length: part.length,
      messageClass: r.flash ? 0 : -1,
      replySmsc: r.replyPath,
      replaceMessage: r.replaceMessage,
    };
    if (parts.length > 1)
      e.udh = buildConcatUdh({ ref: ctx.ref, total: parts.length, seq: i + 1, ref16bit: r.ref16bit });
    return e;
  });
  const built: BuiltMessage = { number: r.number, entries };
  if (r.validity !== undefined) built.validity = r.validity;
  if (r.smsc !== undefined) built.smsc = r.smsc;
  if (long) built.lengthNote = `${r.maxLength} / ${r.bytesReadBeforeLength ?? 0}`;
  return built;
}

/** WAP push over SMS: 16-bit ports 2948 -> 9200 and a concatenation header on every part, as Gammu sends it. */
function buildWapPush(number: string, payload: Buffer, ctx: BuildContext): BuiltMessage {
  const entries = wapPushParts(payload, ctx.ref).map((p): BackupEntry => ({
    ...baseEntry(number, ctx.now),
    udh: p.udh,
    text: '',
    data: p.data,
    coding: '8bit',
    length: p.data.length,
    messageClass: 1,
  }));
  return { number, entries };
}

export function buildMessage(req: MessageRequest, ctx: BuildContext): BuiltMessage {
  switch (req.type) {
    case 'text':
      validateRecipient(req.number);
      return buildText(req, ctx);
    case 'ussd': {
      if (!/^[0-9*#+]+$/.test(req.number))
        throw parameterError(`"${req.number}" is not a USSD code (digits, * and #, e.g. *101#)`);
      const e: BackupEntry = {
        ...baseEntry(req.number, ctx.now),
        text: '',
        data: Buffer.alloc(0),
        coding: '8bit',
        length: 0,
        messageClass: 127,
      };
      return { number: req.number, entries: [e] };
    }
    case 'wapindicator':
      validateRecipient(req.number);
      return buildWapPush(req.number, serviceIndication(req.url, req.title), ctx);
    case 'mmsindicator':
      validateRecipient(req.number);
      return buildWapPush(req.number, mmsNotification(req.url, req.title, req.sender), ctx);
  }
}

import { PduError } from './errors.js';
import { gsm7Septets, isGsm7Extension, isGsm7Text } from './gsm7.js';

export type TextCoding = 'gsm7' | 'ucs2';
export type ConcatMode = 'none' | '8bit' | '16bit';

export interface SplitOptions {
  /** 'auto' = GSM-7 when every character is in the alphabet or its extension, else UCS2. */
  coding?: TextCoding | 'auto';
  /** Concatenation reference size; 'none' truncates to one message. Default '8bit'. */
  concat?: ConcatMode;
}

export interface SplitResult {
  coding: TextCoding;
  /**
   * Text of each physical message. A single part is sent without a concatenation UDH (as Gammu
   * does); several parts each need `buildConcatUdh({ref, total: parts.length, seq: i + 1, ...})`.
   */
  parts: string[];
}

/** Parts are numbered with one octet. */
const MAX_PARTS = 255;

/** Capacity of one message in septets (gsm7), UTF-16 code units (ucs2) or octets (8bit). */
export function partCapacity(coding: TextCoding | '8bit', concat: ConcatMode): number {
  // 140 octets minus the UDH (6 octets for 8-bit ref, 7 for 16-bit); GSM-7 gets 8/7 of what is left.
  const udh = concat === 'none' ? 0 : concat === '8bit' ? 6 : 7;
  const octets = 140 - udh;
  if (coding === '8bit') return octets;
  if (coding === 'ucs2') return Math.floor(octets / 2);
  return Math.floor((octets * 8) / 7);
}

export function chooseCoding(text: string): TextCoding {
  return isGsm7Text(text) ? 'gsm7' : 'ucs2';
}

function isLead(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}

/** End of the longest run from `start` within `capacity` septets, never separating an escape or surrogate pair. */
function gsm7Cut(text: string, start: number, capacity: number): number {
  let used = 0;
  let i = start;
  while (i < text.length) {
    const unitLen = isLead(text.charCodeAt(i)) && i + 1 < text.length ? 2 : 1;
    const cost = unitLen === 2 ? 2 : isGsm7Extension(text.charAt(i)) ? 2 : 1;
    if (used + cost > capacity) break;
    used += cost;
    i += unitLen;
  }
  return i;
}

/** True for combining marks Gammu refuses to separate from their base character. */
function isCombining(u: number): boolean {
  return (
    (u >= 0x0300 && u <= 0x036f) ||
    (u >= 0x1ab0 && u <= 0x1aff) ||
    (u >= 0x1dc0 && u <= 0x1dff) ||
    (u >= 0x20d0 && u <= 0x20ff) ||
    (u >= 0xfe20 && u <= 0xfe2f)
  );
}

function isRegionalIndicatorPair(text: string, i: number): boolean {
  return (
    text.charCodeAt(i) === 0xd83c && text.charCodeAt(i + 1) >= 0xdde6 && text.charCodeAt(i + 1) <= 0xddff
  );
}

/** Gammu's AlignSegmentForContent: keep surrogate pairs, combining sequences and flag pairs whole. */
function ucs2Cut(text: string, start: number, capacity: number): number {
  let end = Math.min(text.length, start + capacity);
  if (end >= text.length) return end;
  let copy = end - start;
  if (copy > 1 && isLead(text.charCodeAt(end - 1))) {
    copy--;
  } else if (copy > 1 && isCombining(text.charCodeAt(end))) {
    copy--;
  }
  end = start + copy;
  if (
    copy > 2 &&
    end + 2 <= text.length &&
    isRegionalIndicatorPair(text, end - 2) &&
    isRegionalIndicatorPair(text, end)
  ) {
    end -= 2;
  }
  return end;
}

function cut(text: string, coding: TextCoding, start: number, capacity: number): number {
  return coding === 'gsm7' ? gsm7Cut(text, start, capacity) : ucs2Cut(text, start, capacity);
}

function length(text: string, coding: TextCoding): number {
  return coding === 'gsm7' ? gsm7Septets(text) : text.length;
}

/** The longest prefix that fits one message without UDH (160 septets / 70 code units). */
export function truncateToSingle(text: string, coding: TextCoding): string {
  const end = coding === 'ucs2' ? ucs2CutNoSplit(text, 70) : gsm7Cut(text, 0, partCapacity('gsm7', 'none'));
  return text.slice(0, end);
}

/** Truncation only needs to keep a surrogate pair whole. */
function ucs2CutNoSplit(text: string, capacity: number): number {
  if (text.length <= capacity) return text.length;
  return isLead(text.charCodeAt(capacity - 1)) ? capacity - 1 : capacity;
}

/**
 * Splits text like gammu-smsd-inject: a text that fits one message stays one part (no UDH);
 * otherwise parts of 153/152 septets or 67/66 code units, never splitting an escape pair or a
 * surrogate pair. With concat 'none' the text is truncated to one message.
 */
export function splitText(text: string, options: SplitOptions = {}): SplitResult {
  const requested = options.coding ?? 'auto';
  const concat = options.concat ?? '8bit';
  const coding = requested === 'auto' ? chooseCoding(text) : requested;
  if (concat === 'none') return { coding, parts: [truncateToSingle(text, coding)] };
  if (length(text, coding) <= partCapacity(coding, 'none')) return { coding, parts: [text] };
  const capacity = partCapacity(coding, concat);
  const parts: string[] = [];
  let start = 0;
  while (start < text.length) {
    const end = cut(text, coding, start, capacity);
    parts.push(text.slice(start, end));
    start = end;
    if (parts.length > MAX_PARTS) throw new PduError('BAD_LENGTH', `text needs more than ${MAX_PARTS} parts`);
  }
  return { coding, parts };
}

/** Splits 8-bit data: 140 octets single, else 134 (8-bit ref) / 133 (16-bit ref) per part. */
export function splitData(data: Uint8Array, concat: ConcatMode = '8bit'): Buffer[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (concat === 'none' || buf.length <= partCapacity('8bit', 'none')) {
    return [Buffer.from(buf.subarray(0, partCapacity('8bit', 'none')))];
  }
  const capacity = partCapacity('8bit', concat);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += capacity) parts.push(Buffer.from(buf.subarray(i, i + capacity)));
  if (parts.length > MAX_PARTS) throw new PduError('BAD_LENGTH', `data needs more than ${MAX_PARTS} parts`);
  return parts;
}

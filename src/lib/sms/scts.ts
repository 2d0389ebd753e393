import { PduError } from './errors.js';
import type { ByteReader } from './reader.js';

/** Wall-clock fields as written in the time stamp (the sender's local time). */
export interface SctsLocal {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** A decoded TP-SCTS / TP-DT / absolute TP-VP (23.040 9.2.3.11). */
export interface Scts {
  /** The UTC instant (local time minus the zone offset). */
  date: Date;
  /** Offset of `local` from UTC, in minutes (a multiple of 15). */
  tzMinutes: number;
  local: SctsLocal;
}

export const SCTS_LENGTH = 7;

/** Two-digit years: 90..99 are 199x, 00..89 are 20xx (the split Gammu intends). */
function fullYear(yy: number): number {
  return yy >= 90 ? 1900 + yy : 2000 + yy;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function swappedBcd(b: number, field: string, offset: number): number {
  const tens = b & 0x0f;
  const units = b >> 4;
  if (tens > 9 || units > 9) {
    throw new PduError('BAD_TIMESTAMP', `${field} octet 0x${b.toString(16)} is not two BCD digits`, offset);
  }
  return tens * 10 + units;
}

/** Decodes 7 semi-octet-swapped octets; bad digits or impossible dates -> BAD_TIMESTAMP. */
export function decodeScts(buf: Uint8Array, offset = 0): Scts {
  if (buf.length < offset + SCTS_LENGTH) {
    throw new PduError('TRUNCATED', 'time stamp needs 7 octets', offset);
  }
  const at = (i: number): number => buf[offset + i] ?? 0;
  const names = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;
  const v = names.map((n, i) => swappedBcd(at(i), n, offset + i));
  const [yy = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = v;
  const year = fullYear(yy);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new PduError('BAD_TIMESTAMP', `impossible date ${year}-${month}-${day}`, offset);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    throw new PduError('BAD_TIMESTAMP', `impossible time ${hour}:${minute}:${second}`, offset + 3);
  }
  // Zone: quarters of an hour; the tens digit is 3 bits, bit 3 of that semi-octet is the sign.
  const tz = at(6);
  const tzUnits = tz >> 4;
  if (tzUnits > 9) {
    throw new PduError('BAD_TIMESTAMP', `time zone octet 0x${tz.toString(16)} is not BCD`, offset + 6);
  }
  const quarters = (tz & 0x07) * 10 + tzUnits;
  const tzMinutes = quarters === 0 ? 0 : (tz & 0x08 ? -quarters : quarters) * 15;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second) - tzMinutes * 60_000);
  return { date, tzMinutes, local: { year, month, day, hour, minute, second } };
}

function bcd(n: number): number {
  return ((n % 10) << 4) | Math.floor(n / 10);
}

/**
 * Encodes `date` as seen in a zone `tzMinutes` east of UTC (a multiple of 15, |tz| <= 79
 * quarters). The emulator uses it for DELIVER and STATUS-REPORT PDUs.
 */
export function encodeScts(date: Date, tzMinutes = 0): Buffer {
  if (Number.isNaN(date.getTime())) throw new PduError('BAD_TIMESTAMP', 'invalid Date');
  if (!Number.isInteger(tzMinutes) || tzMinutes % 15 !== 0 || Math.abs(tzMinutes / 15) > 79) {
    throw new PduError(
      'BAD_TIMESTAMP',
      `time zone must be a multiple of 15 minutes within ±19:45, got ${tzMinutes}`,
    );
  }
  const local = new Date(date.getTime() + tzMinutes * 60_000);
  const year = local.getUTCFullYear();
  if (year < 1990 || year > 2089) throw new PduError('BAD_TIMESTAMP', `year ${year} outside 1990..2089`);
  const quarters = Math.abs(tzMinutes / 15);
  const tz = ((quarters % 10) << 4) | Math.floor(quarters / 10) | (tzMinutes < 0 ? 0x08 : 0);
  return Buffer.from([
    bcd(year % 100),
    bcd(local.getUTCMonth() + 1),
    bcd(local.getUTCDate()),
    bcd(local.getUTCHours()),
    bcd(local.getUTCMinutes()),
    bcd(local.getUTCSeconds()),
    tz,
  ]);
}

/** @internal Reads a time stamp at the reader's position; error offsets are absolute. */
export function readScts(r: ByteReader, what: string): Scts {
  const start = r.pos;
  r.bytes(SCTS_LENGTH, what);
  return decodeScts(r.buf, start);
}
